package service

import (
	"context"

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

// Upsert writes a row from a body the way an embedded object is written:
// found by id, ERP key or x_id it is updated, otherwise inserted. The import
// command runs every row through it, so re-running a file changes nothing.
// The rules are the API's, except that an imported job may carry any status
// the workflow allows (exported data holds the statuses the field app set,
// and its date_closed), and system statuses may be sent back unchanged.
func (s *Service) Upsert(ctx context.Context, tenant int64, e *schema.Entity, body map[string]any) (ordo.Record, error) {
	return s.write(ctx, tenant, e, func(w *writer) (string, error) {
		w.importing, w.technician = true, true
		rec, err := w.save(e, body, modeUpsert, "", "")
		if err != nil {
			return "", err
		}
		return rec.ID(), nil
	})
}
