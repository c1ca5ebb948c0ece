package odata

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ordo-fsm/ordo/schema"
)

// $apply, the subset of the OData Data Aggregation extension that
// dashboards and BI tools send:
//
//	filter(<condition>)                          rows before grouping
//	groupby((<path>, ...)[, aggregate(...)])     one result row per group
//	aggregate(<expr> with <method> as <alias>, $count as <alias>, ...)
//
// chained with '/': any number of filter() first, then at most one groupby
// or aggregate, which ends the chain. Paths may go through to-one
// navigations (project/company/code); methods are sum, min, max, average
// and countdistinct. The whole transformation is one SQL query.

// Apply is a resolved $apply.
type Apply struct {
	Entity     *schema.Entity
	Filter     *Filter // the filter() transformations ANDed; nil without
	Having     *Filter // the filter() transformations after groupby, on its result
	GroupBy    []GroupKey
	Aggregates []Aggregate
	Grouped    bool // groupby was given (else one row over every row)
}

// GroupKey is a grouping property: a field reached through to-one navigations.
type GroupKey struct {
	Path  string // e.g. "project/company/code"
	Field *schema.Field
	col   *colNode
}

// Aggregate is one aggregated value of a result row.
type Aggregate struct {
	Alias  string
	Method string      // sum, min, max, average, countdistinct or $count
	Kind   schema.Kind // of the result
	Of     string      // the aggregated expression, as text ("" for $count)
	x      node
}

// ApplyOrder is an $orderby key of a $apply result: a group key (Group >=
// 0) or an aggregate (Aggregate >= 0).
type ApplyOrder struct {
	Group, Aggregate int
	Desc             bool
}

// Columns are the result columns in order: the group keys (named by their
// paths), then the aggregates (by their aliases).
func (a *Apply) Columns() []ApplyColumn {
	var out []ApplyColumn
	for _, g := range a.GroupBy {
		out = append(out, ApplyColumn{Name: g.Path, Kind: g.Field.Kind})
	}
	for _, x := range a.Aggregates {
		out = append(out, ApplyColumn{Name: x.Alias, Kind: x.Kind})
	}
	return out
}

// ApplyColumn is one column of a $apply result.
type ApplyColumn struct {
	Name string // a group key's path or an aggregate's alias
	Kind schema.Kind
}

// rawApply is a parsed, unresolved $apply.
type rawApply struct {
	filters []Expr
	having  []Expr // filter() after groupby, on the result
	groupBy []*Path
	aggs    []rawAggregate
	grouped bool
	at      int
}

type rawAggregate struct {
	x      Expr // nil for $count
	method string
	alias  string
	at     int // the alias's position
	mAt    int // the method's position
}

var aggregateMethods = []string{"sum", "min", "max", "average", "countdistinct"}

// parseApply reads the transformations of a $apply value.
func (p *parser) parseApply() *rawApply {
	a := &rawApply{at: p.peek().pos}
	done := false
	for {
		t := p.next()
		if t.kind != tokIdent {
			p.fail(t.pos, "expected a transformation (filter, groupby or aggregate), found %s", t.describe())
		}
		name := strings.ToLower(t.text)
		if done && (name != "filter" || !a.grouped) {
			p.fail(t.pos, "%s cannot follow groupby or aggregate: filter() transformations may come before them, and after a groupby", t.text)
		}
		switch name {
		case "filter", "groupby", "aggregate":
		case "compute", "search", "top", "bottom", "topcount", "bottomcount", "concat", "expand", "orderby", "skip", "identity", "join", "outerjoin", "nest", "ancestors", "descendants", "traverse":
			p.fail(t.pos, "the transformation %s is not supported; Ordo's $apply has filter, groupby and aggregate", t.text)
		default:
			p.fail(t.pos, "unknown transformation '%s'; Ordo's $apply has filter, groupby and aggregate", t.text)
		}
		p.expect(tokLParen, "'(' after "+t.text)
		p.enter()
		switch name {
		case "filter":
			if done {
				a.having = append(a.having, p.parseExpr(""))
			} else {
				a.filters = append(a.filters, p.parseExpr(""))
			}
		case "groupby":
			done, a.grouped = true, true
			open := p.expect(tokLParen, "'(' opening the list of grouping properties, e.g. groupby((name),aggregate($count as n))")
			for {
				pt := p.peek()
				if pt.kind != tokIdent || isOperator(pt.text) {
					p.fail(pt.pos, "expected a property path to group by, found %s", pt.describe())
				}
				path, ok := p.parsePath().(*Path)
				if !ok {
					p.fail(pt.pos, "groupby takes property paths, not any/all")
				}
				a.groupBy = append(a.groupBy, path)
				if len(a.groupBy)+len(a.aggs) > p.lim.MaxApplyItems {
					p.fail(pt.pos, "$apply has more than %d grouping properties and aggregates (the maximum $apply items)", p.lim.MaxApplyItems)
				}
				if p.peek().kind != tokComma {
					break
				}
				p.next()
			}
			if t := p.peek(); t.kind != tokRParen {
				p.fail(t.pos, "expected ',' or ')' to close the grouping properties opened at position %d, found %s", open.pos, t.describe())
			}
			p.next()
			if p.peek().kind == tokComma {
				p.next()
				at := p.peek()
				if !p.isWord("aggregate") {
					p.fail(at.pos, "expected aggregate(...) after the grouping properties, found %s", at.describe())
				}
				p.next()
				p.expect(tokLParen, "'(' after aggregate")
				p.parseAggregates(a)
				p.expect(tokRParen, "')' to close aggregate(")
			}
		case "aggregate":
			done = true
			p.parseAggregates(a)
		}
		p.leave()
		if t := p.peek(); t.kind != tokRParen {
			p.fail(t.pos, "expected ')' to close %s(, found %s", name, t.describe())
		}
		p.next()
		if p.peek().kind != tokSlash {
			return a
		}
		p.next()
	}
}

