// Package service holds Ordo's business rules on top of the entity registry:
// validation of bodies, resolution of embedded entities, the job status
// workflow, planning and the derived fields. It speaks to storage only through
// ordo.Store, so every rule runs the same on SQLite and PostgreSQL.
package service

import (
	"context"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// Service runs requests against a store.
type Service struct {
	store ordo.Store
	reg   *schema.Registry
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// resend remembers PUTs that only touched their row (resend.go).
	resend resendMemory
}

// New returns a Service on store.
func New(store ordo.Store, reg *schema.Registry) *Service {
	return &Service{store: store, reg: reg, Now: func() time.Time { return time.Now().UTC() },
		resend: resendMemory{max: DefaultResendMemory, entries: map[ResendKey]*resendEntry{}}}
}

// Registry is the entity registry the service uses.
func (s *Service) Registry() *schema.Registry { return s.reg }

// Get returns one row with its owned lists.
func (s *Service) Get(ctx context.Context, tenant int64, e *schema.Entity, id string) (ordo.Record, error) {
	var rec ordo.Record
	err := s.store.Read(ctx, tenant, func(tx ordo.Tx) error {
		var err error
		if rec, err = tx.Get(ctx, e, id); err != nil {
			return err
		}
		return loadLists(ctx, tx, e, []ordo.Record{rec})
	})
	return rec, err
}

// Create inserts a row from a request body and returns it as stored.
func (s *Service) Create(ctx context.Context, tenant int64, e *schema.Entity, body map[string]any) (ordo.Record, error) {
	ctx, err := takeForce(ctx, e, body)
	if err != nil {
		return nil, err
	}
	if err := validateTree(e, body, modeInsert); err != nil { // every problem of the body at once, before a transaction
		return nil, err
	}
	return s.write(ctx, tenant, e, func(w *writer) (string, error) {
		return w.saveTop(e, body, modeInsert, "")
	})
}

// Update changes the properties present in body of row id and returns it as
// stored. A non-empty ifMatch (an If-Match header) must name the row's
// current ETag, else the update is refused with EPrecondition.
func (s *Service) Update(ctx context.Context, tenant int64, e *schema.Entity, id string, body map[string]any, ifMatch string) (ordo.Record, error) {
	return s.update(ctx, tenant, e, id, body, ifMatch, nil)
}

// update is Update; given the request's key, it also remembers a run that
// only touched the row (resend.go).
func (s *Service) update(ctx context.Context, tenant int64, e *schema.Entity, id string, body map[string]any, ifMatch string, key *ResendKey) (ordo.Record, error) {
	ctx, err := takeForce(ctx, e, body)
	if err != nil {
		return nil, err
	}
	if err := validateTree(e, body, modeUpdate); err != nil { // every problem of the body at once, before a transaction
		return nil, err
	}
	var wrap func(ordo.Tx) ordo.Tx
	var rt *recordingTx
	if key != nil {
		wrap = func(tx ordo.Tx) ordo.Tx {
			rt = &recordingTx{entity: e, id: id}
			return &observedTx{Tx: tx, obs: rt}
		}
	}
	var w *writer
	rec, err := s.writeWith(ctx, tenant, e, wrap, func(wr *writer) (string, error) {
		w = wr
		w.ifMatch = ifMatch
		return w.saveTop(e, body, modeUpdate, id)
	})
	if err == nil && key != nil && w.touchedOnly && rt.verifiable() {
		s.resend.learn(*key, rt.entry(w.touchDateUpdate), rec)
	}
	return rec, err
}

// checkIfMatch compares the ETag of cur, the row the request addresses read
// under its lock, with the request's If-Match header.
func (w *writer) checkIfMatch(e *schema.Entity, cur ordo.Record) error {
	if w.ifMatch == "" {
		return nil
	}
	if _, stored := cur[ordo.ETagKey]; !stored { // only the content-hash fallback needs the lists
		if err := loadLists(w.ctx, w.tx, e, []ordo.Record{cur}); err != nil {
			return err
		}
	}
	if !MatchETag(w.ifMatch, ETag(e, cur)) {
		return ordo.Errorf(ordo.EPrecondition, "%s %s has changed since the version named in If-Match", e.Controller, cur.ID())
	}
	return nil
}

// write runs one top-level write in one transaction: the rows it touches,
// the derived project aggregates and the re-read of the result.
func (s *Service) write(ctx context.Context, tenant int64, e *schema.Entity, fn func(w *writer) (string, error)) (ordo.Record, error) {
	return s.writeWith(ctx, tenant, e, nil, fn)
}

// writeWith is write with the writer's transaction wrapped by wrap (nil:
// none), which observes what the request reads and writes.
func (s *Service) writeWith(ctx context.Context, tenant int64, e *schema.Entity, wrap func(ordo.Tx) ordo.Tx, fn func(w *writer) (string, error)) (ordo.Record, error) {
	var rec ordo.Record
	err := s.store.Write(ctx, tenant, func(tx ordo.Tx) error {
		if wrap != nil {
			tx = wrap(tx)
		}
		w := s.newWriter(ctx, tx)
		id, err := fn(w)
		if err != nil {
			return err
		}
		if err := w.finish(); err != nil {
			return err
		}
		// The row as the request stored it, unless a later statement of the
		// request changed rows of e in ways the cache does not follow.
		if cached, ok := w.rows.get(e, "id", id); ok && cached != nil && len(e.Lists) == 0 {
			rec = cached
			return nil
		}
		if rec, err = tx.Get(ctx, e, id); err != nil {
			return err
		}
		return loadLists(ctx, tx, e, []ordo.Record{rec})
	})
	return rec, err
}

func (s *Service) newWriter(ctx context.Context, tx ordo.Tx) *writer {
	return &writer{s: s, ctx: ctx, tx: tx, now: schema.NormalizeDate(s.Now()), projects: map[string]*projectDelta{}, rows: newRowCache(), embedded: map[string][]resolvedObject{}}
}
