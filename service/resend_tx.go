package service

import (
	"slices"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// recordingTx observes a full-path PUT (an observedTx's txObserver): it
// notes every read (entity, conditions and the rows returned) and counts the
// writes, so that a run that only touched the addressed row can be
// remembered (resend.go). Reads it could not repeat narrowly make the run
// unverifiable.
type recordingTx struct {
	entity       *schema.Entity // the addressed row
	id           string
	reads        []recordedRead
	lockedTop    bool // the addressed row was read under lock (it is checked by its version, not by a read)
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

// verifiable: every read can be repeated and the only write was the touch.
func (t *recordingTx) verifiable() bool {
	return !t.unverifiable && t.writes == 1 && t.lockedTop
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
	for _, rows := range expected {
		for i := range rows {
			if rows[i].ID == t.id {
				rows[i].Token = "" // every touch changes it; the touch checks it by version
			}
		}
	}
	return &resendEntry{entity: t.entity, id: t.id, reads: queries, expect: expected, touchDateUpdate: touchDateUpdate,
		turn: make(chan struct{}, 1)}
}

func (t *recordingTx) rows(e *schema.Entity, q ordo.Query, rows []ordo.Record, err error) {
	switch {
	case err != nil:
		t.unverifiable = true
	case q.ForUpdate && !t.lockedTop && e == t.entity && len(q.Conds) == 1 && q.Conds[0].Field == "id" &&
		q.Conds[0].Value == t.id && len(rows) == 1:
		t.lockedTop = true
	default:
		t.note(e, q, rows)
	}
}

// other: reads whose answer is not a set of rows cannot be checked by versions.
func (t *recordingTx) other(error) { t.unverifiable = true }

// wrote: a run is remembered only when its one write is the addressed row's
// touch.
func (t *recordingTx) wrote(error) { t.writes++ }
