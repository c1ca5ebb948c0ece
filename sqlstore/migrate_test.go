package sqlstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// TestUpgradeFromOlderSchema simulates a database made by an older build (a
// table, a column and an index missing) and checks that opening it upgrades
// the schema in place without losing a row.
func TestUpgradeFromOlderSchema(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testenv.OpenDB(t, dsn)
		tenant, err := db.CreateTenant(ctx, "acme", "Acme", nil)
		if err != nil {
			t.Fatal(err)
		}
		jobType := schema.Default.MustEntity("job_type")
		err = db.Write(ctx, tenant.ID, func(tx ordo.Tx) error {
			for i, code := range []string{"A", "B", "C"} {
				id := []string{"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"}[i]
				if err := tx.Insert(ctx, jobType, ordo.Record{"id": id, "code": code, "name": "Type " + code}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()

		raw := testenv.RawDB(t, dsn)
		for _, stmt := range []string{
			`DROP INDEX ix_job_type_modified_dateutc`,
			`ALTER TABLE job_type DROP COLUMN archived`,
			`DROP TABLE user_unavailability`,
		} {
			if _, err := raw.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}

		db = testenv.OpenDB(t, dsn) // migrates
		var rows []ordo.Record
		err = db.Read(ctx, tenant.ID, func(tx ordo.Tx) error {
			var err error
			rows, err = tx.List(ctx, jobType, ordo.Query{OrderBy: []ordo.Order{{Field: "code"}}})
			if err != nil {
				return err
			}
			_, err = tx.List(ctx, schema.Default.MustEntity("user_unavailability"), ordo.Query{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || rows[0].String("name") != "Type A" || rows[2].String("code") != "C" {
			t.Fatalf("rows after upgrade: %v", rows)
		}
		if rows[1]["archived"] != false {
			t.Errorf("re-added column archived = %v, want its default false", rows[1]["archived"])
		}
		if v, err := db.SchemaVersion(ctx); err != nil || v < 1 {
			t.Errorf("schema version %d, %v", v, err)
		}
	})
}

// TestConcurrentMigrate: several nodes starting at once on one database all
// succeed; one migrates, the others find nothing to do.
func TestConcurrentMigrate(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, err := sqlstore.Open(ctx, dsn, sqlstore.Options{Logger: testenv.Quiet})
				if err != nil {
					errs <- err
					return
				}
				defer db.Close()
				errs <- db.Migrate(ctx)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
}
