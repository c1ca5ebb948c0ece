package odata

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// SQL is the translation of a $filter and an $orderby for one table alias.
type SQL struct {
	// Joins are the LEFT JOINs the paths need, each starting with a space, to
	// be written right after the main table ("" when none).
	Joins string
	// Where is the filter's condition, to be ANDed with the caller's own
	// conditions in parentheses ("" without a filter). It may be NULL
	// where it is not true, so it must not be negated (see cond).
	Where string
	// OrderBy is the ORDER BY list without the keywords ("" without $orderby).
	OrderBy string
	// Sort are the $orderby keys with their SQL, for keyset paging.
	Sort []SortKey
}

// SortKey is an $orderby key and the SQL expression it sorts on.
type SortKey struct {
	OrderKey
	SQL string // e.g. t."name" or COALESCE(j1."name", '')
}

// Translator turns resolved queries into SQL.
type Translator struct {
	// Alias is the main table's alias in the caller's FROM clause, e.g. "t".
	// This package names its own aliases j1, j2, ... (joins) and l1, l2, ...
	// (lambda subqueries), so Alias must not look like those.
	Alias string
	// Args receives the bind arguments, after those already in it; Args.D is
	// the dialect the SQL is written for.
	Args *sqldialect.Args
	// Now is the clock of now(); nil means time.Now.
	Now func() time.Time
}

// SQL translates q's $filter and $orderby (nested $expand levels are
// translated with their own Expand.Query.SQL).
func (q *Query) SQL(alias string, args *sqldialect.Args) (*SQL, error) {
	return Translator{Alias: alias, Args: args}.Translate(q.Filter, q.OrderBy)
}

// Translate translates a filter (nil for none) and order keys (nil for none)
// resolved against the same entity. Errors are the caller's mistakes (a bad
// alias, a dialect without OData support), not the client's.
func (tr Translator) Translate(f *Filter, order []OrderKey) (*SQL, error) {
	if tr.Args == nil || tr.Args.D == nil {
		return nil, errors.New("odata: Translator.Args and Args.D must be set")
	}
	if !validAlias(tr.Alias) {
		return nil, fmt.Errorf("odata: alias %q must be a plain SQL name other than j<n> and l<n>", tr.Alias)
	}
	if _, ok := sqldialect.ODataFunc(tr.Args.D, "param.int"); !ok {
		return nil, fmt.Errorf("odata: dialect %s has no OData SQL", tr.Args.D.Name())
	}
	var entity *schema.Entity
	if f != nil {
		entity = f.Entity
	}
	for _, k := range order {
		if k.col == nil {
			return nil, fmt.Errorf("odata: order key %s was not resolved", k.Path)
		}
		if entity == nil {
			entity = k.col.scope.entity
		}
		if k.col.scope.entity != entity {
			return nil, errors.New("odata: the filter and the order keys belong to different entities")
		}
	}
	now := tr.Now
	if now == nil {
		now = time.Now
	}
	t := &translator{d: tr.Args.D, args: tr.Args, clock: now, scopes: map[*scope]*sqlScope{}}
	t.root = &sqlScope{alias: tr.Alias, entity: entity, joins: map[string]string{}}
	out := &SQL{}
	if f != nil {
		out.Where, _ = t.cond(f.root, true)
	}
	var keys []string
	for _, k := range order {
		s := t.column(k.col)
		out.Sort = append(out.Sort, SortKey{OrderKey: k, SQL: s})
		if k.Desc {
			s += " DESC"
		}
		keys = append(keys, s)
	}
	out.OrderBy = strings.Join(keys, ", ")
	out.Joins = t.root.joinSQL.String()
	return out, nil
}

func validAlias(a string) bool {
	if a == "" || isDigit(a[0]) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if !isIdentChar(a[i]) {
			return false
		}
	}
	if (a[0] == 'j' || a[0] == 'l') && len(a) > 1 {
		if _, err := strconv.Atoi(a[1:]); err == nil {
			return false
		}
	}
	return true
}

// Precedence of the SQL an expression renders to, so that parentheses are
// written only where needed. Both databases rank these the same way.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp
	precAdd
	precMul
	precAtom // columns, placeholders, function calls, parenthesised
)

type translator struct {
	bare   map[*colNode]bool // columns of joined rows rendered without COALESCE (see cond)
	d      sqldialect.Dialect
	args   *sqldialect.Args
	clock  func() time.Time
	now    *time.Time
	root   *sqlScope
	scopes map[*scope]*sqlScope
	nJoin  int
	nSub   int
}

