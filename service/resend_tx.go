package service

import (
	"context"
	"slices"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// recordingTx notes every read of a full-path PUT (entity, conditions and
// the rows returned) and counts its writes, so that a run that only touched
// the addressed row can be remembered (resend.go). Reads it could not repeat
// narrowly make the run unverifiable.
type recordingTx struct {
	ordo.Tx
	entity       *schema.Entity // the addressed row
	id           string
	reads        []recordedRead
	top          ordo.Record // the addressed row as first read (checked by its version, not by a read)
	writes       int
	unverifiable bool
}

type recordedRead struct {
	entity *schema.Entity
	query  ordo.Query
	rows   []ordo.RowVersion
	// closed: no row other than rows can come to match query, so checking
	// rows by id is checking the read.
	closed bool
}

func (t *recordingTx) note(e *schema.Entity, q ordo.Query, rows []ordo.Record) {
	if q.Filter != nil || q.Fields != nil || q.Offset != 0 {
		t.unverifiable = true
		return
	}
	versions := make([]ordo.RowVersion, len(rows))
	for i, r := range rows {
		tok, _ := r[ordo.ETagKey].(string)
		if tok == "" { // written by another tool: no version to compare
			t.unverifiable = true
		}
		versions[i] = ordo.RowVersion{ID: r.ID(), Token: tok}
	}
	t.reads = append(t.reads, recordedRead{entity: e, query: ordo.Query{Conds: q.Conds, AnyOf: q.AnyOf},
		rows: versions, closed: closedQuery(e, q, rows)})
}

// closedQuery reports whether no row outside rows can match q while rows
// stay as they are: one of its conditions (or each of its alternatives)
// names values of a unique field that rows already hold.
func closedQuery(e *schema.Entity, q ordo.Query, rows []ordo.Record) bool {
	for _, c := range q.Conds {
		if takenValues(e, c, rows) {
			return true
		}
	}
	if len(q.AnyOf) == 0 {
		return false
	}
	for _, c := range q.AnyOf {
		if !takenValues(e, c, rows) {
			return false
		}
	}
	return true
}

// takenValues: c is an equality (or IN list) on a unique field and every
// value it names is held by one of rows.
func takenValues(e *schema.Entity, c ordo.Cond, rows []ordo.Record) bool {
	f, ok := e.Field(c.Field)
	if !ok || !(f.Unique || c.Field == "id") {
		return false
	}
	values, isList := c.Value.([]string)
	if !isList {
		v, isString := c.Value.(string)
		if !isString {
			return false
		}
		values = []string{v}
	}
	for _, v := range values {
		if schema.IsZero(f.Kind, v) || !slices.ContainsFunc(rows, func(r ordo.Record) bool { return r.String(c.Field) == v }) {
			return false
		}
	}
	return true
}

func (t *recordingTx) noteRow(e *schema.Entity, rec ordo.Record, err error, conds ...ordo.Cond) {
	switch {
	case err != nil:
		t.unverifiable = true
	case rec == nil:
		t.note(e, ordo.Query{Conds: conds}, nil)
	default:
		t.note(e, ordo.Query{Conds: conds}, []ordo.Record{rec})
	}
}

// verifiable: every read can be repeated and the only write was the touch.
func (t *recordingTx) verifiable() bool {
	return !t.unverifiable && t.writes == 1 && t.top != nil
}

// entry is what a later request checks: the open reads as they were made,
// and the rows of the closed ones by id, one query per entity.
func (t *recordingTx) entry(touchDateUpdate bool) *resendEntry {
	var queries []ordo.EntityQuery
	var expected [][]ordo.RowVersion
	byEntity := map[*schema.Entity][]ordo.RowVersion{}
	var order []*schema.Entity
	for _, r := range t.reads {
		if !r.closed {
			queries = append(queries, ordo.EntityQuery{Entity: r.entity, Query: r.query})
			expected = append(expected, r.rows)
			continue
		}
		if _, seen := byEntity[r.entity]; !seen {
			order = append(order, r.entity)
		}
		for _, v := range r.rows {
			if !slices.ContainsFunc(byEntity[r.entity], func(o ordo.RowVersion) bool { return o.ID == v.ID }) {
				byEntity[r.entity] = append(byEntity[r.entity], v)
			}
		}
	}
	for _, e := range order {
		rows := byEntity[e]
		if len(rows) == 0 {
			continue
		}
		ids := make([]string, len(rows))
		for i, v := range rows {
			ids[i] = v.ID
		}
		queries = append(queries, ordo.EntityQuery{Entity: e, Query: ordo.Query{Conds: []ordo.Cond{{Field: "id", Value: ids}}}})
		expected = append(expected, rows)
	}
	return &resendEntry{entity: t.entity, id: t.id, reads: queries, touchDateUpdate: touchDateUpdate,
		fingerprint: fingerprint(expected, t.id)}
}

func (t *recordingTx) GetForUpdate(ctx context.Context, e *schema.Entity, id string) (ordo.Record, error) {
	rec, err := t.Tx.GetForUpdate(ctx, e, id)
	if e == t.entity && id == t.id && t.top == nil && err == nil {
		t.top = rec
		return rec, nil
	}
	t.noteRow(e, rec, err, ordo.Cond{Field: "id", Value: id})
	return rec, err
}

func (t *recordingTx) Get(ctx context.Context, e *schema.Entity, id string) (ordo.Record, error) {
	rec, err := t.Tx.Get(ctx, e, id)
	t.noteRow(e, rec, err, ordo.Cond{Field: "id", Value: id})
	return rec, err
}

func (t *recordingTx) Find(ctx context.Context, e *schema.Entity, conds ...ordo.Cond) (ordo.Record, error) {
	rec, err := t.Tx.Find(ctx, e, conds...)
	t.noteRow(e, rec, err, conds...)
	return rec, err
}

func (t *recordingTx) List(ctx context.Context, e *schema.Entity, q ordo.Query) ([]ordo.Record, error) {
	rows, err := t.Tx.List(ctx, e, q)
	if err != nil {
		t.unverifiable = true
		return rows, err
	}
	t.note(e, q, rows)
	return rows, err
}

func (t *recordingTx) ListMany(ctx context.Context, qs []ordo.EntityQuery) ([][]ordo.Record, error) {
	found, err := t.Tx.ListMany(ctx, qs)
	if err != nil {
		t.unverifiable = true
		return found, err
	}
	for i, eq := range qs {
		t.note(eq.Entity, eq.Query, found[i])
	}
	return found, err
}

// Reads whose answer is not a set of rows cannot be checked by versions.

func (t *recordingTx) Count(ctx context.Context, e *schema.Entity, q ordo.Query) (int64, error) {
	t.unverifiable = true
	return t.Tx.Count(ctx, e, q)
}

func (t *recordingTx) ProjectStats(ctx context.Context, projectID string) (ordo.ProjectStats, error) {
	t.unverifiable = true
	return t.Tx.ProjectStats(ctx, projectID)
}

func (t *recordingTx) EarliestPlanning(ctx context.Context, jobID string) (time.Time, error) {
	t.unverifiable = true
	return t.Tx.EarliestPlanning(ctx, jobID)
}

func (t *recordingTx) Aggregate(ctx context.Context, e *schema.Entity, q ordo.Aggregation) ([][]any, error) {
	t.unverifiable = true
	return t.Tx.Aggregate(ctx, e, q)
}

// Writes are counted: a run is remembered only when its one write is the
// addressed row's touch.

func (t *recordingTx) Insert(ctx context.Context, e *schema.Entity, r ordo.Record) error {
	t.writes++
	return t.Tx.Insert(ctx, e, r)
}

func (t *recordingTx) Update(ctx context.Context, e *schema.Entity, id string, changes ordo.Record) error {
	t.writes++
	return t.Tx.Update(ctx, e, id, changes)
}

func (t *recordingTx) UpdateWhere(ctx context.Context, e *schema.Entity, changes ordo.Record, conds ...ordo.Cond) (int64, error) {
	t.writes++
	return t.Tx.UpdateWhere(ctx, e, changes, conds...)
}

func (t *recordingTx) Delete(ctx context.Context, e *schema.Entity, id string) error {
	t.writes++
	return t.Tx.Delete(ctx, e, id)
}

func (t *recordingTx) DeleteWhere(ctx context.Context, e *schema.Entity, conds ...ordo.Cond) (int64, error) {
	t.writes++
	return t.Tx.DeleteWhere(ctx, e, conds...)
}

func (t *recordingTx) NextID2(ctx context.Context, e *schema.Entity) (int64, error) {
	t.writes++
	return t.Tx.NextID2(ctx, e)
}

func (t *recordingTx) ReserveID2(ctx context.Context, e *schema.Entity, n int) (int64, []int64, error) {
	t.writes++
	return t.Tx.ReserveID2(ctx, e, n)
}

func (t *recordingTx) SetID2(ctx context.Context, e *schema.Entity, last int64) error {
	t.writes++
	return t.Tx.SetID2(ctx, e, last)
}

func (t *recordingTx) UpdateVersion(ctx context.Context, e *schema.Entity, id, version string, changes ordo.Record) (bool, error) {
	t.writes++
	return t.Tx.UpdateVersion(ctx, e, id, version, changes)
}

var _ ordo.Tx = (*recordingTx)(nil)
