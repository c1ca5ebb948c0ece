package sqlstore_test

import (
	"context"
	"sort"
	"testing"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/schema"
)

// A joined call that fails is rolled back to its savepoint, and so are the
// change-log entries it noted: the log names only what was committed.
func TestFailedJoinedCallLeavesNoChangeEntry(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testenv.OpenDB(t, dsn)
		tenant, err := db.CreateTenant(ctx, "acme", "Acme", nil)
		if err != nil {
			t.Fatal(err)
		}
		jobType := schema.Default.MustEntity("job_type")
		kept, dropped := "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
		err = db.Write(ctx, tenant.ID, func(tx ordo.Tx) error {
			joined := ordo.WithTx(ctx, tx)
			if err := db.Write(joined, tenant.ID, func(tx ordo.Tx) error {
				return tx.Insert(ctx, jobType, ordo.Record{"id": kept, "code": "A", "name": "A"})
			}); err != nil {
				return err
			}
			err := db.Write(joined, tenant.ID, func(tx ordo.Tx) error {
				if err := tx.Insert(ctx, jobType, ordo.Record{"id": dropped, "code": "B", "name": "B"}); err != nil {
					return err
				}
				return ordo.Errorf(ordo.EInvalid, "refused after the insert")
			})
			if err == nil {
				t.Fatalf("the failing call succeeded")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := testenv.RawDB(t, dsn).Query("SELECT entity_id FROM ordo_change WHERE entity = 'job_type'")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		sort.Strings(ids)
		if len(ids) != 1 || ids[0] != kept {
			t.Fatalf("change log holds job types %v, want only %s", ids, kept)
		}
	})
}
