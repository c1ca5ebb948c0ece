package odata

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ordo-fsm/ordo/schema"
)

// String renders the query compactly and deterministically, for tests and logs.
func (q *Query) String() string {
	var parts []string
	if q.Filter != nil {
		parts = append(parts, "filter="+q.Filter.String())
	}
	if len(q.OrderBy) > 0 {
		keys := make([]string, len(q.OrderBy))
		for i, k := range q.OrderBy {
			keys[i] = k.Path
			if k.Desc {
				keys[i] += " desc"
			}
		}
		parts = append(parts, "orderby="+strings.Join(keys, ","))
	}
	if q.Select != nil {
		names := make([]string, len(q.Select))
		for i, f := range q.Select {
			names[i] = f.Name
		}
		parts = append(parts, "select="+strings.Join(names, ","))
	}
	if len(q.Expand) > 0 {
		items := make([]string, len(q.Expand))
		for i, x := range q.Expand {
			items[i] = x.Nav.Name
			if s := x.Query.String(); s != "" {
				items[i] += "(" + s + ")"
			}
		}
		parts = append(parts, "expand=["+strings.Join(items, ", ")+"]")
	}
	if q.HasTop {
		parts = append(parts, "top="+strconv.Itoa(q.Top))
	}
	if q.Skip > 0 {
		parts = append(parts, "skip="+strconv.Itoa(q.Skip))
	}
	if q.Count {
		parts = append(parts, "count=true")
	}
	return strings.Join(parts, "; ")
}

// Within narrows q to the rows whose field (a reference's _id column of
// q.Entity) is id: the rows of a navigation path used as a resource, such
// as Projects(<id>)/jobs. The condition is part of the filter, so counts,
// paging and $skiptoken (bound to the filter) follow it.
func (q *Query) Within(field, id string) error {
	f, ok := q.Entity.Field(field)
	if !ok || f.Kind != schema.KindGUID {
		return fmt.Errorf("odata: %s has no reference column %s", q.Entity.Name, field)
	}
	g, err := schema.ParseGUID(id)
	if err != nil {
		return err
	}
	lit := &Literal{Kind: LitGUID, Raw: g, Value: g, At: -1}
	cond := &Binary{Op: "eq", L: &Path{Segments: []Segment{{Name: field, At: -1}}}, R: lit, At: -1}
	n := node(&binNode{op: "eq", l: &colNode{scope: &scope{entity: q.Entity}, field: f}, r: &litNode{t: tyGUID, v: g}, t: tyBool})
	x := Expr(cond)
	if q.Filter != nil {
		x = &Binary{Op: "and", L: cond, R: q.Filter.Expr, At: -1}
		n = &binNode{op: "and", l: n, r: q.Filter.root, t: tyBool}
	}
	q.Filter = &Filter{Entity: q.Entity, Expr: x, root: n}
	if a := q.Apply; a != nil { // the rows $apply starts from
		x, n = cond, q.Filter.root
		if a.Filter != nil {
			x, n = &Binary{Op: "and", L: cond, R: a.Filter.Expr, At: -1}, &binNode{op: "and", l: q.Filter.root, r: a.Filter.root, t: tyBool}
		}
		a.Filter, q.Filter = &Filter{Entity: q.Entity, Expr: x, root: n}, nil
	}
	return nil
}
