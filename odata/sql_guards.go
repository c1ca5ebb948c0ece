package odata

// The rewrites that keep path comparisons sargable (see cond).

import (
	"time"

	"github.com/ordo-fsm/ordo/schema"
)

// uniqueGuard is " AND col <> default" for an equality of column c with
// values that are none the default, when c is a unique field: storage
// indexes those with a partial index WHERE col <> default (the default is
// not a key), which SQLite uses only when the query repeats that
// condition. "" otherwise, and for a column under COALESCE (no index).
func (t *translator) uniqueGuard(c *colNode, values ...*litNode) string {
	if !c.field.Unique || (len(c.navs) > 0 && !t.bare[c]) {
		return ""
	}
	zero := schema.KindZero(c.field.Kind)
	for _, v := range values {
		if v.t != kindTyp(c.field.Kind) || schema.Equal(c.field.Kind, v.v, zero) {
			return ""
		}
	}
	return " AND " + t.column(c) + " <> " + t.d.Literal(c.field.Kind, zero)
}

// pathVsLiteral matches "column of a joined row op literal" either way round.
func pathVsLiteral(l, r node) (c *colNode, lit *litNode, swapped bool) {
	if c, ok := l.(*colNode); ok && len(c.navs) > 0 && c.count == nil {
		if lit, ok := r.(*litNode); ok {
			return c, lit, false
		}
	}
	if c, ok := r.(*colNode); ok && len(c.navs) > 0 && c.count == nil {
		if lit, ok := l.(*litNode); ok {
			return c, lit, true
		}
	}
	return nil, nil, false
}

// holdsForDefault reports whether "default op lit" (or "lit op default"
// when swapped) may be true for the default of c's kind; true when unsure.
func holdsForDefault(op string, c *colNode, lit *litNode, swapped bool) bool {
	zero := schema.KindZero(c.field.Kind)
	var cmp int
	switch z := zero.(type) {
	case string: // '' and the zero GUID sort before every other value, in any collation
		v, ok := lit.v.(string)
		if !ok {
			return true
		}
		if v != z {
			cmp = -1
		}
	case int64, float64:
		zf := 0.0
		var vf float64
		switch v := lit.v.(type) {
		case int64:
			vf = float64(v)
		case float64:
			vf = v
		default:
			return true
		}
		switch {
		case zf < vf:
			cmp = -1
		case zf > vf:
			cmp = 1
		}
	case bool:
		v, ok := lit.v.(bool)
		if !ok || (op != "eq" && op != "ne") {
			return true
		}
		if v != z {
			cmp = -1
		}
	case time.Time:
		v, ok := lit.v.(time.Time)
		if !ok {
			return true
		}
		cmp = z.Compare(v)
	default:
		return true
	}
	if swapped {
		cmp = -cmp
	}
	switch op {
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	case "gt":
		return cmp > 0
	case "ge":
		return cmp >= 0
	case "lt":
		return cmp < 0
	case "le":
		return cmp <= 0
	}
	return true
}

// colVsLiteral matches "column op literal" either way round.
func colVsLiteral(l, r node) (*colNode, *litNode) {
	if c, ok := l.(*colNode); ok {
		if lit, ok := r.(*litNode); ok {
			return c, lit
		}
	}
	if c, ok := r.(*colNode); ok {
		if lit, ok := l.(*litNode); ok {
			return c, lit
		}
	}
	return nil, nil
}
