package service

import (
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

func projectBefore(w *writer, e *schema.Entity, old, rec ordo.Record, path string) error {
	if changed(old, rec, "company_id") {
		company, err := w.mustLookup(w.s.reg.MustEntity("company"), rec.String("company_id"))
		if err != nil {
			return err
		}
		if !company.Bool("is_working_address") {
			return ordo.Errorf(ordo.EConflict, "%scompany %s is not a working address: installations cannot be placed on it",
				path, company.String("name"))
		}
		if old != nil {
			n, err := w.tx.Count(w.ctx, e, ordo.Query{Conds: []ordo.Cond{{Field: "_parent_id", Value: rec.ID()}}})
			if err != nil {
				return err
			}
			if n > 0 {
				return ordo.Errorf(ordo.EConflict, "%sproject %s has %d child installations: a tree belongs to one company, move its children first",
					path, rec.ID(), n)
			}
		}
	}
	root := rec.ID()
	if parentID := rec.String("_parent_id"); !isZeroID(parentID) {
		if changed(old, rec, "_parent_id") {
			if err := w.checkNoCycle(e, rec.ID(), parentID, path+"_parent_id"); err != nil {
				return err
			}
		}
		parent, err := w.mustLookup(e, parentID)
		if err != nil {
			return err
		}
		if parent.String("company_id") != rec.String("company_id") {
			return ordo.Errorf(ordo.EConflict, "%s_parent_id: the parent installation belongs to company %s, this one to %s; a tree belongs to one company",
				path, parent.String("company_code"), rec.String("company_code"))
		}
		root = parent.String("root_parent_id")
	}
	rec["root_parent_id"] = root
	if rec.String("equipment_family_id") == ordo.LocationFamilyID && (rec.String("serial_number") != "" || rec.String("barcode") != "") {
		return ordo.FieldError("InvalidValue", path+"serial_number", "%sa Location has no serial number or barcode", path)
	}
	return nil
}

// projectAfter propagates a new root down the tree and a new company to the
// project's jobs.
func projectAfter(w *writer, e *schema.Entity, old, rec ordo.Record) error {
	if old == nil {
		return nil
	}
	if changed(old, rec, "root_parent_id") {
		level := []string{rec.ID()}
		for depth := 0; len(level) > 0 && depth < maxTreeDepth; depth++ {
			children, err := w.tx.List(w.ctx, e, ordo.Query{Conds: []ordo.Cond{{Field: "_parent_id", Value: level}}})
			if err != nil {
				return err
			}
			level = level[:0]
			for _, c := range children {
				level = append(level, c.ID())
			}
			if _, err := w.tx.UpdateWhere(w.ctx, e, ordo.Record{"root_parent_id": rec.String("root_parent_id"), "modified_dateutc": w.now},
				ordo.Cond{Field: "id", Value: level}); err != nil {
				return err
			}
			w.forget(e)
		}
	}
	if changed(old, rec, "company_id") || old.String("company_code") != rec.String("company_code") {
		w.forget(w.s.reg.MustEntity("jobs"))
		_, err := w.tx.UpdateWhere(w.ctx, w.s.reg.MustEntity("jobs"),
			ordo.Record{"company_id": rec.String("company_id"), "company_code": rec.String("company_code"), "modified_dateutc": w.now},
			ordo.Cond{Field: "project_id", Value: rec.ID()})
		return err
	}
	return nil
}
