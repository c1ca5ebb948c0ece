package auth_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/admin"
	"github.com/ordo-fsm/ordo/auth"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/sqlstore"
)

func throttleDB(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db := testenv.OpenDB(t, dsn)
	if _, err := admin.CreateTenant(context.Background(), db, service.New(db, db.Registry()), "ACME", "", "api", "secret"); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestLoginThrottling: failed logins are counted per user of a tenant and
// per client address in a sliding window; past the limits attempts are
// refused with TooManyRequests and a Retry-After before any verification,
// the right password from a clean address still works, and the window
// slides: once the failures age out, attempts are verified again.
func TestLoginThrottling(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := throttleDB(t, dsn)
		var logs bytes.Buffer
		a := auth.New(db)
		const window = 400 * time.Millisecond
		a.SetLimits(auth.Limits{Window: window, MaxFailuresPerUser: 3, MaxFailuresPerAddress: 5,
			Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		try := func(cred, addr string) error {
			_, err := a.AuthenticateFrom(ctx, basic(cred), addr)
			return err
		}
		for i := 0; i < 3; i++ {
			if err := try("api:wrong@ACME", "10.0.0.1"); !ordo.IsCode(err, ordo.EUnauthorized) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		for _, cred := range []string{"api:wrong@ACME", "api:secret@ACME", "api:wrong@acme"} {
			err := try(cred, "10.0.0.1")
			var oe *ordo.Error
			if !ordo.IsCode(err, ordo.ETooMany) || !errorAs(err, &oe) || oe.RetryAfter <= 0 || oe.RetryAfter > window {
				t.Fatalf("%s from the failing address after 3 failures: %v", cred, err)
			}
		}
		// Another address with a clean record: the right password works.
		if err := try("api:secret@ACME", "10.0.0.2"); err != nil {
			t.Fatalf("right password from another address: %v", err)
		}
		// The success cleared the user's count; the cache now answers
		// that credential without throttling, from any address.
		if err := try("api:secret@ACME", "10.0.0.1"); err != nil {
			t.Fatalf("verified credentials from the failing address: %v", err)
		}

		// Per address: 5 failures over different (unknown) users.
		for i, u := range []string{"a", "b", "c", "d", "e"} {
			if err := try(u+":x@ACME", "10.0.0.3"); !ordo.IsCode(err, ordo.EUnauthorized) {
				t.Fatalf("address failure %d: %v", i+1, err)
			}
		}
		if err := try("f:x@ACME", "10.0.0.3"); !ordo.IsCode(err, ordo.ETooMany) {
			t.Fatalf("sixth user from the same address: %v", err)
		}
		if err := try("f:x@ACME", "10.0.0.4"); !ordo.IsCode(err, ordo.EUnauthorized) {
			t.Fatalf("same user from another address: %v", err)
		}

		time.Sleep(window + 50*time.Millisecond)
		if err := try("g:x@ACME", "10.0.0.3"); !ordo.IsCode(err, ordo.EUnauthorized) {
			t.Fatalf("after the window slid: %v", err)
		}
		if !strings.Contains(logs.String(), `"login_throttled_total"`) {
			t.Fatalf("no throttling counter in the logs: %s", logs.String())
		}
	})
}

func errorAs(err error, target **ordo.Error) bool {
	oe, ok := err.(*ordo.Error)
	*target = oe
	return ok
}

// TestVerificationsBounded: with one verification slot, a second login
// waits for the first's bcrypt work instead of running beside it; when its
// request ends first it gives up with ServiceUnavailable, never a 401.
func TestVerificationsBounded(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := throttleDB(t, dsn)
		saved := auth.Cost
		auth.Cost = 11 // a verification that takes a noticeable time
		_, err := admin.SetPassword(ctx, db, "ACME", "slow", "slow-password")
		auth.Cost = saved
		if err != nil {
			t.Fatal(err)
		}
		a := auth.New(db)
		a.SetLimits(auth.Limits{MaxVerifications: 1})
		var wg sync.WaitGroup
		wg.Add(1)
		started := make(chan struct{})
		go func() {
			defer wg.Done()
			close(started)
			a.AuthenticateFrom(ctx, basic("slow:wrong@ACME"), "10.0.0.1")
		}()
		<-started
		time.Sleep(20 * time.Millisecond) // let the slow verification take the slot
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err = a.AuthenticateFrom(short, basic("api:wrong@ACME"), "10.0.0.2")
		if !ordo.IsCode(err, ordo.EUnavailable) {
			t.Fatalf("second verification while the slot is taken: %v", err)
		}
		wg.Wait()
		if _, err := a.AuthenticateFrom(ctx, basic("api:secret@ACME"), "10.0.0.2"); err != nil {
			t.Fatalf("after the slot is free: %v", err)
		}
	})
}

// A change to any credential makes cached logins check their stored hash
// again, not verify their password again: a client verified before keeps
// working while its user name is throttled for failures from its own
// address (the same ERP host, a NAT), even when the change's notification
// arrives in the middle of the flood.
func TestCredentialChangeKeepsVerifiedClients(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := throttleDB(t, dsn)
		a := auth.New(db)
		a.SetLimits(auth.Limits{Window: time.Minute, MaxFailuresPerUser: 3, MaxFailuresPerAddress: 100})
		const host = "10.0.0.1"
		if _, err := a.AuthenticateFrom(ctx, basic("api:secret@ACME"), host); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			a.AuthenticateFrom(ctx, basic("api:wrong@ACME"), host)
		}
		if _, err := a.AuthenticateFrom(ctx, basic("api:wrong@ACME"), host); !ordo.IsCode(err, ordo.ETooMany) {
			t.Fatalf("after 3 failures: %v, want TooManyRequests", err)
		}
		if _, err := a.AuthenticateFrom(ctx, basic("api:secret@ACME"), host); err != nil {
			t.Fatalf("the verified client during the flood: %v", err)
		}
		// Another user's password changes (through this process: its
		// watchers hear of it at once).
		if _, err := admin.SetPassword(ctx, db, "ACME", "other", "changed"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.AuthenticateFrom(ctx, basic("api:secret@ACME"), host); err != nil {
			t.Fatalf("the verified client after a change elsewhere: %v", err)
		}
		// Its own password changes: the cached login no longer holds.
		if _, err := admin.SetPassword(ctx, db, "ACME", "api", "renewed"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.AuthenticateFrom(ctx, basic("api:secret@ACME"), host); err == nil {
			t.Fatal("the old password still works after it changed")
		}
	})
}
