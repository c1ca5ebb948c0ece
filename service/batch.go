package service

import (
	"context"
	"errors"
	"sort"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// An import batch (UpsertMany) shares, across its rows, what a request
// keeps for itself: one writer, so one row cache filled by one prefetch of
// every row the batch names (and, under lock, the rows it writes), the
// default rows of references, a range of id2 numbers reserved at once, and
// the project aggregate deltas, applied once per project at the end of the
// batch instead of once per row.
//
// Rows are first written without a savepoint each: a savepoint per row
// makes SQLite copy every page a row touches into its statement journal. A
// row refused before it wrote anything (validation, an unresolved
// reference: the common rejects) is dropped with what it staged (its
// aggregate delta, its id2 numbers). When a row fails after writing, or a
// statement of it failed, the batch is undone and written again the way it
// always was, each row under a savepoint of its own; the result is the same.

// errRowSpoiled undoes a batch written without savepoints so that it is
// written again with one per row.
var errRowSpoiled = errors.New("service: a row failed after writing; the batch is written again under savepoints")

// UpsertMany writes rows from bodies the way an embedded object is written:
// found by id, ERP key or x_id a row is updated, otherwise inserted, so
// writing the same bodies again changes nothing. It runs in one transaction
// (ctx's, when it carries one), and a failed row leaves no trace: the
// returned slice holds each row's error (nil when written). The rows are
// not read back. The import command runs on it.
//
// The rules are the API's, except that an imported job may carry any status
// the workflow allows, keeps its date_closed, and gets no automatic planning
// nor status change from its plannings (exported data already holds their
// results); system statuses may be sent back unchanged.
func (s *Service) UpsertMany(ctx context.Context, tenant int64, e *schema.Entity, bodies []map[string]any) ([]error, error) {
	errs := make([]error, len(bodies))
	write := func(savepoints bool) error {
		return s.store.Write(ctx, tenant, func(tx ordo.Tx) error {
			clear(errs) // a retried transaction starts over
			return s.upsertBatch(ctx, tenant, tx, e, bodies, errs, savepoints)
		})
	}
	err := write(false)
	if errors.Is(err, errRowSpoiled) {
		err = write(true)
	}
	return errs, err
}

// batchState is what the rows of one UpsertMany call share.
type batchState struct {
	track    rowTracker               // what the current row did through tx
	projects map[string]*projectDelta // the aggregate deltas of the rows written so far
	// locked are the values ("field\x00value") of lockExisting entities
	// whose rows the cache holds as read under lock or written by the batch.
	locked   map[*schema.Entity]map[string]bool
	defaults map[*schema.Entity]*ordo.Record // is_default rows (nil inside: none)
	id2      map[*schema.Entity]*id2Pool
	// remaining counts the rows not yet written, to size id2 reservations.
	remaining int
	// staged are the id2 numbers the current row stored.
	staged []stagedID2
}

type stagedID2 struct {
	e *schema.Entity
	n int64
}

// id2Pool hands out the numbers of one entity reserved by ReserveID2.
type id2Pool struct {
	prev  int64   // the counter before the batch reserved any
	free  []int64 // reserved numbers, in order; next is the next to hand out
	next  int
	used  int64          // the last number handed out (0: none)
	taken map[int64]bool // numbers rows of the batch stored themselves
	// mark and markUsed are next and used before the current row.
	mark     int
	markUsed int64
}

func (s *Service) upsertBatch(ctx context.Context, tenant int64, tx ordo.Tx, e *schema.Entity, bodies []map[string]any, errs []error, savepoints bool) error {
	w := s.newWriter(ctx, tx)
	w.importing, w.technician = true, true
	b := &batchState{projects: map[string]*projectDelta{}, locked: map[*schema.Entity]map[string]bool{},
		defaults: map[*schema.Entity]*ordo.Record{}, id2: map[*schema.Entity]*id2Pool{}}
	w.batch, w.tx = b, &observedTx{Tx: tx, obs: &b.track}
	if err := w.prefetchBatch(e, bodies); err != nil {
		return err
	}
	joined := ordo.WithTx(ctx, tx)
	for i, body := range bodies {
		b.remaining = len(bodies) - i
		w.beginRow()
		row := func(ordo.Tx) error { _, err := w.save(e, body, modeUpsert, "", ""); return err }
		var err error
		if savepoints {
			err = s.store.Write(joined, tenant, row)
		} else {
			err = row(tx)
		}
		if err == nil {
			w.endRow()
			continue
		}
		wrote := b.track.writes > 0 || b.track.failed
		if !savepoints && wrote {
			return errRowSpoiled
		}
		var oe *ordo.Error
		if !errors.As(err, &oe) {
			return err
		}
		errs[i] = err
		w.dropRow()
		if wrote { // its savepoint is rolled back: what the cache learnt from it goes
			w.rows, b.locked, b.defaults = newRowCache(), map[*schema.Entity]map[string]bool{}, map[*schema.Entity]*ordo.Record{}
			if err := w.prefetchBatch(e, bodies[i+1:]); err != nil {
				return err
			}
		}
	}
	if jt, ok := tx.(ordo.JoinableTx); ok && jt.Failed() != nil {
		return jt.Failed()
	}
	w.projects = b.projects
	if err := w.finish(); err != nil {
		return err
	}
	return w.releaseID2()
}

// beginRow starts a row of the batch.
func (w *writer) beginRow() {
	b := w.batch
	w.projects = map[string]*projectDelta{}
	w.embedded = map[string][]resolvedObject{}
	w.now = schema.NormalizeDate(w.s.Now())
	b.track = rowTracker{}
	b.staged = b.staged[:0]
	for _, p := range b.id2 {
		p.mark, p.markUsed = p.next, p.used
	}
}

// endRow keeps what a written row staged.
func (w *writer) endRow() {
	b := w.batch
	for id, r := range w.projects { // each project's merge stands alone: no order
		d := b.projects[id]
		if d == nil {
			d = &projectDelta{}
			b.projects[id] = d
		}
		d.merge(r)
	}
	for _, st := range b.staged {
		if p := b.id2[st.e]; p != nil {
			p.taken[st.n] = true
		}
	}
}

// dropRow forgets what a refused row staged.
func (w *writer) dropRow() {
	for _, p := range w.batch.id2 {
		p.next, p.used = p.mark, p.markUsed
	}
}

// merge adds r, the delta of a later row, to d. Applying the sum once must
// give what applying them one after the other gives: counts add, candidates
// combine, removals are kept to be compared with the stored dates; and a
// removal of a date_next_job no later than a candidate of an earlier row
// (which applied alone would have become the stored date) recomputes.
func (d *projectDelta) merge(r *projectDelta) {
	for _, t := range r.removedNext {
		if !schema.IsZero(schema.KindDate, d.nextCandidate) && !t.After(d.nextCandidate) {
			d.recompute = true
		}
	}
	for _, t := range r.removedLast {
		if !schema.IsZero(schema.KindDate, d.lastCandidate) && !t.Before(d.lastCandidate) {
			d.recompute = true
		}
	}
	d.open += r.open
	d.planned += r.planned
	d.toBePlanned += r.toBePlanned
	d.waiting += r.waiting
	d.lastCandidate = later(d.lastCandidate, r.lastCandidate)
	d.nextCandidate = earlier(d.nextCandidate, r.nextCandidate)
	d.removedLast = append(d.removedLast, r.removedLast...)
	d.removedNext = append(d.removedNext, r.removedNext...)
	d.recompute = d.recompute || r.recompute
}

// prefetchBatch reads the rows the bodies (of e) name, in one statement,
// and the rows they are themselves, found by id or ERP key: in the same
// statement, or under lock in a second one for an entity whose rules derive
// figures from a row's old state (PostgreSQL takes no FOR UPDATE in a UNION).
func (w *writer) prefetchBatch(e *schema.Entity, bodies []map[string]any) error {
	ws := newWantSet()
	own := &wanted{seen: map[string]bool{}}
	lock := rulesFor(e).lockExisting
	if !lock {
		own = ws.of(e)
	}
	for _, body := range bodies {
		if id := parsedString(e, "id", body["id"]); !isZeroID(id) {
			own.add(&own.ids, id)
		}
		if e.ERPKey != "" {
			own.add(&own.keys, parsedString(e, e.ERPKey, body[e.ERPKey]))
		}
		ws.walk(e, body, 0)
	}
	if anyOf := own.conds(e, true); lock && anyOf != nil {
		rows, err := w.tx.List(w.ctx, e, ordo.Query{AnyOf: anyOf, ForUpdate: true})
		if err != nil {
			return err
		}
		w.cache(e, own, rows)
		locked := w.batch.lockedOf(e)
		for _, id := range own.ids {
			locked["id\x00"+id] = true
		}
		for _, k := range own.keys {
			locked[e.ERPKey+"\x00"+k] = true
		}
	}
	return w.fetch(ws, true)
}

func (b *batchState) lockedOf(e *schema.Entity) map[string]bool {
	m := b.locked[e]
	if m == nil {
		m = map[string]bool{}
		b.locked[e] = m
	}
	return m
}

// lockedRow answers identify's locked read of a row of e from the cache
// when the batch read it under lock or wrote it.
func (w *writer) lockedRow(e *schema.Entity, field, value string) (ordo.Record, bool) {
	if w.batch == nil || !w.batch.locked[e][field+"\x00"+value] {
		return nil, false
	}
	return w.rows.get(e, field, value)
}

// remembered notes a row the batch wrote: it holds its lock, it may have
// changed which row is the default, and its id2 is taken.
func (b *batchState) remembered(e *schema.Entity, rec ordo.Record) {
	locked := b.lockedOf(e)
	locked["id\x00"+rec.ID()] = true
	if e.ERPKey != "" && rec.String(e.ERPKey) != "" {
		locked[e.ERPKey+"\x00"+rec.String(e.ERPKey)] = true
	}
	delete(b.defaults, e)
	if e.HasID2 && rec.Int("id2") != 0 {
		b.staged = append(b.staged, stagedID2{e, rec.Int("id2")})
	}
}

// forgot follows writer.forget.
func (b *batchState) forgot(e *schema.Entity) {
	delete(b.locked, e)
	delete(b.defaults, e)
}

// defaultRow is the is_default row of e (nil when none).
func (w *writer) defaultRow(e *schema.Entity) (ordo.Record, error) {
	if w.batch != nil {
		if def, ok := w.batch.defaults[e]; ok {
			return *def, nil
		}
	}
	def, err := w.tx.Find(w.ctx, e, ordo.Cond{Field: "is_default", Value: true})
	if err == nil && w.batch != nil {
		w.batch.defaults[e] = &def
	}
	return def, err
}

// nextID2 is the next id2 of e: from the batch's reserved numbers, else
// from the counter.
func (w *writer) nextID2(e *schema.Entity) (int64, error) {
	b := w.batch
	if b == nil {
		return w.tx.NextID2(w.ctx, e)
	}
	p := b.id2[e]
	for {
		if p == nil || p.next == len(p.free) {
			// The reservation is the batch's, not the row's: it is not undone
			// with a refused row, and releaseID2 sets the counter at the end.
			prev, free, err := w.tx.ReserveID2(w.ctx, e, max(b.remaining, 1)) // the batch's, not the row's: untracked
			if err != nil {
				return 0, err
			}
			if p == nil {
				p = &id2Pool{prev: prev, taken: map[int64]bool{}}
				b.id2[e] = p
			}
			p.free = append(p.free, free...)
		}
		n := p.free[p.next]
		p.next++
		if !p.taken[n] {
			p.used = n
			return n, nil
		}
	}
}

// releaseID2 leaves each counter at the last number the batch used, as
// NextID2 per row would have.
func (w *writer) releaseID2() error {
	es := make([]*schema.Entity, 0, len(w.batch.id2))
	for e := range w.batch.id2 {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Name < es[j].Name })
	for _, e := range es {
		p := w.batch.id2[e]
		last := p.used
		if last == 0 {
			last = p.prev
		}
		if last != p.free[len(p.free)-1] {
			if err := w.tx.SetID2(w.ctx, e, last); err != nil { // untracked, as ReserveID2
				return err
			}
		}
	}
	return nil
}

// rowTracker observes the batch's transaction: the writes of the current
// row and whether a statement of it failed.
type rowTracker struct {
	writes int
	failed bool
}

func (t *rowTracker) note(err error) {
	var oe *ordo.Error
	if err != nil && !errors.As(err, &oe) {
		t.failed = true
	}
}

func (t *rowTracker) rows(_ *schema.Entity, _ ordo.Query, _ []ordo.Record, err error) { t.note(err) }
func (t *rowTracker) other(err error)                                                 { t.note(err) }
func (t *rowTracker) wrote(err error)                                                 { t.writes++; t.note(err) }
