package service

import (
	"context"
	"errors"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// Reasons a row leaves a delta's result set (OData 4.01 "@removed").
const (
	RemovedDeleted = "deleted" // the row no longer exists
	RemovedChanged = "changed" // the row exists but no longer matches $filter
)

// DeltaRequest is one page of the changes to an OData track-changes query
// in the change-log window (From, Upto], after position Cursor of that
// window (0 on the first page). Upto 0 ends the window at the log's head.
type DeltaRequest struct {
	Query      *odata.Query
	From, Upto int64
	Cursor     int64
	Size       int
	Limits     odata.Limits
}

// DeltaItem is a row as it is now (Row set) or a removed one (RemovedID and
// Reason set).
type DeltaItem struct {
	Row       ordo.Record
	RemovedID string
	Reason    string
}

// DeltaPage is one page of a delta. More reports further pages of the same
// window (From, Upto], to be read after Cursor. Pruned is the highest
// position retention removed: a window that starts below it lost entries.
type DeltaPage struct {
	Items  []DeltaItem
	More   bool
	Cursor int64
	Upto   int64
	Pruned int64
}

func (s *Service) changeLog() (ordo.ChangeLog, error) {
	cl, ok := s.store.(ordo.ChangeLog)
	if !ok {
		return nil, errors.New("service: the store keeps no change log")
	}
	return cl, nil
}

// ChangeHead makes every committed change readable and returns the highest
// readable change-log position and the highest one retention removed.
func (s *Service) ChangeHead(ctx context.Context) (head, pruned int64, err error) {
	cl, err := s.changeLog()
	if err != nil {
		return 0, 0, err
	}
	return cl.ChangeHead(ctx)
}

// Delta returns one page of the rows of the query's entity changed in the
// window, each once, in the order of its last change: as it is now when it
// matches the $filter (with $select and to-one $expand applied), else as a
// removed entry. Everything is read in one snapshot.
func (s *Service) Delta(ctx context.Context, tenant int64, req DeltaRequest) (DeltaPage, error) {
	q := req.Query
	e := q.Entity
	page := DeltaPage{Cursor: req.Cursor}
	err := s.store.Read(ctx, tenant, func(tx ordo.Tx) error {
		cr, ok := tx.(ordo.ChangeReader)
		if !ok {
			return errors.New("service: the store keeps no change log")
		}
		changes, win, err := cr.LatestChanges(ctx, e.Name, req.From, req.Upto, req.Cursor, req.Size+1)
		if err != nil {
			return err
		}
		if win.Unnumbered && req.Upto == 0 {
			// Committed entries wait for a position (PostgreSQL): number
			// them, then read again; a statement of this read-committed
			// transaction sees them.
			cl, err := s.changeLog()
			if err != nil {
				return err
			}
			if _, _, err := cl.ChangeHead(ctx); err != nil {
				return err
			}
			if changes, win, err = cr.LatestChanges(ctx, e.Name, req.From, req.Upto, req.Cursor, req.Size+1); err != nil {
				return err
			}
		}
		page.Upto, page.Pruned = req.Upto, win.Pruned
		if page.Upto == 0 {
			page.Upto = win.Head
		}
		page.Items, page.More = nil, false
		if len(changes) > req.Size {
			changes, page.More = changes[:req.Size], true
		}
		if len(changes) == 0 {
			return nil
		}
		page.Cursor = changes[len(changes)-1].Position
		ids := make([]string, len(changes))
		for i, c := range changes {
			ids[i] = c.ID
		}
		rows, err := tx.List(ctx, e, ordo.Query{
			Filter: func(alias string, args *sqldialect.Args) (string, string, string, error) {
				sq, err := odata.Translator{Alias: alias, Args: args}.Translate(q.Filter, nil)
				if err != nil {
					return "", "", "", err
				}
				in, err := odata.InSQL(args, alias+"."+sqldialect.Quote("id"), schema.KindGUID, ids)
				if err != nil {
					return "", "", "", err
				}
				where := in
				if sq.Where != "" {
					where = "(" + sq.Where + ") AND " + in
				}
				return sq.Joins, where, "", nil
			},
			Fields: fieldsFor(q.Select, q.Expand),
		})
		if err != nil {
			return err
		}
		x := &expander{ctx: ctx, tx: tx, tenant: tenant, maxRows: req.Limits.Effective().MaxExpandRows}
		if err := x.level(e, &q.Select, q.Expand, rows); err != nil {
			return err
		}
		byID := make(map[string]ordo.Record, len(rows))
		for _, r := range rows {
			byID[r.ID()] = r
		}
		var gone []string
		for _, id := range ids {
			if byID[id] == nil {
				gone = append(gone, id)
			}
		}
		exists := map[string]bool{}
		if len(gone) > 0 && q.Filter != nil {
			found, err := tx.List(ctx, e, ordo.Query{Conds: []ordo.Cond{{Field: "id", Value: gone}}, Fields: []string{"id"}})
			if err != nil {
				return err
			}
			for _, r := range found {
				exists[r.ID()] = true
			}
		}
		for _, id := range ids {
			switch {
			case byID[id] != nil:
				page.Items = append(page.Items, DeltaItem{Row: byID[id]})
			case exists[id]:
				page.Items = append(page.Items, DeltaItem{RemovedID: id, Reason: RemovedChanged})
			default:
				page.Items = append(page.Items, DeltaItem{RemovedID: id, Reason: RemovedDeleted})
			}
		}
		return nil
	})
	return page, err
}

// ChangeEvent is a change-log entry with the row as it is now (nil for a
// delete, or when the row has since been deleted).
type ChangeEvent struct {
	ordo.Change
	Controller string
	Row        ordo.Record
}

// Changes returns the change-log entries of the given entities (registry
// names; all when empty) in (after, upto], in position order, at most
// limit, each with its row as GET returns it now. Rows are read per entity
// in batches, in the same snapshot as the entries.
func (s *Service) Changes(ctx context.Context, tenant int64, entities []string, after, upto int64, limit int) ([]ChangeEvent, error) {
	var out []ChangeEvent
	err := s.store.Read(ctx, tenant, func(tx ordo.Tx) error {
		cr, ok := tx.(ordo.ChangeReader)
		if !ok {
			return errors.New("service: the store keeps no change log")
		}
		changes, err := cr.ChangesAfter(ctx, entities, after, upto, limit)
		if err != nil {
			return err
		}
		out = make([]ChangeEvent, len(changes))
		want := map[string][]string{}
		for i, c := range changes {
			out[i].Change = c
			if e, ok := s.reg.Entity(c.Entity); ok {
				out[i].Controller = e.Controller
			}
			if c.Op != ordo.OpDelete {
				want[c.Entity] = append(want[c.Entity], c.ID)
			}
		}
		rows := map[string]ordo.Record{}
		for name, ids := range want {
			e, ok := s.reg.Entity(name)
			if !ok {
				continue
			}
			for _, chunk := range chunks(ids) {
				found, err := tx.List(ctx, e, ordo.Query{Conds: []ordo.Cond{{Field: "id", Value: chunk}}})
				if err != nil {
					return err
				}
				if err := loadLists(ctx, tx, e, found); err != nil {
					return err
				}
				for _, r := range found {
					rows[name+"/"+r.ID()] = r
				}
			}
		}
		for i := range out {
			if out[i].Op != ordo.OpDelete {
				out[i].Row = rows[out[i].Entity+"/"+out[i].ID]
			}
		}
		return nil
	})
	return out, err
}