// sqlScope is a FROM item: the main table or a lambda's child table, with the
// joins its paths need.
type sqlScope struct {
	alias   string
	entity  *schema.Entity
	joins   map[string]string // navigation path → join alias
	joinSQL strings.Builder
}

func (t *translator) scope(s *scope) *sqlScope {
	if s.parent == nil {
		return t.root
	}
	return t.scopes[s]
}

// tmpl applies the dialect's template key to already-rendered arguments.
func (t *translator) tmpl(key string, args ...string) string {
	f, ok := sqldialect.ODataFunc(t.d, key)
	if !ok {
		panic("odata: no SQL template " + key + " for " + t.d.Name())
	}
	a := make([]any, len(args))
	for i, s := range args {
		a[i] = s
	}
	return fmt.Sprintf(f, a...)
}

func paren(s string, prec, min int) string {
	if prec < min {
		return "(" + s + ")"
	}
	return s
}

// join returns the alias of the row reached from sc through navs, adding
// the LEFT JOINs not made yet. Each join matches the tenant of the row it
// starts from, so a reference can never reach another tenant's row.
func (t *translator) join(sc *sqlScope, navs []*Navigation) string {
	alias := sc.alias
	for i, n := range navs {
		key := navPath(navs[:i], n.Name)
		a, ok := sc.joins[key]
		if !ok {
			t.nJoin++
			a = "j" + strconv.Itoa(t.nJoin)
			fmt.Fprintf(&sc.joinSQL, " LEFT JOIN %s %s ON %s.%s = %s.%s AND %s.%s = %s.%s",
				sqldialect.Quote(n.Target.Table), a,
				a, sqldialect.Quote("tenant_id"), alias, sqldialect.Quote("tenant_id"),
				a, sqldialect.Quote("id"), alias, sqldialect.Quote(n.Ref.IDField))
			sc.joins[key] = a
		}
		alias = a
	}
	return alias
}

// column renders a column. A column of a joined row is NULL when the
// reference is unset (or dangling); it reads as the kind's default then,
// like every stored column, so that no comparison meets a NULL.
func (t *translator) column(c *colNode) string {
	alias := t.join(t.scope(c.scope), c.navs)
	if c.count != nil {
		// A correlated count served by the child's (tenant, reference)
		// index; a missing parent row (NULL id) counts no children.
		t.nSub++
		child := "l" + strconv.Itoa(t.nSub)
		return fmt.Sprintf("(SELECT COUNT(*) FROM %s %s WHERE %s.%s = %s.%s AND %s.%s = %s.%s)",
			sqldialect.Quote(c.count.Target.Table), child,
			child, sqldialect.Quote("tenant_id"), alias, sqldialect.Quote("tenant_id"),
			child, sqldialect.Quote(c.count.Ref.IDField), alias, sqldialect.Quote("id"))
	}
	col := alias + "." + sqldialect.Quote(c.field.Name)
	if len(c.navs) == 0 || t.bare[c] {
		return col
	}
	return "COALESCE(" + col + ", " + t.d.Literal(c.field.Kind, schema.KindZero(c.field.Kind)) + ")"
}

var paramKeys = map[typ]string{
	tyGUID: "param.guid", tyString: "param.string", tyInt: "param.int", tyDecimal: "param.decimal",
	tyBool: "param.bool", tyDate: "param.date", tyDateOnly: "param.dateonly", tyTime: "param.time",
	tyDuration: "param.int",
}

// param binds a constant and returns its (typed) placeholder.
func (t *translator) param(ty typ, v any) string {
	var ph string
	switch ty {
	case tyDateOnly:
		ph = t.args.AddRaw(v.(time.Time).Format("2006-01-02"))
	case tyTime:
		ph = t.args.AddRaw(formatTimeOfDay(v.(time.Duration)))
	case tyDuration: // microseconds
		ph = t.args.AddRaw(int64(v.(Duration)))
	case tyNull:
		panic("odata: untyped null reached SQL")
	default:
		ph = t.args.Add(kindOf(ty), v)
	}
	return t.tmpl(paramKeys[ty], ph)
}

var sqlOps = map[string]string{
	"and": "AND", "or": "OR", "eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<=",
	"add": "+", "sub": "-", "mul": "*",
}

