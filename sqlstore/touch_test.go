package sqlstore_test

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// Store.Touch writes the row and its change-log entry only when every read
// still returns the expected rows and the row holds the expected version;
// otherwise it writes nothing and says which check failed. On PostgreSQL it
// is one statement, on SQLite a transaction: both must agree.
func TestCheckedTouch(t *testing.T) {
	const (
		idA      = "11111111-1111-4111-8111-111111111111"
		idB      = "22222222-2222-4222-8222-222222222222"
		idTarget = "33333333-3333-4333-8333-333333333333"
		idOther  = "44444444-4444-4444-8444-444444444444"
	)
	jobType := schema.Default.MustEntity("job_type")
	byCode := ordo.EntityQuery{Entity: jobType, Query: ordo.Query{Conds: []ordo.Cond{{Field: "code", Value: []string{"A", "B", "D"}}}}}
	byTarget := ordo.EntityQuery{Entity: jobType, Query: ordo.Query{Conds: []ordo.Cond{{Field: "id", Value: idTarget}}}}

	cases := []struct {
		name string
		// before changes the rows after their versions were taken.
		before  func(ctx context.Context, tx ordo.Tx) error
		reads   []ordo.EntityQuery
		version func(target string) string // the version the touch expects
		want    ordo.TouchOutcome
	}{
		{name: "reads and version hold", reads: []ordo.EntityQuery{byCode}, want: ordo.Touched},
		{name: "no reads", want: ordo.Touched},
		{name: "the row itself read: its token is the version's business", reads: []ordo.EntityQuery{byCode, byTarget},
			before: func(ctx context.Context, tx ordo.Tx) error {
				return tx.Update(ctx, jobType, idTarget, ordo.Record{"name": "moved on"})
			},
			version: func(string) string { return "" }, // filled with the new version below
			want:    ordo.Touched},
		{name: "a read row changed", reads: []ordo.EntityQuery{byCode},
			before: func(ctx context.Context, tx ordo.Tx) error {
				return tx.Update(ctx, jobType, idB, ordo.Record{"name": "B2"})
			},
			want: ordo.ReadsDiffer},
		{name: "a read returns one row more", reads: []ordo.EntityQuery{byCode},
			before: func(ctx context.Context, tx ordo.Tx) error {
				return tx.Insert(ctx, jobType, ordo.Record{"id": idOther, "code": "D", "name": "D"})
			},
			want: ordo.ReadsDiffer},
		{name: "a read returns one row fewer", reads: []ordo.EntityQuery{byCode},
			before: func(ctx context.Context, tx ordo.Tx) error { return tx.Delete(ctx, jobType, idA) },
			want:   ordo.ReadsDiffer},
		{name: "the row holds another version", reads: []ordo.EntityQuery{byCode},
			version: func(string) string { return "not-its-version" },
			want:    ordo.VersionDiffers},
		{name: "the row is gone", reads: []ordo.EntityQuery{byCode},
			before: func(ctx context.Context, tx ordo.Tx) error { return tx.Delete(ctx, jobType, idTarget) },
			want:   ordo.VersionDiffers},
	}
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testenv.OpenDB(t, dsn)
		raw := testenv.RawDB(t, dsn)
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tenant, err := db.CreateTenant(ctx, "touch"+string(rune('a'+i)), "Touch", nil)
				if err != nil {
					t.Fatal(err)
				}
				// The rows, and what the reads return now.
				var expect [][]ordo.RowVersion
				var version string
				err = db.Write(ctx, tenant.ID, func(tx ordo.Tx) error {
					for _, r := range []ordo.Record{{"id": idA, "code": "A", "name": "A"}, {"id": idB, "code": "B", "name": "B"},
						{"id": idTarget, "code": "T", "name": "T"}} {
						if err := tx.Insert(ctx, jobType, r); err != nil {
							return err
						}
					}
					rec, err := tx.Get(ctx, jobType, idTarget)
					if err != nil {
						return err
					}
					version = rec.String(ordo.ETagKey)
					if expect, err = tx.(*sqlstore.Tx).RowVersions(ctx, c.reads); err != nil {
						return err
					}
					if c.before != nil {
						return c.before(ctx, tx)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, rows := range expect {
					for k := range rows {
						if rows[k].ID == idTarget {
							rows[k].Token = ""
						}
					}
				}
				if c.version != nil {
					if version = c.version(version); version == "" {
						err := db.Read(ctx, tenant.ID, func(tx ordo.Tx) error {
							rec, err := tx.Get(ctx, jobType, idTarget)
							version = rec.String(ordo.ETagKey)
							return err
						})
						if err != nil {
							t.Fatal(err)
						}
					}
				}
				changesBefore, statementsBefore := countChanges(t, raw, tenant.ID), db.Statements()
				var written string
				changes := ordo.Record{"name": "touched"}
				touch := &ordo.CheckedTouch{Entity: jobType, ID: idTarget, Changes: changes,
					Versions: func() []string { return []string{"another", version} },
					Reads:    c.reads, Expect: expect, Written: func() { written = changes.String(ordo.ETagKey) }}
				got, err := db.Touch(ctx, tenant.ID, touch)
				if err != nil {
					t.Fatal(err)
				}
				if n := db.Statements() - statementsBefore; strings.HasPrefix(dsn, "postgres") && n != 1 {
					t.Errorf("the touch ran %d statements on PostgreSQL, want 1", n)
				}
				if got != c.want {
					t.Fatalf("outcome %d, want %d", got, c.want)
				}
				var name, token string
				err = db.Read(ctx, tenant.ID, func(tx ordo.Tx) error {
					rec, err := tx.Find(ctx, jobType, ordo.Cond{Field: "id", Value: idTarget})
					name, token = rec.String("name"), rec.String(ordo.ETagKey)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				added := countChanges(t, raw, tenant.ID) - changesBefore
				if c.want == ordo.Touched {
					if name != "touched" || token == version || token != changes.String(ordo.ETagKey) || written != token {
						t.Fatalf("after the touch: name %q, token %q (was %q, reported %q, seen by Written %q)", name, token, version,
							changes.String(ordo.ETagKey), written)
					}
					if added != 1 {
						t.Fatalf("the touch added %d change-log entries, want 1", added)
					}
					return
				}
				if name == "touched" || written != "" || added != 0 {
					t.Fatalf("a refused touch wrote: name %q, Written(%q), %d change-log entries", name, written, added)
				}
			})
		}
	})
}

