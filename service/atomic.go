package service

import (
	"context"

	"github.com/ordo-fsm/ordo"
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
