package service_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/admin"
	"github.com/ordo-fsm/ordo/demo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// countingStore counts the list queries of the transactions it opens.
type countingStore struct {
	db    *sqlstore.DB
	lists atomic.Int64
	finds atomic.Int64
}

type countingTx struct {
	ordo.Tx
	s *countingStore
}

func (c countingTx) List(ctx context.Context, e *schema.Entity, q ordo.Query) ([]ordo.Record, error) {
	c.s.lists.Add(1)
	return c.Tx.List(ctx, e, q)
}

func (c countingTx) Find(ctx context.Context, e *schema.Entity, conds ...ordo.Cond) (ordo.Record, error) {
	c.s.finds.Add(1)
	return c.Tx.Find(ctx, e, conds...)
}

func (s *countingStore) Read(ctx context.Context, tenant int64, fn func(ordo.Tx) error) error {
	return s.db.Read(ctx, tenant, func(tx ordo.Tx) error { return fn(countingTx{tx, s}) })
}

func (s *countingStore) Write(ctx context.Context, tenant int64, fn func(ordo.Tx) error) error {
	return s.db.Write(ctx, tenant, func(tx ordo.Tx) error { return fn(countingTx{tx, s}) })
}

func (s *countingStore) Touch(ctx context.Context, tenant int64, t *ordo.CheckedTouch) (ordo.TouchOutcome, error) {
	return s.db.Touch(ctx, tenant, t)
}

// TestODataExpandQueriesPerLevel: $expand reads one query per navigation
// and level for a whole page, whatever the number of rows, and nested
// $top applies per parent.
func TestODataExpandQueriesPerLevel(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testenv.OpenDB(t, dsn)
		plain := service.New(db, db.Registry())
		tn, err := admin.CreateTenant(ctx, db, plain, "DEMO", "Demo", "api", "secret")
		if err != nil {
			t.Fatal(err)
		}
		if err := demo.Generate(ctx, plain, tn.ID, demo.Options{Jobs: 300, Now: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		store := &countingStore{db: db}
		svc := service.New(store, db.Registry())
		jobs := db.Registry().MustEntity("jobs")
		for _, tc := range []struct {
			query string
			lists int64 // page + one per navigation and level (+ owned lists)
		}{
			{"$select=name", 1},
			{"$select=name&$expand=project", 2},
			{"$select=name&$expand=project($select=name;$expand=company($select=code),equipment_model),job_planning($expand=user($select=code))", 7}, // with the models' translations
			{"$select=name&$expand=job_planning($top=1;$orderby=date_from desc),skill,job_type", 4},
			// every field: the models' translations are an owned list, read once too
			{"$expand=project($expand=equipment_model)", 4},
		} {
			q, err := odata.ParseRawQuery(jobs, tc.query, odata.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			store.lists.Store(0)
			page, err := svc.Query(ctx, tn.ID, service.QueryRequest{Query: q, Size: 100})
			if err != nil {
				t.Fatalf("%s: %v", tc.query, err)
			}
			if len(page.Rows) != 100 || !page.More {
				t.Fatalf("%s: %d rows", tc.query, len(page.Rows))
			}
			if n := store.lists.Load(); n != tc.lists {
				t.Errorf("%s: %d list queries for 100 rows, want %d", tc.query, n, tc.lists)
			}
			for _, r := range page.Rows {
				if plans, ok := r["job_planning"].([]ordo.Record); ok && q.Expand[0].HasTop && len(plans) > 1 {
					t.Errorf("%s: %d plannings under $top=1", tc.query, len(plans))
				}
			}
		}
	})
}
