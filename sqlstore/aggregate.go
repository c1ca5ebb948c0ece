package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// Aggregate implements ordo.Tx: one SELECT ... GROUP BY over the tenant's
// rows of e.
func (tx *Tx) Aggregate(ctx context.Context, e *schema.Entity, a ordo.Aggregation) ([][]any, error) {
	args := tx.args()
	where, err := tx.where(e, args, nil)
	if err != nil {
		return nil, err
	}
	sel, joins, cond, groupBy, orderBy, err := a.Build(alias, args)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("SELECT " + sel + " FROM " + q(e.Table) + " " + alias + joins + " WHERE " + where)
	if cond != "" {
		b.WriteString(" AND (" + cond + ")")
	}
	if groupBy != "" {
		b.WriteString(" GROUP BY " + groupBy)
	}
	if orderBy != "" {
		b.WriteString(" ORDER BY " + orderBy)
	}
	if a.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", a.Limit)
	}
	if a.Offset > 0 {
		if a.Limit <= 0 {
			b.WriteString(map[bool]string{true: " LIMIT ALL", false: " LIMIT -1"}[tx.db.dialect.Name() == "postgres"])
		}
		fmt.Fprintf(&b, " OFFSET %d", a.Offset)
	}
	rows, err := tx.query(ctx, b.String(), args.List...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	raw := make([]any, len(a.Kinds))
	ptrs := make([]any, len(a.Kinds))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(a.Kinds))
		for i, k := range a.Kinds {
			if raw[i] == nil {
				continue
			}
			if row[i], err = tx.db.dialect.Scan(k, raw[i]); err != nil {
				return nil, fmt.Errorf("%s $apply column %d: %w", e.Name, i+1, err)
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
