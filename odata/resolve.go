package odata

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ordo-fsm/ordo/schema"
)

// typ is the type of a resolved expression: the schema kinds plus the date
// and time-of-day values of date() and time(), and the type of a bare null.
type typ uint8

const (
	tyNull typ = iota
	tyGUID
	tyString
	tyInt
	tyDecimal
	tyBool
	tyDate     // a date-time (schema.KindDate)
	tyDateOnly // the result of date()
	tyTime     // the result of time()
	tyDuration // a duration literal, or the difference of two date-times
)

func (t typ) String() string {
	switch t {
	case tyGUID:
		return "a GUID"
	case tyString:
		return "a string"
	case tyInt:
		return "an integer"
	case tyDecimal:
		return "a decimal"
	case tyBool:
		return "a boolean"
	case tyDate:
		return "a date-time"
	case tyDateOnly:
		return "a date"
	case tyTime:
		return "a time of day"
	case tyDuration:
		return "a duration"
	}
	return "null"
}

func (t typ) numeric() bool { return t == tyInt || t == tyDecimal }

func kindTyp(k schema.Kind) typ {
	switch k {
	case schema.KindGUID:
		return tyGUID
	case schema.KindString:
		return tyString
	case schema.KindInt:
		return tyInt
	case schema.KindDecimal:
		return tyDecimal
	case schema.KindBool:
		return tyBool
	case schema.KindDate:
		return tyDate
	}
	return tyNull
}

// node is a resolved, type-checked expression.
type node interface{ typ() typ }

// scope is a row the expression can name: the query's main entity (parent
// nil) or a lambda variable's row.
type scope struct {
	entity *schema.Entity
	parent *scope
	name   string // the lambda variable; "" for the main entity
}

// colNode is a column reached from a scope's row through to-one navigations,
// or, when count is set, the number of rows of that row's collection count
// (nav/$count; field is then countField).
type colNode struct {
	scope *scope
	navs  []*Navigation
	field *schema.Field
	count *Navigation
}

// countField stands for the value of nav/$count.
var countField = &schema.Field{Name: "$count", Kind: schema.KindInt, ReadOnly: true}

// constNode is a condition known without looking at a row (a comparison
// with NaN, which IEEE 754 makes false, or true for ne).
type constNode struct{ v bool }

func (constNode) typ() typ { return tyBool }

// litNode is a constant in its schema Go representation; a date (tyDateOnly)
// is a time.Time at midnight UTC and a time of day a time.Duration.
type litNode struct {
	t typ
	v any
}

type nowNode struct{}

// binNode is a comparison, and/or, or arithmetic.
type binNode struct {
	op   string
	l, r node
	t    typ
}

type notNode struct{ x node }
type negNode struct{ x node }

type callNode struct {
	fn   string
	args []node
	t    typ
}

type inNode struct {
	x     node
	items []*litNode
}

// lambdaNode is any/all over the to-many navigation coll of the row reached
// from scope from through navs; inner is the lambda variable's scope.
type lambdaNode struct {
	all   bool
	from  *scope
	navs  []*Navigation
	coll  *Navigation
	inner *scope
	body  node // nil for any()
}

func (c *colNode) typ() typ  { return kindTyp(c.field.Kind) }
func (l *litNode) typ() typ  { return l.t }
func (nowNode) typ() typ     { return tyDate }
func (b *binNode) typ() typ  { return b.t }
func (*notNode) typ() typ    { return tyBool }
func (n *negNode) typ() typ  { return n.x.typ() }
func (c *callNode) typ() typ { return c.t }
func (*inNode) typ() typ     { return tyBool }
func (*lambdaNode) typ() typ { return tyBool }
func (c *colNode) path() string {
	if c.count != nil {
		return navPath(c.navs, c.count.Name+"/$count")
	}
	return navPath(c.navs, c.field.Name)
}

func navPath(navs []*Navigation, last string) string {
	var b strings.Builder
	for _, n := range navs {
		b.WriteString(n.Name)
		b.WriteByte('/')
	}
	b.WriteString(last)
	return b.String()
}

