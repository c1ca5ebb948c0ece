package odata

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// Keyset paging. A page is the rows that follow the last row of the previous
// page in the query's total order: the $orderby keys, then id as the final
// tie-breaker, so that no two rows tie. The position is the values of those
// keys on the last row sent (PageKeys gives their kinds); unlike an offset,
// it stays right while other clients insert and delete rows.

// Navigations are the to-one navigations the key's path follows before its
// field (none for a field of the entity itself).
func (k OrderKey) Navigations() []*Navigation {
	if k.col == nil {
		return nil
	}
	return k.col.navs
}

// Counted is the collection a nav/$count key counts (on the row its
// Navigations reach), nil for a key on a field.
func (k OrderKey) Counted() *Navigation {
	if k.col == nil {
		return nil
	}
	return k.col.count
}

// IDDesc reports the direction of the id tie-breaker: that of the last
// $orderby key, so that an order on an indexed field followed by id is one
// index scan in either direction.
func (q *Query) IDDesc() bool {
	return len(q.OrderBy) > 0 && q.OrderBy[len(q.OrderBy)-1].Desc
}

// PageKeys are the kinds of the values of a page position: one per $orderby
// key, then the id's.
func (q *Query) PageKeys() []schema.Kind {
	kinds := make([]schema.Kind, 0, len(q.OrderBy)+1)
	for _, k := range q.OrderBy {
		kinds = append(kinds, k.Field.Kind)
	}
	return append(kinds, schema.KindGUID)
}

// PageSQL is SQL plus keyset paging: OrderBy ends with the id tie-breaker,
// and when after is not nil (the position of the last row sent, as many
// values as PageKeys, in their schema Go form) Where also keeps only the
// rows that follow it. The condition compares the keys as one row value
// when they all sort the same way, so that an index on them serves it, and
// otherwise as the usual expansion (k1 > v1 OR k1 = v1 AND k2 > v2 ...),
// with a sargable bound on the first key.
func (q *Query) PageSQL(alias string, args *sqldialect.Args, after []any) (*SQL, error) {
	s, err := q.SQL(alias, args)
	if err != nil {
		return nil, err
	}
	idSQL := alias + "." + sqldialect.Quote("id")
	idDesc := q.IDDesc()
	order := idSQL
	if idDesc {
		order += " DESC"
	}
	if s.OrderBy != "" {
		s.OrderBy += ", " + order
	} else {
		s.OrderBy = order
	}
	if after == nil {
		return s, nil
	}
	kinds := q.PageKeys()
	if len(after) != len(kinds) {
		return nil, fmt.Errorf("odata: a page position needs %d values, got %d", len(kinds), len(after))
	}
	exprs := make([]string, len(kinds))
	desc := make([]bool, len(kinds))
	for i, k := range s.Sort {
		exprs[i], desc[i] = k.SQL, k.Desc
	}
	exprs[len(kinds)-1], desc[len(kinds)-1] = idSQL, idDesc
	vals := make([]string, len(kinds))
	for i, k := range kinds {
		if vals[i], err = bindValue(args, k, after[i]); err != nil {
			return nil, err
		}
	}
	// PostgreSQL serves a row-value comparison straight from an index on
	// (tenant_id, keys...); SQLite's planner does better with the expansion,
	// whose bound on the first key is an index range.
	same := args.D.Name() == "postgres"
	for _, d := range desc {
		same = same && d == desc[0]
	}
	var cond string
	switch {
	case len(exprs) == 1:
		cond = exprs[0] + cmpOp(desc[0], false) + vals[0]
	case same:
		cond = "(" + strings.Join(exprs, ", ") + ")" + cmpOp(desc[0], false) + "(" + strings.Join(vals, ", ") + ")"
	default:
		var ors []string
		for i := range exprs {
			var ands []string
			for j := 0; j < i; j++ {
				ands = append(ands, exprs[j]+" = "+vals[j])
			}
			ands = append(ands, exprs[i]+cmpOp(desc[i], false)+vals[i])
			ors = append(ors, strings.Join(ands, " AND "))
		}
		cond = exprs[0] + cmpOp(desc[0], true) + vals[0] + " AND (" + strings.Join(ors, " OR ") + ")"
	}
	if s.Where != "" {
		s.Where = "(" + s.Where + ") AND " + cond
	} else {
		s.Where = cond
	}
	return s, nil
}

func cmpOp(desc, orEqual bool) string {
	op := " > "
	if desc {
		op = " < "
	}
	if orEqual {
		op = op[:2] + "= "
	}
	return op
}

var kindParams = map[schema.Kind]string{
	schema.KindGUID: "param.guid", schema.KindString: "param.string", schema.KindInt: "param.int",
	schema.KindDecimal: "param.decimal", schema.KindBool: "param.bool", schema.KindDate: "param.date",
}

// bindValue binds v of kind k and returns its typed placeholder.
func bindValue(args *sqldialect.Args, k schema.Kind, v any) (string, error) {
	if args == nil || args.D == nil {
		return "", errors.New("odata: Args and Args.D must be set")
	}
	tmpl, ok := sqldialect.ODataFunc(args.D, kindParams[k])
	if !ok {
		return "", fmt.Errorf("odata: dialect %s has no OData SQL for %s", args.D.Name(), k)
	}
	return fmt.Sprintf(tmpl, args.Add(k, v)), nil
}

// InSQL is "col IN (...)" over values of kind k, with typed placeholders;
// "1 = 0" for no values.
func InSQL(args *sqldialect.Args, col string, k schema.Kind, values []string) (string, error) {
	if len(values) == 0 {
		return "1 = 0", nil
	}
	phs := make([]string, len(values))
	for i, v := range values {
		var err error
		if phs[i], err = bindValue(args, k, v); err != nil {
			return "", err
		}
	}
	return col + " IN (" + strings.Join(phs, ", ") + ")", nil
}