// parseAggregates reads "x with method as alias, $count as alias, ...".
func (p *parser) parseAggregates(a *rawApply) {
	for {
		var ag rawAggregate
		if t := p.peek(); t.kind == tokIdent && strings.EqualFold(t.text, "$count") {
			p.next()
			ag.method, ag.mAt = "$count", t.pos
		} else {
			ag.x = p.parseExpr("")
			w := p.peek()
			if !p.isWord("with") {
				p.fail(w.pos, "expected 'with' and a method (sum, min, max, average, countdistinct), found %s", w.describe())
			}
			p.next()
			m := p.next()
			ag.method, ag.mAt = strings.ToLower(m.text), m.pos
			if m.kind != tokIdent || !containsString(aggregateMethods, ag.method) {
				p.fail(m.pos, "unknown aggregation method %s; use sum, min, max, average or countdistinct", m.describe())
			}
		}
		as := p.peek()
		if !p.isWord("as") {
			p.fail(as.pos, "expected 'as' and an alias, e.g. %s as total, found %s", "... with sum", as.describe())
		}
		p.next()
		al := p.next()
		if al.kind != tokIdent || strings.HasPrefix(al.text, "$") || isOperator(al.text) {
			p.fail(al.pos, "expected an alias name after 'as', found %s", al.describe())
		}
		ag.alias, ag.at = al.text, al.pos
		a.aggs = append(a.aggs, ag)
		if len(a.groupBy)+len(a.aggs) > p.lim.MaxApplyItems {
			p.fail(al.pos, "$apply has more than %d grouping properties and aggregates (the maximum $apply items)", p.lim.MaxApplyItems)
		}
		if p.peek().kind != tokComma {
			return
		}
		p.next()
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// resolveApply checks a parsed $apply against e.
func resolveApply(e *schema.Entity, raw *rawApply, r *resolver) *Apply {
	a := &Apply{Entity: e, Grouped: raw.grouped}
	r.option = "$apply"
	a.Filter = r.conditions(e, raw.filters)
	names := map[string]bool{}
	for _, p := range raw.groupBy {
		if last := p.Segments[len(p.Segments)-1]; last.Name == "$count" {
			r.fail(last.At, "groupby takes properties; to count use aggregate($count as n)")
		}
		c := r.path(p)
		key := GroupKey{Path: c.path(), Field: c.field, col: c}
		if names[key.Path] {
			r.fail(p.Pos(), "%s is grouped by twice", key.Path)
		}
		names[key.Path] = true
		a.GroupBy = append(a.GroupBy, key)
	}
	tops := map[string]bool{}
	for _, g := range a.GroupBy {
		top, _, _ := strings.Cut(g.Path, "/")
		tops[top] = true
	}
	for _, ag := range raw.aggs {
		if tops[ag.alias] || names[ag.alias] {
			r.fail(ag.at, "the alias %s is already the name of a grouping property", ag.alias)
		}
		for _, x := range a.Aggregates {
			if x.Alias == ag.alias {
				r.fail(ag.at, "the alias %s is given twice", ag.alias)
			}
		}
		out := Aggregate{Alias: ag.alias, Method: ag.method, Kind: schema.KindInt}
		if ag.x != nil {
			n := r.resolve(ag.x, tyNull)
			t := n.typ()
			r.finite(ag.x, n)
			out.x, out.Of = n, ag.x.String()
			switch ag.method {
			case "sum", "average":
				if !t.numeric() {
					r.fail(ag.x.Pos(), "%s needs a number, but %s is %s", ag.method, brief(ag.x), t)
				}
				out.Kind = kindOf(t)
				if ag.method == "average" {
					out.Kind = schema.KindDecimal
				}
			case "min", "max":
				if kindOf(t) == 0 || t == tyBool {
					r.fail(ag.x.Pos(), "%s needs a number, a string, a date-time or a GUID, but %s is %s", ag.method, brief(ag.x), t)
				}
				out.Kind = kindOf(t)
			case "countdistinct":
				if kindOf(t) == 0 {
					r.fail(ag.x.Pos(), "countdistinct needs a property or a value, but %s is %s", brief(ag.x), t)
				}
			}
		}
		a.Aggregates = append(a.Aggregates, out)
	}
	// filter() after groupby names the result's members: grouping paths
	// (their columns) and aliases (their aggregates).
	if len(raw.having) > 0 {
		r.result = map[string]node{}
		for _, g := range a.GroupBy {
			r.result[g.Path] = g.col
		}
		for i := range a.Aggregates {
			r.result[a.Aggregates[i].Alias] = &aggNode{agg: &a.Aggregates[i]}
		}
		a.Having = r.conditions(e, raw.having)
		r.result = nil
	}
	return a
}

// conditions resolves the conditions of filter() steps and ANDs them into
// one Filter on e, nil when there are none.
func (r *resolver) conditions(e *schema.Entity, xs []Expr) *Filter {
	var f *Filter
	for _, x := range xs {
		n := r.resolve(x, tyNull)
		if n.typ() != tyBool {
			r.fail(x.Pos(), "filter() needs a condition (true or false), but %s is %s", brief(x), n.typ())
		}
		if f == nil {
			f = &Filter{Entity: e, Expr: x, root: n}
			continue
		}
		f = &Filter{Entity: e, Expr: &Binary{Op: "and", L: f.Expr, R: x, At: x.Pos()},
			root: &binNode{op: "and", l: f.root, r: n, t: tyBool}}
	}
	return f
}

// aggNode is an aggregate of a $apply result, named in a filter() after
// groupby.
type aggNode struct{ agg *Aggregate }

func (n *aggNode) typ() typ { return kindTyp(n.agg.Kind) }

// resultPath resolves a name of a $apply result in a filter() after groupby.
func (r *resolver) resultPath(x *Path) node {
	if n, ok := r.result[x.String()]; ok {
		return n
	}
	var names []string
	for k := range r.result {
		names = append(names, k)
	}
	sort.Strings(names)
	r.fail(x.Pos(), "%s is not a member of the groupby result (it has %s)", x.String(), strings.Join(names, ", "))
	return nil
}

// resolveApplyOrder resolves $orderby against the result of a $apply: its
// grouping properties and aliases.
func resolveApplyOrder(a *Apply, items []orderItem, option string) []ApplyOrder {
	var out []ApplyOrder
	for _, it := range items {
		x := it.x
		for al, ok := x.(*Alias); ok; al, ok = x.(*Alias) {
			x = al.Value
		}
		p, ok := x.(*Path)
		if !ok {
			panic(abort{&Error{Option: option, Pos: it.x.Pos(), Msg: fmt.Sprintf("with $apply, $orderby takes the grouping properties and aliases of the result; %s is not one", brief(it.x))}})
		}
		name := p.String()
		k := ApplyOrder{Group: -1, Aggregate: -1, Desc: it.desc}
		for i, g := range a.GroupBy {
			if g.Path == name {
				k.Group = i
			}
		}
		for i, ag := range a.Aggregates {
			if ag.Alias == name {
				k.Aggregate = i
			}
		}
		if k.Group < 0 && k.Aggregate < 0 {
			var names []string
			for _, c := range a.Columns() {
				names = append(names, c.Name)
			}
			panic(abort{&Error{Option: option, Pos: p.Pos(), Msg: fmt.Sprintf("%s is not a property of the $apply result (it has %s)", name, strings.Join(names, ", "))}})
		}
		out = append(out, k)
	}
	return out
}