// resolver checks names and types of one query level ($filter and $orderby
// of the same entity share it, so that they count joins together).
type resolver struct {
	option string
	root   *scope
	vars   []*scope // lambda variables in scope, innermost last
	lim    Limits
	joins  map[joinKey]bool
	result map[string]node // the members of a $apply result, while resolving a filter() after groupby
}

type joinKey struct {
	s    *scope
	path string
}

func newResolver(e *schema.Entity, lim Limits) *resolver {
	return &resolver{root: &scope{entity: e}, lim: lim, joins: map[joinKey]bool{}}
}

func (r *resolver) fail(pos int, format string, args ...any) {
	panic(abort{&Error{Option: r.option, Pos: pos, Msg: fmt.Sprintf(format, args...)}})
}

// Filter is a $filter resolved against an entity: every name exists and
// every operator has operands of the right types. Translate it with
// Translator.Translate or Query.SQL.
type Filter struct {
	Entity *schema.Entity
	Expr   Expr // the syntax tree
	root   node
}

func (f *Filter) String() string { return f.Expr.String() }

// ResolveFilter checks a parsed $filter against e.
func ResolveFilter(e *schema.Entity, x Expr, lim Limits) (*Filter, error) {
	f, err := newResolver(e, lim.withDefaults()).filter("$filter", x)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (r *resolver) filter(option string, x Expr) (f *Filter, err *Error) {
	defer catch(&err)
	r.option = option
	n := r.resolve(x, tyNull)
	if n.typ() != tyBool {
		r.fail(x.Pos(), "the filter must be a condition (true or false), but %s is %s", brief(x), n.typ())
	}
	return &Filter{Entity: r.root.entity, Expr: x, root: n}, nil
}

// brief shows an expression in an error message.
func brief(x Expr) string {
	s := x.String()
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:37]) + "..."
	}
	return s
}

func (r *resolver) resolve(x Expr, hint typ) node {
	switch x := x.(type) {
	case *Alias:
		saved := r.option
		r.option = x.Name
		n := r.resolve(x.Value, hint)
		r.option = saved
		return n
	case *Literal:
		return r.literal(x, hint)
	case *Path:
		if r.result != nil {
			return r.resultPath(x)
		}
		return r.path(x)
	case *Binary:
		return r.binary(x)
	case *Unary:
		n := r.resolve(x.X, tyNull)
		if x.Op == "not" {
			if n.typ() != tyBool {
				r.fail(x.X.Pos(), "'not' needs a condition, but %s is %s", brief(x.X), n.typ())
			}
			return &notNode{n}
		}
		if !n.typ().numeric() && n.typ() != tyDuration {
			r.fail(x.X.Pos(), "unary '-' needs a number or a duration, but %s is %s", brief(x.X), n.typ())
		}
		r.finite(x.X, n)
		return &negNode{n}
	case *Call:
		return r.call(x)
	case *In:
		return r.in(x)
	case *Lambda:
		if r.result != nil {
			r.fail(x.Pos(), "a filter() after groupby takes the members of the result, not any/all")
		}
		return r.lambda(x)
	}
	panic(fmt.Sprintf("odata: unknown node %T", x))
}

