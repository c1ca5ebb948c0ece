package service

import (
	"context"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// ApplyPage is one page of the result of a $apply: its rows, one value per
// column of Apply.Columns (nil where SQL gave NULL: an average, minimum or
// maximum over no rows).
type ApplyPage struct {
	Rows  [][]any
	Count int64 // the result rows in all, when asked; else -1
	More  bool  // rows follow the page
}

// Apply runs q.Apply in one query: size rows after skip, in q.ApplyOrder
// then the grouping properties, and the number of result rows when count.
func (s *Service) Apply(ctx context.Context, tenant int64, q *odata.Query, size, skip int, count bool) (ApplyPage, error) {
	page := ApplyPage{Count: -1}
	cols := q.Apply.Columns()
	kinds := make([]schema.Kind, 0, len(cols)+1)
	for _, c := range cols {
		kinds = append(kinds, c.Kind)
	}
	if count {
		kinds = append(kinds, schema.KindInt)
	}
	build := func(alias string, args *sqldialect.Args) (string, string, string, string, string, error) {
		a, err := odata.Translator{Alias: alias, Args: args}.TranslateApply(q.Apply, q.ApplyOrder, count)
		if err != nil {
			return "", "", "", "", "", err
		}
		groupBy := a.GroupBy
		if a.Having != "" {
			groupBy += " HAVING " + a.Having
		}
		return a.Select, a.Joins, a.Where, groupBy, a.OrderBy, nil
	}
	err := s.store.Read(ctx, tenant, func(tx ordo.Tx) error {
		rows, err := tx.Aggregate(ctx, q.Entity, ordo.Aggregation{Kinds: kinds, Build: build, Limit: size + 1, Offset: skip})
		if err != nil {
			return err
		}
		if count && len(rows) == 0 && skip > 0 { // skipped past the end: count without the offset
			all, err := tx.Aggregate(ctx, q.Entity, ordo.Aggregation{Kinds: kinds, Build: build, Limit: 1})
			if err != nil {
				return err
			}
			page.Count = 0
			if len(all) > 0 {
				page.Count, _ = all[0][len(cols)].(int64)
			}
		}
		if len(rows) > size {
			rows, page.More = rows[:size], true
		}
		if count && len(rows) > 0 {
			page.Count, _ = rows[0][len(cols)].(int64)
		} else if count && page.Count < 0 {
			page.Count = 0
		}
		for i, r := range rows {
			rows[i] = r[:len(cols)]
		}
		page.Rows = rows
		return nil
	})
	return page, err
}
