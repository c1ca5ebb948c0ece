package odata

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo/sqldialect"
)

// ApplySQL is the translation of a $apply and its $orderby: one SELECT
// over the entity's table (aliased as Translator.Alias), grouped, whose
// result columns are Apply.Columns in order, then, with a count, the
// number of result rows (the same on every row).
type ApplySQL struct {
	Select  string // the select list
	Joins   string // LEFT JOINs to write after the main table
	Where   string // the filter() condition, "" for none
	GroupBy string // "" without groupby
	Having  string // the filter() after groupby, "" for none
	OrderBy string // "" for none
}

// TranslateApply translates a. The result is ordered by order, then by the
// grouping properties (which make a row unique), so that $skip pages are
// stable. withCount adds the number of result rows as a last column
// (a window over the grouped rows: still one query).
func (tr Translator) TranslateApply(a *Apply, order []ApplyOrder, withCount bool) (*ApplySQL, error) {
	if tr.Args == nil || tr.Args.D == nil {
		return nil, errors.New("odata: Translator.Args and Args.D must be set")
	}
	if !validAlias(tr.Alias) {
		return nil, fmt.Errorf("odata: alias %q must be a plain SQL name other than j<n> and l<n>", tr.Alias)
	}
	if _, ok := sqldialect.ODataFunc(tr.Args.D, "agg.sum.int"); !ok {
		return nil, fmt.Errorf("odata: dialect %s has no $apply SQL", tr.Args.D.Name())
	}
	now := tr.Now
	if now == nil {
		now = time.Now
	}
	t := &translator{d: tr.Args.D, args: tr.Args, clock: now, scopes: map[*scope]*sqlScope{}}
	t.root = &sqlScope{alias: tr.Alias, entity: a.Entity, joins: map[string]string{}}
	out := &ApplySQL{}
	var cols, groups []string
	n := 0
	name := func() string { n++; return sqldialect.Quote("c" + strconv.Itoa(n)) }
	for _, g := range a.GroupBy {
		s := t.column(g.col)
		groups = append(groups, s)
		cols = append(cols, s+" AS "+name())
	}
	for i := range a.Aggregates {
		cols = append(cols, t.aggregate(&a.Aggregates[i])+" AS "+name())
	}
	if withCount {
		cols = append(cols, "COUNT(*) OVER () AS "+sqldialect.Quote("n"))
	}
	out.Select = strings.Join(cols, ", ")
	if a.Filter != nil {
		out.Where, _ = t.cond(a.Filter.root, true)
	}
	if a.Grouped {
		out.GroupBy = strings.Join(groups, ", ")
	}
	if a.Having != nil {
		// HAVING repeats the aggregates: PostgreSQL does not let it name
		// the select list's aliases.
		out.Having, _ = t.expr(a.Having.root)
	}
	var keys []string
	used := map[int]bool{}
	for _, k := range order {
		i := k.Group
		if i < 0 {
			i = len(a.GroupBy) + k.Aggregate
		} else {
			used[i] = true
		}
		s := sqldialect.Quote("c" + strconv.Itoa(i+1))
		if k.Desc {
			s += " DESC"
		}
		keys = append(keys, s)
	}
	for i := range a.GroupBy {
		if !used[i] {
			keys = append(keys, sqldialect.Quote("c"+strconv.Itoa(i+1)))
		}
	}
	out.OrderBy = strings.Join(keys, ", ")
	out.Joins = t.root.joinSQL.String()
	return out, nil
}

// aggregate renders one aggregate of a $apply.
func (t *translator) aggregate(ag *Aggregate) string {
	if ag.Method == "$count" {
		return "COUNT(*)"
	}
	x, p := t.expr(ag.x)
	x = paren(x, p, precAtom)
	key := "agg." + ag.Method
	if ag.Method == "sum" {
		key += map[bool]string{true: ".int", false: ".decimal"}[ag.x.typ() == tyInt]
	}
	return t.tmpl(key, x)
}