// literal gives a literal its type. hint is the type of the other side of a
// comparison (or of a function's parameter): it turns null into that type's
// default, a quoted string into a date-time, date, time or GUID when the other
// side is one, an integer into a decimal, and a date into a date-time.
func (r *resolver) literal(x *Literal, hint typ) node {
	switch x.Kind {
	case LitNull:
		switch hint {
		case tyNull:
			return &litNode{t: tyNull}
		case tyDateOnly:
			return &litNode{t: tyDateOnly, v: schema.ZeroDate}
		case tyTime:
			return &litNode{t: tyTime, v: time.Duration(0)}
		case tyDuration:
			return &litNode{t: tyDuration, v: Duration(0)}
		}
		return &litNode{t: hint, v: schema.KindZero(kindOf(hint))}
	case LitString:
		s := x.Value.(string)
		switch hint {
		case tyDate:
			d, err := schema.ParseDate(s)
			if err != nil || !inDateRange(d) {
				r.fail(x.At, "%s is not a date-time; write e.g. 2026-01-27T12:00:00Z or '2026-01-27T12:00:00.000Z'", x.Raw)
			}
			return &litNode{t: tyDate, v: d}
		case tyDateOnly:
			d, ok := parseDateOnly(s)
			if !ok {
				r.fail(x.At, "%s is not a date; write e.g. 2026-01-27", x.Raw)
			}
			return &litNode{t: tyDateOnly, v: d}
		case tyTime:
			d, ok := parseTimeOfDay(s)
			if !ok {
				r.fail(x.At, "%s is not a time of day; write e.g. 12:30:00", x.Raw)
			}
			return &litNode{t: tyTime, v: d}
		case tyGUID:
			g, err := schema.ParseGUID(s)
			if err != nil {
				r.fail(x.At, "%s is not a GUID", x.Raw)
			}
			return &litNode{t: tyGUID, v: g}
		case tyDuration:
			d, msg := parseDuration(s)
			if msg != "" {
				r.fail(x.At, "%s is not a duration: %s; write e.g. duration'P1DT2H30M'", x.Raw, msg)
			}
			return &litNode{t: tyDuration, v: d}
		}
		return &litNode{t: tyString, v: s}
	case LitInt:
		if hint == tyDecimal {
			return &litNode{t: tyDecimal, v: float64(x.Value.(int64))}
		}
		return &litNode{t: tyInt, v: x.Value}
	case LitDecimal:
		return &litNode{t: tyDecimal, v: x.Value}
	case LitBool:
		return &litNode{t: tyBool, v: x.Value}
	case LitGUID:
		return &litNode{t: tyGUID, v: x.Value}
	case LitDate:
		if hint == tyDateOnly {
			return &litNode{t: tyDateOnly, v: x.Value}
		}
		return &litNode{t: tyDate, v: x.Value}
	case LitDateTime:
		return &litNode{t: tyDate, v: x.Value}
	case LitTimeOfDay:
		return &litNode{t: tyTime, v: x.Value}
	case LitDuration:
		return &litNode{t: tyDuration, v: x.Value}
	}
	panic("odata: unknown literal kind")
}

// kindOf is the schema kind of a typ that has one.
func kindOf(t typ) schema.Kind {
	switch t {
	case tyGUID:
		return schema.KindGUID
	case tyString:
		return schema.KindString
	case tyInt:
		return schema.KindInt
	case tyDecimal:
		return schema.KindDecimal
	case tyBool:
		return schema.KindBool
	case tyDate:
		return schema.KindDate
	}
	return 0
}

// pair resolves the operands of a binary operator, resolving a literal after
// the other side so that it can take that side's type (hint turns that type
// into the literal's: a date-time plus a quoted duration).
func (r *resolver) pair(l, rt Expr, hint func(other typ, lit Expr) typ) (node, node) {
	if hint == nil {
		hint = func(other typ, _ Expr) typ { return other }
	}
	if isLiteral(l) && !isLiteral(rt) {
		rn := r.resolve(rt, tyNull)
		return r.resolve(l, hint(rn.typ(), l)), rn
	}
	ln := r.resolve(l, tyNull)
	return ln, r.resolve(rt, hint(ln.typ(), rt))
}

// isLiteral reports a literal, or an alias standing for one.
func isLiteral(x Expr) bool {
	switch x := x.(type) {
	case *Literal:
		return true
	case *Alias:
		return isLiteral(x.Value)
	}
	return false
}

