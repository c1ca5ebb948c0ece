package odata

// Resolution of in, function calls, nav/$count, INF and NaN, and the
// date and duration arithmetic.

import (
	"math"
	"strings"
)

func (r *resolver) in(x *In) node {
	n := r.resolve(x.X, tyNull)
	if n.typ() == tyNull {
		r.fail(x.X.Pos(), "'in' needs a property or an expression on its left, not null")
	}
	out := &inNode{x: n}
	for _, it := range x.List {
		l := r.literal(it, n.typ()).(*litNode)
		r.comparable("in", it.At, x.X, n, it, l)
		if nan, _ := special(l); nan {
			continue // equal to nothing
		}
		out.items = append(out.items, l)
	}
	return out
}

// signatures gives each function's parameter types; a parameter that accepts
// several types lists them all, and the result type is worked out in call.
var signatures = map[string][][]typ{
	"contains": {{tyString}, {tyString}}, "startswith": {{tyString}, {tyString}},
	"endswith": {{tyString}, {tyString}}, "length": {{tyString}}, "indexof": {{tyString}, {tyString}},
	"substring": {{tyString}, {tyInt}, {tyInt}}, "tolower": {{tyString}}, "toupper": {{tyString}},
	"trim": {{tyString}}, "concat": {{tyString}, {tyString}},
	"year": {{tyDate, tyDateOnly}}, "month": {{tyDate, tyDateOnly}}, "day": {{tyDate, tyDateOnly}},
	"hour": {{tyDate, tyTime}}, "minute": {{tyDate, tyTime}}, "second": {{tyDate, tyTime}},
	"date": {{tyDate}}, "time": {{tyDate}}, "now": {},
	"round": {{tyDecimal, tyInt}}, "floor": {{tyDecimal, tyInt}}, "ceiling": {{tyDecimal, tyInt}},
}

var results = map[string]typ{
	"contains": tyBool, "startswith": tyBool, "endswith": tyBool, "length": tyInt, "indexof": tyInt,
	"substring": tyString, "tolower": tyString, "toupper": tyString, "trim": tyString, "concat": tyString,
	"year": tyInt, "month": tyInt, "day": tyInt, "hour": tyInt, "minute": tyInt, "second": tyInt,
	"date": tyDateOnly, "time": tyTime, "now": tyDate,
}

func (r *resolver) call(x *Call) node {
	if x.Name == "now" {
		return nowNode{}
	}
	sig := signatures[x.Name]
	c := &callNode{fn: x.Name}
	for i, a := range x.Args {
		want := sig[i]
		n := r.resolve(a, want[0])
		r.finite(a, n)
		ok := false
		for _, w := range want {
			ok = ok || n.typ() == w
		}
		if !ok {
			names := make([]string, len(want))
			for j, w := range want {
				names[j] = w.String()
			}
			r.fail(a.Pos(), "%s needs %s as argument %d, but %s is %s", x.Name, strings.Join(names, " or "), i+1, brief(a), n.typ())
		}
		c.args = append(c.args, n)
	}
	c.t = results[x.Name]
	if c.t == tyNull { // round, floor, ceiling keep their argument's type
		c.t = c.args[0].typ()
	}
	return c
}

// count resolves coll/$count (and nav/coll/$count through to-one
// navigations): the number of rows of a to-many navigation.
func (r *resolver) count(x *Path) *colNode {
	n := len(x.Segments) - 1
	sc, navs, coll := r.collection(x.Segments[:n], x.Segments[n].At, "$count needs a collection", "job_planning/$count", false)
	return &colNode{scope: sc, navs: navs, field: countField, count: coll}
}

// special reports a literal INF, -INF or NaN.
func special(n node) (nan, inf bool) {
	l, ok := n.(*litNode)
	if !ok {
		return false, false
	}
	f, ok := l.v.(float64)
	return ok && math.IsNaN(f), ok && math.IsInf(f, 0)
}

// finite fails on INF or NaN where only a comparison may take them: the
// databases disagree on what arithmetic with them gives.
func (r *resolver) finite(x Expr, n node) {
	if nan, inf := special(n); nan || inf {
		r.fail(x.Pos(), "INF and NaN can only be compared (eq, ne, gt, ge, lt, le, in), not computed with")
	}
}

// arithHint gives a quoted literal next to a date-time in add/sub the type
// it most likely has: a duration ('P1D'), else a date-time.
func arithHint(other typ, lit Expr) typ {
	if other != tyDate {
		return other
	}
	for a, ok := lit.(*Alias); ok; a, ok = lit.(*Alias) {
		lit = a.Value
	}
	if l, ok := lit.(*Literal); ok && l.Kind == LitString {
		s := strings.TrimLeft(l.Value.(string), "+-")
		if strings.HasPrefix(s, "P") || strings.HasPrefix(s, "p") {
			return tyDuration
		}
	}
	return other
}

func other(a, b, n node) node {
	if n == a {
		return b
	}
	return a
}

// dateArith is the type of date-time and duration arithmetic, as the OData
// ABNF allows it: date-time ± duration, duration + date-time, date-time -
// date-time, duration ± duration.
func dateArith(op string, l, r typ) (typ, bool) {
	if op != "add" && op != "sub" {
		return tyNull, false
	}
	switch {
	case l == tyDate && r == tyDuration:
		return tyDate, true
	case op == "add" && l == tyDuration && r == tyDate:
		return tyDate, true
	case op == "sub" && l == tyDate && r == tyDate:
		return tyDuration, true
	case l == tyDuration && r == tyDuration:
		return tyDuration, true
	}
	return tyNull, false
}
