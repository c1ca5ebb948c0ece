package service

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// Page is one page of a list.
type Page struct {
	Rows  []ordo.Record
	Count int64 // total matching rows when asked for, else -1
	// More reports rows after the page; Last is then the page position of
	// its last row (odata.Query.PageKeys), for the next page's request.
	More bool
	Last []any
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

// QueryRequest is one page of an OData list request.
type QueryRequest struct {
	Query *odata.Query
	// Size is the most rows the page holds (0: none, only the count).
	Size int
	// Skip rows are passed over first ($skip on the first page).
	Skip int
	// After is the position of the last row of the previous page (nil for
	// the first page): the page starts after it in the query's order.
	After []any
	// Count also counts every row that matches the filter.
	Count bool
	// Limits bound the rows a to-many $expand loads (MaxExpandRows).
	Limits odata.Limits
}

// Query returns one page of an OData query: the rows matching its $filter
// in its $orderby (then id), with the $expand navigations attached to each
// row under the navigation's name (a to-one as an ordo.Record, nil when
// the reference is unset or dangling; a to-many as []ordo.Record, and
// its count under "<name>@odata.count" when asked) and, when $select does
// not restrict the fields, their owned lists. Everything is read in one
// snapshot, with one query per navigation and level.
func (s *Service) Query(ctx context.Context, tenant int64, req QueryRequest) (Page, error) {
	q := req.Query
	e := q.Entity
	page := Page{Count: -1}
	err := s.store.Read(ctx, tenant, func(tx ordo.Tx) error {
		page.Rows, page.More, page.Last = nil, false, nil
		if req.Size > 0 {
			rows, err := tx.List(ctx, e, ordo.Query{
				Filter: func(alias string, args *sqldialect.Args) (string, string, string, error) {
					s, err := q.PageSQL(alias, args, req.After)
					if err != nil {
						return "", "", "", err
					}
					return s.Joins, s.Where, s.OrderBy, nil
				},
				Limit: req.Size + 1, Offset: req.Skip, Fields: fieldsFor(q.Select, q.Expand, orderFields(q)...),
			})
			if err != nil {
				return err
			}
			if len(rows) > req.Size {
				rows, page.More = rows[:req.Size], true
			}
			page.Rows = rows
			if page.More {
				if page.Last, err = pagePosition(ctx, tx, q, rows[len(rows)-1]); err != nil {
					return err
				}
			}
		}
		if req.Count {
			var err error
			if page.Count, err = tx.Count(ctx, e, ordo.Query{Filter: filterOnly(q)}); err != nil {
				return err
			}
		}
		x := &expander{ctx: ctx, tx: tx, tenant: tenant, maxRows: req.Limits.Effective().MaxExpandRows}
		return x.level(e, &q.Select, q.Expand, page.Rows)
	})
	return page, err
}

// Count counts the rows matching q's $filter.
func (s *Service) Count(ctx context.Context, tenant int64, q *odata.Query) (int64, error) {
	var n int64
	err := s.store.Read(ctx, tenant, func(tx ordo.Tx) error {
		var err error
		n, err = tx.Count(ctx, q.Entity, ordo.Query{Filter: filterOnly(q)})
		return err
	})
	return n, err
}

// GetQuery returns one row with the $select and $expand of q applied as
// Query does, and the row's ETag (computed on the row and its owned lists
// before the expansions are attached).
func (s *Service) GetQuery(ctx context.Context, tenant int64, q *odata.Query, id string, limits odata.Limits) (ordo.Record, string, error) {
	var rec ordo.Record
	var etag string
	err := s.store.Read(ctx, tenant, func(tx ordo.Tx) error {
		var err error
		if rec, err = tx.Get(ctx, q.Entity, id); err != nil {
			return err
		}
		if err := loadLists(ctx, tx, q.Entity, []ordo.Record{rec}); err != nil {
			return err
		}
		etag = ETag(q.Entity, rec)
		x := &expander{ctx: ctx, tx: tx, tenant: tenant, maxRows: limits.Effective().MaxExpandRows}
		return x.level(q.Entity, nil, q.Expand, []ordo.Record{rec})
	})
	return rec, etag, err
}

// fieldsFor lists the fields one level of a query reads: nil (every field)
// without $select, else the selection, the references its to-one
// expansions follow, and extra.
func fieldsFor(sel []*schema.Field, xs []*odata.Expand, extra ...string) []string {
	if sel == nil {
		return nil
	}
	out := []string{"id"}
	for _, f := range sel {
		out = append(out, f.Name)
	}
	for _, x := range xs {
		if !x.Nav.Many {
			out = append(out, x.Nav.Ref.IDField)
		}
	}
	return append(out, extra...)
}

// orderFields are the fields pagePosition reads on a row: the $orderby
// fields, or the reference a key through navigations starts with.
func orderFields(q *odata.Query) []string {
	var out []string
	for _, k := range q.OrderBy {
		if navs := k.Navigations(); len(navs) > 0 {
			out = append(out, navs[0].Ref.IDField)
		} else if k.Counted() != nil {
			continue // the count of the row's own collection needs only its id
		} else {
			out = append(out, k.Field.Name)
		}
	}
	return out
}

// filterOnly is the storage filter of q's $filter alone (for counts).
func filterOnly(q *odata.Query) ordo.SQLFilter {
	return func(alias string, args *sqldialect.Args) (string, string, string, error) {
		s, err := odata.Translator{Alias: alias, Args: args}.Translate(q.Filter, nil)
		if err != nil {
			return "", "", "", err
		}
		return s.Joins, s.Where, "", nil
	}
}

// pagePosition is the position of rec in q's order: the value of each
// $orderby key, then the id. A key through navigations reads the rows it
// names (a missing row gives the kind's default, as in the SQL).
func pagePosition(ctx context.Context, tx ordo.Tx, q *odata.Query, rec ordo.Record) ([]any, error) {
	out := make([]any, 0, len(q.OrderBy)+1)
	for _, k := range q.OrderBy {
		cur := rec
		for _, nav := range k.Navigations() {
			id := cur.String(nav.Ref.IDField)
			if schema.IsZero(schema.KindGUID, id) {
				cur = nil
				break
			}
			next, err := tx.Find(ctx, nav.Target, ordo.Cond{Field: "id", Value: id})
			if err != nil {
				return nil, err
			}
			if cur = next; cur == nil {
				break
			}
		}
		v := schema.KindZero(k.Field.Kind)
		if coll := k.Counted(); coll != nil {
			if cur != nil { // nav/$count: the rows of the collection
				n, err := tx.Count(ctx, coll.Target, ordo.Query{Conds: []ordo.Cond{{Field: coll.Ref.IDField, Value: cur.ID()}}})
				if err != nil {
					return nil, err
				}
				v = n
			}
		} else if cur != nil {
			if x, ok := cur[k.Field.Name]; ok {
				v = x
			}
		}
		out = append(out, v)
	}
	return append(out, rec.ID()), nil
}

// expander loads $expand navigations level by level: one query per
// navigation and level (per 500 parents), whatever the number of rows.
type expander struct {
	ctx     context.Context
	tx      ordo.Tx
	tenant  int64
	maxRows int
}

// inChunk bounds the values of one IN list.
const inChunk = 500

// level attaches the owned lists (when sel is nil or points to a nil
// $select) and the expansions xs to rows of e.
func (x *expander) level(e *schema.Entity, sel *[]*schema.Field, xs []*odata.Expand, rows []ordo.Record) error {
	if len(rows) == 0 {
		return nil
	}
	if sel != nil && *sel == nil {
		if err := loadLists(x.ctx, x.tx, e, rows); err != nil {
			return err
		}
	}
	for _, ex := range xs {
		var err error
		if ex.Nav.Many {
			err = x.toMany(ex, rows)
		} else {
			err = x.toOne(ex, rows)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func distinct(rows []ordo.Record, field string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		v := r.String(field)
		if schema.IsZero(schema.KindGUID, v) || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

func chunks(ids []string) [][]string {
	var out [][]string
	for len(ids) > inChunk {
		out = append(out, ids[:inChunk])
		ids = ids[inChunk:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

func (x *expander) toOne(ex *odata.Expand, rows []ordo.Record) error {
	nav := ex.Nav
	byID := map[string]ordo.Record{}
	var targets []ordo.Record
	for _, ids := range chunks(distinct(rows, nav.Ref.IDField)) {
		found, err := x.tx.List(x.ctx, nav.Target, ordo.Query{Conds: []ordo.Cond{{Field: "id", Value: ids}},
			Fields: fieldsFor(ex.Select, ex.Expand)})
		if err != nil {
			return err
		}
		for _, t := range found {
			byID[t.ID()] = t
		}
		targets = append(targets, found...)
	}
	for _, r := range rows {
		r[nav.Name] = byID[r.String(nav.Ref.IDField)] // nil when unset or dangling
	}
	return x.level(nav.Target, &ex.Select, ex.Expand, targets)
}

func (x *expander) toMany(ex *odata.Expand, rows []ordo.Record) error {
	nav, q := ex.Nav, &ex.Query
	fk := nav.Ref.IDField
	// Nested $top/$skip apply per parent: in SQL with ROW_NUMBER() unless a
	// per-parent $count needs every matching row anyway.
	windowed := (q.HasTop || q.Skip > 0) && !q.Count
	var children []ordo.Record
	for _, ids := range chunks(distinct(rows, "id")) {
		filter := func(alias string, args *sqldialect.Args) (string, string, string, error) {
			s, err := q.PageSQL(alias, args, nil)
			if err != nil {
				return "", "", "", err
			}
			if !windowed {
				return s.Joins, s.Where, s.OrderBy, nil
			}
			in, err := q.PageSQL("w", args, nil)
			if err != nil {
				return "", "", "", err
			}
			parents, err := odata.InSQL(args, `w.`+sqldialect.Quote(fk), schema.KindGUID, ids)
			if err != nil {
				return "", "", "", err
			}
			where := `w."tenant_id" = ` + args.AddRaw(x.tenant) + " AND " + parents
			if in.Where != "" {
				where += " AND (" + in.Where + ")"
			}
			rank := "x.rn > " + strconv.Itoa(q.Skip)
			if q.HasTop {
				rank += " AND x.rn <= " + strconv.Itoa(q.Skip+q.Top)
			}
			cond := fmt.Sprintf(`%s."id" IN (SELECT x."id" FROM (SELECT w."id", ROW_NUMBER() OVER (PARTITION BY w.%s ORDER BY %s) AS rn FROM %s w%s WHERE %s) x WHERE %s)`,
				alias, sqldialect.Quote(fk), in.OrderBy, sqldialect.Quote(nav.Target.Table), in.Joins, where, rank)
			return s.Joins, cond, s.OrderBy, nil
		}
		found, err := x.tx.List(x.ctx, nav.Target, ordo.Query{Conds: []ordo.Cond{{Field: fk, Value: ids}},
			Filter: filter, Limit: x.maxRows + 1 - len(children), Fields: fieldsFor(q.Select, q.Expand, fk)})
		if err != nil {
			return err
		}
		children = append(children, found...)
		if len(children) > x.maxRows {
			return ordo.Errorf(ordo.EInvalid, "$expand=%s would load more than %d rows for this page (the maximum expand rows); add $top or $filter in its parentheses, or ask for fewer rows with $top", nav.Name, x.maxRows)
		}
	}
	byParent := map[string][]ordo.Record{}
	for _, c := range children {
		p := c.String(fk)
		byParent[p] = append(byParent[p], c)
	}
	var kept []ordo.Record
	for _, r := range rows {
		list := byParent[r.ID()]
		if q.Count {
			r[nav.Name+"@odata.count"] = int64(len(list))
		}
		if !windowed {
			list = list[min(q.Skip, len(list)):]
			if q.HasTop {
				list = list[:min(q.Top, len(list))]
			}
		}
		if list == nil {
			list = []ordo.Record{}
		}
		r[nav.Name] = list
		kept = append(kept, list...)
	}
	return x.level(nav.Target, &ex.Select, ex.Expand, kept)
}

// loadLists attaches owned lists (an equipment model's translations) to rows,
// one query per list for the whole page.
func loadLists(ctx context.Context, tx ordo.Tx, e *schema.Entity, rows []ordo.Record) error {
	if len(rows) == 0 {
		return nil
	}
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
