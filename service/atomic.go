package service

import (
	"context"
	"errors"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// Atomic runs fn in one write transaction of tenant: every service call fn
// makes with the context it is given joins that transaction under a
// savepoint of its own (ordo.WithTx), and everything commits when fn returns
// nil. A $batch atomicity group, an import batch and a request with its
// Idempotency-Key record are each one Atomic call.
func (s *Service) Atomic(ctx context.Context, tenant int64, fn func(ctx context.Context, tx ordo.Tx) error) error {
	return s.store.Write(ctx, tenant, func(tx ordo.Tx) error {
		if err := fn(ordo.WithTx(ctx, tx), tx); err != nil {
			return err
		}
		if jt, ok := tx.(ordo.JoinableTx); ok && jt.Failed() != nil {
			return jt.Failed() // the store retries the whole transaction or reports it
		}
		return nil
	})
}

// UpsertMany writes rows from bodies the way an embedded object is written:
// found by id, ERP key or x_id a row is updated, otherwise inserted, so
// writing the same bodies again changes nothing. It runs in one transaction
// (ctx's, when it carries one), each row under a savepoint of its own: the
// returned slice holds each row's error (nil when written), and a failed row
// leaves no trace. The rows are not read back. The import command runs on it.
//
// The rules are the API's, except that an imported job may carry any status
// the workflow allows, keeps its date_closed, and gets no automatic planning
// nor status change from its plannings (exported data already holds their
// results); system statuses may be sent back unchanged.
func (s *Service) UpsertMany(ctx context.Context, tenant int64, e *schema.Entity, bodies []map[string]any) ([]error, error) {
	errs := make([]error, len(bodies))
	err := s.store.Write(ctx, tenant, func(tx ordo.Tx) error {
		clear(errs) // a retried transaction starts over
		joined := ordo.WithTx(ctx, tx)
		for i, body := range bodies {
			// A writer per row: a failed row takes its cached rows and
			// aggregate deltas with it when its savepoint is rolled back.
			errs[i] = s.store.Write(joined, tenant, func(ordo.Tx) error {
				w := s.newWriter(ctx, tx)
				w.importing, w.technician = true, true
				if _, err := w.save(e, body, modeUpsert, "", ""); err != nil {
					return err
				}
				return w.finish()
			})
			var oe *ordo.Error
			if errs[i] != nil && !errors.As(errs[i], &oe) {
				return errs[i]
			}
		}
		if jt, ok := tx.(ordo.JoinableTx); ok && jt.Failed() != nil {
			return jt.Failed()
		}
		return nil
	})
	return errs, err
}
