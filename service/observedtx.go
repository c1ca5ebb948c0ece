package service

import (
	"context"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// txObserver learns what a transaction read and wrote through observedTx:
// the import's per-row tracking (batch.go) and the recording of re-sent
// PUTs (resend_tx.go) are both observers.
type txObserver interface {
	// rows: a read answered with rows (q holds its conditions; ForUpdate
	// for GetForUpdate).
	rows(e *schema.Entity, q ordo.Query, rows []ordo.Record, err error)
	// other: a read answered with something else (a count, a date,
	// aggregates, versions).
	other(err error)
	// wrote: a statement that writes.
	wrote(err error)
}

// observedTx passes every call to Tx and tells obs about it.
type observedTx struct {
	ordo.Tx
	obs txObserver
}

var _ ordo.Tx = (*observedTx)(nil)

func (t *observedTx) one(e *schema.Entity, q ordo.Query, r ordo.Record, err error) (ordo.Record, error) {
	var rows []ordo.Record
	if r != nil {
		rows = []ordo.Record{r}
	}
	t.obs.rows(e, q, rows, err)
	return r, err
}

func byID(id string) []ordo.Cond { return []ordo.Cond{{Field: "id", Value: id}} }

func (t *observedTx) GetForUpdate(ctx context.Context, e *schema.Entity, id string) (ordo.Record, error) {
	r, err := t.Tx.GetForUpdate(ctx, e, id)
	return t.one(e, ordo.Query{Conds: byID(id), ForUpdate: true}, r, err)
}

func (t *observedTx) Get(ctx context.Context, e *schema.Entity, id string) (ordo.Record, error) {
	r, err := t.Tx.Get(ctx, e, id)
	return t.one(e, ordo.Query{Conds: byID(id)}, r, err)
}

func (t *observedTx) Find(ctx context.Context, e *schema.Entity, conds ...ordo.Cond) (ordo.Record, error) {
	r, err := t.Tx.Find(ctx, e, conds...)
	return t.one(e, ordo.Query{Conds: conds}, r, err)
}

func (t *observedTx) List(ctx context.Context, e *schema.Entity, q ordo.Query) ([]ordo.Record, error) {
	rows, err := t.Tx.List(ctx, e, q)
	t.obs.rows(e, q, rows, err)
	return rows, err
}

func (t *observedTx) ListMany(ctx context.Context, qs []ordo.EntityQuery) ([][]ordo.Record, error) {
	found, err := t.Tx.ListMany(ctx, qs)
	if err != nil {
		t.obs.other(err)
		return found, err
	}
	for i, eq := range qs {
		t.obs.rows(eq.Entity, eq.Query, found[i], nil)
	}
	return found, nil
}

func (t *observedTx) Count(ctx context.Context, e *schema.Entity, q ordo.Query) (int64, error) {
	n, err := t.Tx.Count(ctx, e, q)
	t.obs.other(err)
	return n, err
}

func (t *observedTx) ProjectStats(ctx context.Context, projectID string) (ordo.ProjectStats, error) {
	st, err := t.Tx.ProjectStats(ctx, projectID)
	t.obs.other(err)
	return st, err
}

func (t *observedTx) EarliestPlanning(ctx context.Context, jobID string) (time.Time, error) {
	d, err := t.Tx.EarliestPlanning(ctx, jobID)
	t.obs.other(err)
	return d, err
}

func (t *observedTx) Aggregate(ctx context.Context, e *schema.Entity, q ordo.Aggregation) ([][]any, error) {
	r, err := t.Tx.Aggregate(ctx, e, q)
	t.obs.other(err)
	return r, err
}

func (t *observedTx) Insert(ctx context.Context, e *schema.Entity, r ordo.Record) error {
	err := t.Tx.Insert(ctx, e, r)
	t.obs.wrote(err)
	return err
}

func (t *observedTx) Update(ctx context.Context, e *schema.Entity, id string, changes ordo.Record) error {
	err := t.Tx.Update(ctx, e, id, changes)
	t.obs.wrote(err)
	return err
}

func (t *observedTx) UpdateWhere(ctx context.Context, e *schema.Entity, changes ordo.Record, conds ...ordo.Cond) (int64, error) {
	n, err := t.Tx.UpdateWhere(ctx, e, changes, conds...)
	t.obs.wrote(err)
	return n, err
}

func (t *observedTx) Delete(ctx context.Context, e *schema.Entity, id string) error {
	err := t.Tx.Delete(ctx, e, id)
	t.obs.wrote(err)
	return err
}

func (t *observedTx) DeleteWhere(ctx context.Context, e *schema.Entity, conds ...ordo.Cond) (int64, error) {
	n, err := t.Tx.DeleteWhere(ctx, e, conds...)
	t.obs.wrote(err)
	return n, err
}

func (t *observedTx) NextID2(ctx context.Context, e *schema.Entity) (int64, error) {
	n, err := t.Tx.NextID2(ctx, e)
	t.obs.wrote(err)
	return n, err
}