func countChanges(t *testing.T, raw *sql.DB, tenant int64) int {
	t.Helper()
	var n int
	if err := raw.QueryRow("SELECT count(*) FROM ordo_change WHERE tenant_id = " + strconv.FormatInt(tenant, 10)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The touch's asynchronous commit is its own transaction's: the pooled
// connection that ran it commits every later write synchronously again.
func TestTouchRelaxesOnlyItsOwnCommit(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	db := testenv.OpenDBWith(t, dsn, sqlstore.Options{MaxConns: 1}) // one connection: the touch's
	tenant, err := db.CreateTenant(ctx, "relaxed", "Relaxed", nil)
	if err != nil {
		t.Fatal(err)
	}
	jobType := schema.Default.MustEntity("job_type")
	const id = "11111111-1111-4111-8111-111111111111"
	var version string
	err = db.Write(ctx, tenant.ID, func(tx ordo.Tx) error {
		r := ordo.Record{"id": id, "code": "A", "name": "A"}
		err := tx.Insert(ctx, jobType, r)
		version = r.String(ordo.ETagKey)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Touch(ctx, tenant.ID, &ordo.CheckedTouch{Entity: jobType, ID: id, Changes: ordo.Record{"name": "touched"},
		Versions: func() []string { return []string{version} }})
	if err != nil || got != ordo.Touched {
		t.Fatalf("touch: %v, %v", got, err)
	}
	var setting string
	if err := db.WriterPool().QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&setting); err != nil {
		t.Fatal(err)
	}
	if setting != "on" {
		t.Fatalf("after a touch the connection commits with synchronous_commit %q, want on", setting)
	}
}
