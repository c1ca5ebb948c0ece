package service

import (
	"context"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// Page is one page of a list.
type Page struct {
	Rows  []ordo.Record
	Count int64 // total matching rows when asked for, else -1
}

// List returns the rows matching q with their owned lists; withCount also counts
// every matching row.
func (s *Service) List(ctx context.Context, tenant int64, e *schema.Entity, q ordo.Query, withCount bool) (Page, error) {
	page := Page{Count: -1}
	err := s.store.Read(ctx, tenant, func(tx ordo.Tx) error {
		var err error
		if page.Rows, err = tx.List(ctx, e, q); err != nil {
			return err
		}
		if withCount {
			if page.Count, err = tx.Count(ctx, e, q); err != nil {
				return err
			}
		}
		return loadLists(ctx, tx, e, page.Rows)
	})
	return page, err
}

// loadLists attaches owned lists (an equipment model's translations) to rows,
// one query per list for the whole page.
func loadLists(ctx context.Context, tx ordo.Tx, e *schema.Entity, rows []ordo.Record) error {
	for _, l := range e.Lists {
		ids := make([]string, len(rows))
		byParent := map[string]ordo.Record{}
		for i, r := range rows {
			ids[i] = r.ID()
			byParent[r.ID()] = r
			r[l.Name] = []ordo.Record{}
		}
		children, err := tx.List(ctx, l.Child, ordo.Query{Conds: []ordo.Cond{{Field: l.Ref.IDField, Value: ids}},
			OrderBy: []ordo.Order{{Field: "field_name"}, {Field: "language_code"}}})
		if err != nil {
			return err
		}
		for _, c := range children {
			p := byParent[c.String(l.Ref.IDField)]
			p[l.Name] = append(p[l.Name].([]ordo.Record), c)
		}
	}
	return nil
}