func (r *resolver) binary(x *Binary) node {
	switch x.Op {
	case "and", "or":
		l := r.resolve(x.L, tyBool)
		rn := r.resolve(x.R, tyBool)
		for _, side := range []struct {
			x Expr
			n node
		}{{x.L, l}, {x.R, rn}} {
			if side.n.typ() != tyBool {
				r.fail(side.x.Pos(), "'%s' needs conditions on both sides, but %s is %s", x.Op, brief(side.x), side.n.typ())
			}
		}
		return &binNode{op: x.Op, l: l, r: rn, t: tyBool}
	case "add", "sub", "mul", "div", "divby", "mod":
		l, rn := r.pair(x.L, x.R, arithHint)
		r.finite(x.L, l)
		r.finite(x.R, rn)
		if t, ok := dateArith(x.Op, l.typ(), rn.typ()); ok {
			return &binNode{op: x.Op, l: l, r: rn, t: t}
		}
		for _, side := range []struct {
			x Expr
			n node
		}{{x.L, l}, {x.R, rn}} {
			if !side.n.typ().numeric() {
				if x.Op == "add" || x.Op == "sub" {
					r.fail(side.x.Pos(), "'%s' needs numbers, or a date-time and a duration, but %s is %s (with %s on the other side)", x.Op, brief(side.x), side.n.typ(), other(l, rn, side.n).typ())
				}
				r.fail(side.x.Pos(), "'%s' needs numbers on both sides, but %s is %s", x.Op, brief(side.x), side.n.typ())
			}
		}
		t := tyInt
		if l.typ() == tyDecimal || rn.typ() == tyDecimal || x.Op == "divby" {
			t = tyDecimal
		}
		return &binNode{op: x.Op, l: l, r: rn, t: t}
	}
	l, rn := r.pair(x.L, x.R, nil)
	r.comparable(x.Op, x.At, x.L, l, x.R, rn)
	if nan, _ := special(l); nan {
		return constNode{x.Op == "ne"}
	}
	if nan, _ := special(rn); nan {
		return constNode{x.Op == "ne"}
	}
	return &binNode{op: x.Op, l: l, r: rn, t: tyBool}
}

// comparable checks that op may compare a and b.
func (r *resolver) comparable(op string, pos int, ax Expr, a node, bx Expr, b node) {
	at, bt := a.typ(), b.typ()
	if nan, inf := special(a); (nan || inf) && isLiteral(bx) {
		r.fail(pos, "'%s' cannot compare two constants", op)
	}
	if at == tyNull && bt == tyNull {
		r.fail(pos, "'%s' cannot compare null with null: one side must be a property or an expression", op)
	}
	if at != bt && !(at.numeric() && bt.numeric()) {
		r.fail(pos, "'%s' cannot compare %s (%s) with %s (%s)", op, brief(ax), at, brief(bx), bt)
	}
	if at == tyBool && op != "eq" && op != "ne" && op != "in" {
		r.fail(pos, "'%s' cannot order booleans; use eq or ne", op)
	}
}

// walk follows the to-one navigations of segs (all but the last segment) from
// the scope the path starts in: a lambda variable, $it, or the main entity.
func (r *resolver) walk(segs []Segment) (*scope, []*Navigation, *schema.Entity, Segment) {
	sc, first := r.root, segs[0]
	if first.Name == "$it" {
		segs = segs[1:]
	} else {
		for i := len(r.vars) - 1; i >= 0; i-- {
			if r.vars[i].name == first.Name {
				sc = r.vars[i]
				segs = segs[1:]
				break
			}
		}
	}
	if len(segs) == 0 { // callers reject these earlier with a better message
		r.fail(first.At, "%s is not a value; write %s/<property>", first.Name, first.Name)
	}
	e := sc.entity
	var navs []*Navigation
	for i, s := range segs[:len(segs)-1] {
		nav, ok := NavigationOf(e, s.Name)
		switch {
		case !ok:
			if _, isField := e.Field(s.Name); isField {
				r.fail(s.At, "%s is a property of %s, not a navigation: nothing can follow it after '/'", s.Name, e.Name)
			}
			r.unknown(e, s, false, true)
		case nav.Many:
			r.fail(s.At, "%s is a collection: use %s/any(x: ...) or %s/all(x: ...)", s.Name, s.Name, s.Name)
		}
		navs = append(navs, nav)
		e = nav.Target
		key := joinKey{sc, navPath(navs[:i], s.Name)}
		if !r.joins[key] {
			if len(r.joins) == r.lim.MaxJoins {
				r.fail(s.At, "the query follows more than %d navigations (the maximum number of joins)", r.lim.MaxJoins)
			}
			r.joins[key] = true
		}
	}
	return sc, navs, e, segs[len(segs)-1]
}

