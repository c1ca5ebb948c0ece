package service

import (
	"context"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// Delete removes a row. Archive-only entities answer EMethod; rows still
// referenced are refused unless the reference cascades (a job's plannings).
func (s *Service) Delete(ctx context.Context, tenant int64, e *schema.Entity, id string, ifMatch string) error {
	if !e.Deletable {
		return ordo.Errorf(ordo.EMethod, "%s cannot be deleted; set archived to true instead", e.Controller)
	}
	return s.store.Write(ctx, tenant, func(tx ordo.Tx) error {
		w := s.newWriter(ctx, tx)
		w.ifMatch = ifMatch
		rec, err := tx.GetForUpdate(ctx, e, id)
		if err != nil {
			return err
		}
		if err := w.checkIfMatch(e, rec); err != nil {
			return err
		}
		if e.Name == "job_status" && ordo.IsSystemStatus(id) {
			return ordo.Errorf(ordo.EForbidden, "job status %s is a system status and cannot be deleted", rec.String("code"))
		}
		if err := w.deleteRow(e, rec); err != nil {
			return err
		}
		return w.finish()
	})
}

func (w *writer) deleteRow(e *schema.Entity, rec ordo.Record) error {
	for _, ref := range w.s.reg.ReferencesTo(e) {
		cond := ordo.Cond{Field: ref.IDField, Value: rec.ID()}
		if ref.Cascade {
			children, err := w.tx.List(w.ctx, ref.Owner, ordo.Query{Conds: []ordo.Cond{cond}})
			if err != nil {
				return err
			}
			for _, c := range children {
				if err := w.deleteRow(ref.Owner, c); err != nil {
					return err
				}
			}
			continue
		}
		n, err := w.tx.Count(w.ctx, ref.Owner, ordo.Query{Conds: []ordo.Cond{cond}})
		if err != nil {
			return err
		}
		if ref.Owner == e && n > 0 { // a row pointing to itself does not block its own delete
			self, err := w.tx.Count(w.ctx, e, ordo.Query{Conds: []ordo.Cond{cond, {Field: "id", Value: rec.ID()}}})
			if err != nil {
				return err
			}
			n -= self
		}
		if n > 0 {
			return ordo.Errorf(ordo.EConflict, "%s %s is still referenced by %d %s row(s) (%s)", e.Name, rec.ID(), n, ref.Owner.Name, ref.IDField)
		}
	}
	if err := w.tx.Delete(w.ctx, e, rec.ID()); err != nil {
		return err
	}
	if r := rulesFor(e); r.deleted != nil {
		return r.deleted(w, rec)
	}
	return nil
}