// expr renders n and returns its precedence.
func (t *translator) expr(n node) (string, int) {
	switch n := n.(type) {
	case *colNode:
		return t.column(n), precAtom
	case *litNode:
		return t.param(n.t, n.v), precAtom
	case constNode:
		if n.v {
			return "1 = 1", precCmp
		}
		return "1 = 0", precCmp
	case nowNode:
		if t.now == nil {
			now := schema.NormalizeDate(t.clock())
			t.now = &now
		}
		return t.param(tyDate, *t.now), precAtom
	case *notNode:
		x, p := t.expr(n.x)
		return "NOT " + paren(x, p, precAtom), precNot
	case *negNode:
		x, p := t.expr(n.x)
		// Always parenthesised: "- -x" must never become the comment "--x".
		return "(-" + paren(x, p, precAtom) + ")", precAtom
	case *binNode:
		return t.binary(n)
	case *inNode:
		if len(n.items) == 0 {
			return "1 = 0", precCmp // nothing is in the empty list
		}
		x, p := t.expr(n.x)
		items := make([]string, len(n.items))
		for i, it := range n.items {
			items[i] = t.param(it.t, it.v)
		}
		in := paren(x, p, precCmp+1) + " IN (" + strings.Join(items, ", ") + ")"
		if c, ok := n.x.(*colNode); ok {
			if g := t.uniqueGuard(c, n.items...); g != "" {
				return in + g, precAnd
			}
		}
		return in, precCmp
	case *callNode:
		return t.call(n)
	case *lambdaNode:
		return t.lambda(n)
	case *aggNode:
		return t.aggregate(n.agg), precAtom
	}
	panic(fmt.Sprintf("odata: cannot translate %T", n))
}

func (t *translator) binary(n *binNode) (string, int) {
	return t.binaryWith(n, t.expr)
}

// binaryWith renders n with its operands rendered by operand.
func (t *translator) binaryWith(n *binNode, operand func(node) (string, int)) (string, int) {
	l, lp := operand(n.l)
	r, rp := operand(n.r)
	switch {
	case n.t == tyDate && (n.op == "add" || n.op == "sub"):
		// date-time ± duration (durations are microseconds)
		date, dur, dp := l, r, rp
		if n.l.typ() == tyDuration {
			date, dur, dp = r, l, lp
		}
		dur = paren(dur, dp, precAtom)
		if n.op == "sub" {
			dur = "(-" + dur + ")"
		}
		return t.tmpl("datetime.add", date, dur), precAtom
	case n.t == tyDuration && n.l.typ() == tyDate:
		return t.tmpl("datetime.diff", l, r), precAtom
	}
	switch n.op {
	case "div":
		return t.tmpl("div", paren(l, lp, precAtom), paren(r, rp, precAtom)), precAtom
	case "divby":
		return t.tmpl("divby", paren(l, lp, precAtom), paren(r, rp, precAtom)), precAtom
	case "mod":
		key := "mod"
		if n.t == tyDecimal {
			key = "mod.decimal"
		}
		return t.tmpl(key, paren(l, lp, precAtom), paren(r, rp, precAtom)), precAtom
	}
	var prec int
	switch n.op {
	case "or":
		prec = precOr
	case "and":
		prec = precAnd
	case "add", "sub":
		prec = precAdd
	case "mul":
		prec = precMul
	default:
		// Comparisons do not chain in SQL: both sides are parenthesised
		// unless they bind tighter.
		cmp := paren(l, lp, precCmp+1) + " " + sqlOps[n.op] + " " + paren(r, rp, precCmp+1)
		if n.op == "eq" {
			if c, lit := colVsLiteral(n.l, n.r); c != nil {
				if g := t.uniqueGuard(c, lit); g != "" {
					return cmp + g, precAnd
				}
			}
		}
		return cmp, precCmp
	}
	// Left-associative: the right side needs parentheses at the same level
	// (a - (b - c)); and/or are associative, so they do not.
	rmin := prec + 1
	if prec <= precAnd {
		rmin = prec
	}
	return paren(l, lp, prec) + " " + sqlOps[n.op] + " " + paren(r, rp, rmin), prec
}

func (t *translator) call(n *callNode) (string, int) {
	key := n.fn
	switch n.fn {
	case "substring":
		if len(n.args) == 3 {
			key = "substring3"
		}
	case "year", "month", "day":
		if n.args[0].typ() == tyDateOnly {
			key += ".date"
		}
	case "hour", "minute", "second":
		if n.args[0].typ() == tyTime {
			key += ".time"
		}
	case "round", "floor", "ceiling":
		if n.args[0].typ() == tyInt {
			return t.expr(n.args[0]) // an integer is already whole
		}
	}
	args := make([]string, len(n.args))
	for i, a := range n.args {
		s, p := t.expr(a)
		args[i] = paren(s, p, precAtom)
	}
	return t.tmpl(key, args...), precAtom
}

