package auth_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/admin"
	"github.com/ordo-fsm/ordo/auth"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/service"
)

func basic(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseBasic(t *testing.T) {
	cases := []struct {
		cred                   string
		user, password, domain string
		ok                     bool
	}{
		{"api:secret@ACME", "api", "secret", "ACME", true},
		// E-mail user names: the domain follows the LAST @, the password the FIRST colon.
		{"jane@acme.example:pa:ss@word@ACME", "jane@acme.example", "pa:ss@word", "ACME", true},
		{"api:@ACME", "api", "", "ACME", true},
		{"api:secret", "", "", "", false},
		{"apisecret@ACME", "", "", "", false},
		{":secret@ACME", "", "", "", false},
		{"api:secret@", "", "", "", false},
		// Text no credential can hold, and a domain with spaces around it.
		{"api:sec\x00ret@ACME", "", "", "", false},
		{"api:secret@ACME\x00", "", "", "", false},
		{"a\xffpi:secret@ACME", "", "", "", false},
		{"api:secret@ ACME", "", "", "", false},
		{"api:secret@ACME\t", "", "", "", false},
		{"api: secret @ACME", "api", " secret ", "ACME", true}, // a password may have spaces
	}
	for _, c := range cases {
		u, p, d, ok := auth.ParseBasic(basic(c.cred))
		if ok != c.ok || u != c.user || p != c.password || d != c.domain {
			t.Errorf("ParseBasic(%q) = %q %q %q %v, want %q %q %q %v", c.cred, u, p, d, ok, c.user, c.password, c.domain, c.ok)
		}
	}
	for _, h := range []string{"", "Bearer x", "Basic !!!"} {
		if _, _, _, ok := auth.ParseBasic(h); ok {
			t.Errorf("ParseBasic(%q) accepted", h)
		}
	}
}

// TestCacheFollowsPasswordChanges: a cached login stops working as soon as the
// password changes, also through another Authenticator (another node).
func TestCacheFollowsPasswordChanges(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testenv.OpenDB(t, dsn)
		svc := service.New(db, db.Registry())
		if _, err := admin.CreateTenant(ctx, db, svc, "Acme", "", "jane@acme.example", "old:pass"); err != nil {
			t.Fatal(err)
		}
		nodeA, nodeB := auth.New(db), auth.New(db)
		old := basic("jane@acme.example:old:pass@acme") // domains match case-insensitively
		for _, a := range []*auth.Authenticator{nodeA, nodeB, nodeA} {
			p, err := a.Authenticate(ctx, old)
			if err != nil || p.Username != "jane@acme.example" || p.Domain != "Acme" { // the case it was created with
				t.Fatalf("Authenticate = %+v, %v", p, err)
			}
		}
		if _, err := admin.SetPassword(ctx, db, "ACME", "jane@acme.example", "new"); err != nil {
			t.Fatal(err)
		}
		for _, a := range []*auth.Authenticator{nodeA, nodeB} {
			if _, err := a.Authenticate(ctx, old); !ordo.IsCode(err, ordo.EUnauthorized) {
				t.Errorf("old password after a change: %v, want Unauthorized", err)
			}
			if _, err := a.Authenticate(ctx, basic("jane@acme.example:new@ACME")); err != nil {
				t.Errorf("new password: %v", err)
			}
		}
		if _, err := nodeA.Authenticate(ctx, basic("jane@acme.example:new@OTHER")); !ordo.IsCode(err, ordo.EUnauthorized) {
			t.Errorf("right password, wrong tenant: %v", err)
		}
	})
}

// TestPasswordsAreHashed: the stored value is a bcrypt hash, never the password.
func TestPasswordsAreHashed(t *testing.T) {
	h, err := auth.HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if h == "s3cret" || len(h) < 50 || h[:4] != "$2a$" {
		t.Errorf("hash %q is not a bcrypt hash", h)
	}
	if _, err := auth.HashPassword(""); err == nil {
		t.Error("empty password accepted")
	}
}

func BenchmarkAuthenticateCached(b *testing.B) {
	ctx := context.Background()
	db := testenv.OpenDB(b, testenv.SQLite(b))
	svc := service.New(db, db.Registry())
	if _, err := admin.CreateTenant(ctx, db, svc, "acme", "", "api", "pw"); err != nil {
		b.Fatal(err)
	}
	a := auth.New(db)
	h := basic("api:pw@acme")
	for b.Loop() {
		if _, err := a.Authenticate(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
}

// TestChangeByAnotherToolReachesTheCache: a credential changed outside Ordo
// (plain SQL on another connection) stops working on a node that had it
// cached: on SQLite at the next request (a cache hit re-reads the hash), on
// PostgreSQL as soon as the credential table's notification arrives.
func TestChangeByAnotherToolReachesTheCache(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := throttleDB(t, dsn)
		node := auth.New(testenv.OpenDB(t, dsn)) // its own connections, as another node
		cred := basic("api:secret@ACME")
		if _, err := node.Authenticate(ctx, cred); err != nil {
			t.Fatal(err)
		}
		if db.Dialect().Name() == "postgres" {
			waitWatching(t, node)
		}
		if _, err := testenv.RawDB(t, dsn).ExecContext(ctx, "UPDATE credential SET password_hash = 'revoked'"); err != nil {
			t.Fatal(err)
		}
		t.Logf("refused %v after the change", waitRefused(t, node, cred).Round(time.Millisecond))
	})
}

// TestLostListenerMissesNoChange: when a node's credential listener loses
// its connection, a change made meanwhile (whose notification it cannot
// receive) still stops the old password: the node re-reads while it is not
// listening, and entries checked before it listens again are checked once
// more.
func TestLostListenerMissesNoChange(t *testing.T) {
	dsn := testenv.Postgres(t) // notifications exist on PostgreSQL only
	ctx := context.Background()
	throttleDB(t, dsn)
	node := auth.New(testenv.OpenDB(t, dsn))
	cred := basic("api:secret@ACME")
	waitWatching(t, node)
	if _, err := node.Authenticate(ctx, cred); err != nil { // cached, trusted while listening
		t.Fatal(err)
	}
	raw := testenv.RawDB(t, dsn)
	// Cut every credential listener of this database, then change the
	// password before they reconnect (they wait 100 ms).
	if _, err := raw.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN ordo_credential' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, "UPDATE credential SET password_hash = 'revoked'"); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, node, cred)
}

// waitWatching waits (at most 2 s) for node to listen for credential
// changes.
func waitWatching(t *testing.T, node *auth.Authenticator) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !node.Watching(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the node never listened for credential changes")
		}
	}
}

// waitRefused waits (at most 2 s) for node to refuse cred, a credential
// just changed, and returns how long that took.
func waitRefused(t *testing.T, node *auth.Authenticator, cred string) time.Duration {
	t.Helper()
	changed := time.Now()
	for {
		_, err := node.Authenticate(context.Background(), cred)
		if ordo.IsCode(err, ordo.EUnauthorized) {
			return time.Since(changed)
		}
		if err != nil || time.Since(changed) > 2*time.Second {
			t.Fatalf("%v after the change: %v, want Unauthorized", time.Since(changed), err)
		}
		time.Sleep(time.Millisecond)
	}
}