// unknown fails on a name e does not have, suggesting a close one among its
// fields and/or navigations.
func (r *resolver) unknown(e *schema.Entity, s Segment, fields, navs bool) {
	if hint := suggest(e, s.Name, fields, navs); hint != "" {
		r.fail(s.At, "unknown property '%s' of %s (did you mean '%s'?)", s.Name, e.Name, hint)
	}
	r.fail(s.At, "unknown property '%s' of %s", s.Name, e.Name)
}

// path resolves a property path to a column. A to-one navigation used as a
// value stands for its _id column, so "project eq null" asks for an unset
// project.
func (r *resolver) path(x *Path) *colNode {
	if segs := x.Segments; len(segs) > 1 && segs[len(segs)-1].Name == "$count" {
		return r.count(x)
	}
	sc, navs, e, last := r.walkPath(x)
	if f, ok := e.Field(last.Name); ok {
		return &colNode{scope: sc, navs: navs, field: f}
	}
	nav, ok := NavigationOf(e, last.Name)
	if !ok {
		r.unknown(e, last, true, true)
	}
	if nav.Many {
		r.fail(last.At, "%s is a collection: use %s/any(x: ...) or %s/all(x: ...)", last.Name, last.Name, last.Name)
	}
	return &colNode{scope: sc, navs: navs, field: e.MustField(nav.Ref.IDField)}
}

// walkPath is walk with a better position for a path that names only a variable.
func (r *resolver) walkPath(x *Path) (*scope, []*Navigation, *schema.Entity, Segment) {
	if len(x.Segments) == 1 {
		name := x.Segments[0].Name
		if name == "$it" {
			r.fail(x.Segments[0].At, "$it is not a value; write $it/<property>")
		}
		for _, v := range r.vars {
			if v.name == name {
				r.fail(x.Segments[0].At, "%s is a lambda variable, not a value; write %s/<property>", name, name)
			}
		}
	}
	return r.walk(x.Segments)
}

func (r *resolver) lambda(x *Lambda) node {
	sc, navs, coll := r.collection(x.Collection.Segments, x.At, "any/all need a collection", "job_planning/any(p: ...)", true)
	n := &lambdaNode{all: x.Op == "all", from: sc, navs: navs, coll: coll}
	if x.Body == nil {
		return n
	}
	if x.Var == "$it" || r.isVar(x.Var) {
		r.fail(x.VarAt, "the lambda variable '%s' is already in use", x.Var)
	}
	n.inner = &scope{entity: coll.Target, parent: sc, name: x.Var}
	r.vars = append(r.vars, n.inner)
	n.body = r.resolve(x.Body, tyBool)
	r.vars = r.vars[:len(r.vars)-1]
	if n.body.typ() != tyBool {
		r.fail(x.Body.Pos(), "the condition of %s must be true or false, but %s is %s", x.Op, brief(x.Body), n.body.typ())
	}
	return n
}

// collection resolves segs to a to-many navigation, for $count and
// any/all. need says what needs it ("$count needs a collection"); at and
// example place and illustrate the error for $it or a variable alone;
// fields says whether an unknown name may be suggested a property.
func (r *resolver) collection(segs []Segment, at int, need, example string, fields bool) (*scope, []*Navigation, *Navigation) {
	if len(segs) == 1 && (segs[0].Name == "$it" || r.isVar(segs[0].Name)) {
		r.fail(at, "%s, e.g. %s", need, example)
	}
	sc, navs, e, last := r.walk(segs)
	coll, ok := NavigationOf(e, last.Name)
	switch {
	case !ok:
		if _, isField := e.Field(last.Name); isField {
			r.fail(last.At, "%s is a property of %s, not a collection: %s", last.Name, e.Name, need)
		}
		r.unknown(e, last, fields, true)
	case !coll.Many:
		r.fail(last.At, "%s is a single navigation, not a collection: %s", last.Name, need)
	}
	return sc, navs, coll
}

func (r *resolver) isVar(name string) bool {
	for _, v := range r.vars {
		if v.name == name {
			return true
		}
	}
	return false
}