// lambda renders any/all as a correlated [NOT] EXISTS on the child table,
// matched on the parent's tenant and id, so the child's (tenant, reference)
// index serves it and the parent's rows are never multiplied.
func (t *translator) lambda(n *lambdaNode) (string, int) {
	parent := t.join(t.scope(n.from), n.navs)
	t.nSub++
	child := &sqlScope{alias: "l" + strconv.Itoa(t.nSub), entity: n.coll.Target, joins: map[string]string{}}
	if n.inner != nil {
		t.scopes[n.inner] = child
	}
	cond := ""
	if n.body != nil {
		// any's body is a condition of the subquery's WHERE; all's is negated.
		render := func(x node) (string, int) { return t.cond(x, true) }
		if n.all {
			render = t.expr
		}
		body, p := render(n.body)
		if n.all {
			cond = " AND NOT " + paren(body, p, precAtom)
		} else {
			cond = " AND " + paren(body, p, precAnd)
		}
	}
	// The child's joins are known only once its condition is rendered.
	sub := fmt.Sprintf("EXISTS (SELECT 1 FROM %s %s%s WHERE %s.%s = %s.%s AND %s.%s = %s.%s%s)",
		sqldialect.Quote(n.coll.Target.Table), child.alias, child.joinSQL.String(),
		child.alias, sqldialect.Quote("tenant_id"), parent, sqldialect.Quote("tenant_id"),
		child.alias, sqldialect.Quote(n.coll.Ref.IDField), parent, sqldialect.Quote("id"), cond)
	if n.all {
		return "NOT " + sub, precNot
	}
	return sub, precAtom
}

// cond renders a condition in a position where only a true value keeps the
// row: the WHERE clause, and through and/or its operands, and the body of
// any(). There, NULL acts as false, so a comparison of a joined row's column
// that is false for the kind's default (what a missing row reads as) needs
// no COALESCE: it is NULL for a missing row, which drops the row just as
// false would. Compared bare, the column makes the condition reject the
// LEFT JOIN's missing rows, and both databases then plan the join as an
// inner join, free to start from the joined table's indexes:
// project/company/code eq 'C1' can start from the company and reach the
// jobs through the foreign-key indexes. Under not (and in all()), where
// false and NULL differ, columns keep their COALESCE.
//
// conj tells that n is ANDed with the rest of the WHERE clause (not under
// or): there the joins the bare column's path goes through are also
// required in so many words (j1."id" = t."project_id"), which is true
// whenever the comparison is, and lets SQLite, which turns a LEFT JOIN into
// a JOIN only for a WHERE term that names its table, do so for every join
// of the path.
func (t *translator) cond(n node, conj bool) (string, int) {
	switch n := n.(type) {
	case *binNode:
		switch n.op {
		case "and":
			return t.binaryWith(n, func(x node) (string, int) { return t.cond(x, conj) })
		case "or":
			return t.binaryWith(n, func(x node) (string, int) { return t.cond(x, false) })
		case "eq", "ne", "gt", "ge", "lt", "le":
			if c, lit, swapped := pathVsLiteral(n.l, n.r); c != nil && !holdsForDefault(n.op, c, lit, swapped) {
				return t.withBare(c, conj, func() (string, int) { return t.expr(n) })
			}
		}
	case *inNode:
		if c, ok := n.x.(*colNode); ok && len(c.navs) > 0 && c.count == nil {
			for _, it := range n.items {
				if holdsForDefault("eq", c, it, false) {
					return t.expr(n)
				}
			}
			return t.withBare(c, conj, func() (string, int) { return t.expr(n) })
		}
	case *colNode:
		if len(n.navs) > 0 && n.field.Kind == schema.KindBool {
			return t.withBare(n, conj, func() (string, int) { return t.expr(n) })
		}
	}
	return t.expr(n)
}

// withBare renders with c's column bare, followed when conj by the join
// conditions of c's path but the last (which the bare comparison implies).
func (t *translator) withBare(c *colNode, conj bool, render func() (string, int)) (string, int) {
	if t.bare == nil {
		t.bare = map[*colNode]bool{}
	}
	t.bare[c] = true
	defer delete(t.bare, c)
	s, p := render()
	if !conj || len(c.navs) < 2 {
		return s, p
	}
	sc := t.scope(c.scope)
	terms := []string{paren(s, p, precAnd)}
	for i := 1; i < len(c.navs); i++ {
		from, to := t.join(sc, c.navs[:i-1]), t.join(sc, c.navs[:i])
		terms = append(terms, to+"."+sqldialect.Quote("id")+" = "+from+"."+sqldialect.Quote(c.navs[i-1].Ref.IDField))
	}
	return strings.Join(terms, " AND "), precAnd
}
