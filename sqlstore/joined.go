package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/ordo-fsm/ordo"
)

// joined returns the transaction of this database that ctx carries
// (ordo.WithTx), if any.
func (db *DB) joined(ctx context.Context) *Tx {
	tx, _ := ordo.TxFrom(ctx).(*Tx)
	if tx == nil || tx.db != db || tx.tx == nil { // only a real transaction can be joined
		return nil
	}
	return tx
}

// Failed implements ordo.JoinableTx.
func (tx *Tx) Failed() error { return tx.failed }

// nested runs fn inside tx under a savepoint: when fn fails, its statements
// are undone and the transaction goes on. Errors that spoil the whole
// transaction (a serialization failure, a lost connection, a failed
// rollback) are kept in tx.failed for its owner, who must retry or give up.
func (tx *Tx) nested(ctx context.Context, tenantID int64, fn func(ordo.Tx) error) error {
	if tenantID != tx.tenant {
		return fmt.Errorf("sqlstore: a transaction of tenant %d cannot be joined by tenant %d", tx.tenant, tenantID)
	}
	if tx.failed != nil {
		return tx.db.mapError(tx.failed)
	}
	tx.savepoints++
	name := fmt.Sprintf("ordo_sp%d", tx.savepoints)
	if _, err := tx.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		tx.failed = err
		return tx.db.mapError(err)
	}
	mark := tx.markChanges()
	err := fn(tx)
	if err == nil {
		if _, err := tx.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
			tx.failed = err
			return tx.db.mapError(err)
		}
		return nil
	}
	tx.resetChanges(mark)
	if _, rbErr := tx.tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT "+name); rbErr != nil {
		tx.failed = errors.Join(err, rbErr)
		return tx.db.mapError(err)
	}
	var oe *ordo.Error
	if !errors.As(err, &oe) && (tx.db.dialect.IsRetryable(err) || tx.db.dialect.IsUnavailable(err) || ctx.Err() != nil) {
		tx.failed = err
	}
	if tx.db.dialect.IsRetryable(err) {
		return ordo.Errorf(ordo.EConflict, "the request conflicted with concurrent updates; retry it")
	}
	return tx.db.mapError(err)
}
