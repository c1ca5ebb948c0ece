package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

func (tx *Tx) selectSQL(e *schema.Entity, query ordo.Query, args *sqldialect.Args) (string, error) {
	where, err := tx.where(e, args, query.Conds)
	if err != nil {
		return "", err
	}
	var joins, orderBy string
	if query.Filter != nil {
		var cond string
		joins, cond, orderBy, err = query.Filter(alias, args)
		if err != nil {
			return "", err
		}
		if cond != "" {
			where += " AND (" + cond + ")"
		}
	}
	for _, o := range query.OrderBy {
		if _, ok := e.Field(o.Field); !ok {
			return "", fmt.Errorf("sqlstore: %s has no field %s", e.Name, o.Field)
		}
		if orderBy != "" {
			orderBy += ", "
		}
		orderBy += alias + "." + q(o.Field)
		if o.Desc {
			orderBy += " DESC"
		}
	}
	s := "FROM " + q(e.Table) + " " + alias + " " + joins + " WHERE " + where
	if orderBy != "" {
		s += " ORDER BY " + orderBy
	}
	return s, nil
}

// List implements ordo.Tx.
func (tx *Tx) List(ctx context.Context, e *schema.Entity, query ordo.Query) ([]ordo.Record, error) {
	args := tx.args()
	from, err := tx.selectSQL(e, query, args)
	if err != nil {
		return nil, err
	}
	s := "SELECT " + columns(e) + " " + from
	if query.Limit > 0 {
		s += fmt.Sprintf(" LIMIT %d", query.Limit)
	}
	if query.Offset > 0 {
		if query.Limit <= 0 {
			s += " LIMIT -1"
			if tx.db.dialect.Name() == "postgres" {
				s = strings.TrimSuffix(s, " LIMIT -1") + " LIMIT ALL"
			}
		}
		s += fmt.Sprintf(" OFFSET %d", query.Offset)
	}
	rows, err := tx.query(ctx, s, args.List...)
	if err != nil {
		return nil, err
	}
	return tx.scanRows(e, rows)
}

// Count implements ordo.Tx.
func (tx *Tx) Count(ctx context.Context, e *schema.Entity, query ordo.Query) (int64, error) {
	args := tx.args()
	query.OrderBy = nil
	from, err := tx.selectSQL(e, query, args)
	if err != nil {
		return 0, err
	}
	if i := strings.Index(from, " ORDER BY "); i >= 0 && query.Filter == nil {
		from = from[:i]
	}
	var n int64
	err = tx.tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 AS one "+from+") c", args.List...).Scan(&n)
	return n, err
}
