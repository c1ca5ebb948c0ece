package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

func (tx *Tx) selectSQL(e *schema.Entity, query ordo.Query, args *sqldialect.Args) (string, error) {
	where, err := tx.where(e, args, query.Conds)
	if err != nil {
		return "", err
	}
	where += uniqueGuards(e, query.Conds, tx.db.dialect)
	if len(query.AnyOf) > 0 {
		var any []string
		for _, c := range query.AnyOf {
			alt, err := condsSQL(e, args, []ordo.Cond{c})
			if err != nil {
				return "", err
			}
			any = append(any, "(1 = 1"+alt+uniqueGuards(e, []ordo.Cond{c}, tx.db.dialect)+")")
		}
		where += " AND (" + strings.Join(any, " OR ") + ")"
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
	s, args, err := tx.listSQL(e, query)
	if err != nil {
		return nil, err
	}
	fields := e.Fields
	if query.Fields != nil {
		fields, _ = readFields(e, query.Fields)
	}
	if conn, ok := tx.q.(*sql.Conn); ok && tx.db.dialect.Name() == "postgres" {
		return tx.listPG(ctx, conn, e, fields, s, args.List)
	}
	rows, err := tx.query(ctx, s, args.List...)
	if err != nil {
		return nil, err
	}
	return tx.scanFields(e, fields, rows)
}

// readFields are the fields a query with Fields reads: id, then the named
// ones in registry order, without repeats.
func readFields(e *schema.Entity, names []string) ([]*schema.Field, error) {
	want := map[string]bool{"id": true}
	for _, n := range names {
		if _, ok := e.Field(n); !ok {
			return nil, fmt.Errorf("sqlstore: %s has no field %s", e.Name, n)
		}
		want[n] = true
	}
	var out []*schema.Field
	for _, f := range e.Fields {
		if want[f.Name] {
			out = append(out, f)
		}
	}
	return out, nil
}

// scanFields reads rows of the columns of fields, followed by the row's
// ETag token (stored under ordo.ETagKey).
func (tx *Tx) scanFields(e *schema.Entity, fields []*schema.Field, rows *sql.Rows) ([]ordo.Record, error) {
	defer rows.Close()
	var out []ordo.Record
	raw := make([]any, len(fields)+1)
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var etag sql.NullString
	ptrs[len(fields)] = &etag
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		rec := make(ordo.Record, len(fields)+1)
		for i, f := range fields {
			v, err := tx.db.dialect.Scan(f.Kind, raw[i])
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", e.Name, f.Name, err)
			}
			rec[f.Name] = v
		}
		if etag.String != "" {
			rec[ordo.ETagKey] = etag.String
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// listSQL is the statement List runs, with its arguments.
func (tx *Tx) listSQL(e *schema.Entity, query ordo.Query) (string, *sqldialect.Args, error) {
	args := tx.args()
	from, err := tx.selectSQL(e, query, args)
	if err != nil {
		return "", nil, err
	}
	cols := columns(e)
	if query.Fields != nil {
		fields, err := readFields(e, query.Fields)
		if err != nil {
			return "", nil, err
		}
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = alias + "." + q(f.Name)
		}
		cols = strings.Join(names, ", ")
	}
	s := "SELECT " + cols + ", " + alias + "." + etagColumn + " " + from
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
	if query.ForUpdate && tx.db.dialect.Name() == "postgres" {
		// SQLite transactions that write already hold the database's single write lock.
		s += " FOR UPDATE OF " + alias
	}
	return s, args, nil
}

// Explain returns the statement Tx.List runs for q in tenant and the
// database's plan for it (EXPLAIN QUERY PLAN in SQLite, EXPLAIN in
// PostgreSQL), one line per step: for benchmarks and the performance notes.
func (db *DB) Explain(ctx context.Context, tenant int64, e *schema.Entity, q ordo.Query) (statement string, plan []string, err error) {
	err = db.Read(ctx, tenant, func(otx ordo.Tx) error {
		tx := otx.(*Tx)
		s, args, err := tx.listSQL(e, q)
		if err != nil {
			return err
		}
		statement = s
		plan, err = db.plan(ctx, tx.q, s, args.List)
		return err
	})
	return statement, plan, err
}

// Plan returns the database's plan for a statement and its arguments (one
// that TraceStatements reported, say), one line per step.
func (db *DB) Plan(ctx context.Context, statement string, args []any) ([]string, error) {
	return db.plan(ctx, db.reader, statement, args)
}

func (db *DB) plan(ctx context.Context, q queryer, statement string, args []any) ([]string, error) {
	explain := "EXPLAIN QUERY PLAN "
	if db.dialect.Name() == "postgres" {
		explain = "EXPLAIN "
	}
	rows, err := q.QueryContext(ctx, explain+statement, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var plan []string
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		line := fmt.Sprint(vals[len(vals)-1]) // SQLite: the detail column; PostgreSQL: the only one
		if b, ok := vals[len(vals)-1].([]byte); ok {
			line = string(b)
		}
		plan = append(plan, line)
	}
	return plan, rows.Err()
}

// Count implements ordo.Tx.
func (tx *Tx) Count(ctx context.Context, e *schema.Entity, query ordo.Query) (int64, error) {
	args := tx.args()
	query.OrderBy = nil
	from, err := tx.selectSQL(e, query, args)
	if err != nil {
		return 0, err
	}
	var n int64
	err = tx.queryRow(ctx, "SELECT COUNT(*) FROM (SELECT 1 AS one "+from+") c", args.List...).Scan(&n)
	return n, err
}

// Optimize refreshes the planner's statistics where the database does not
// keep them by itself: SQLite plans joins from sqlite_stat1, which only
// ANALYZE writes (PRAGMA optimize analyzes the tables whose size changed
// enough since, within a time limit). Without statistics SQLite walks a
// filtered list in primary-key order and checks the joined rows, instead of
// starting from the joined table's index: project/company/code eq 'C1'
// scans every job. PostgreSQL's autovacuum analyzes on its own; nothing to do.
func (db *DB) Optimize(ctx context.Context) error {
	if db.dialect.Name() != "sqlite" {
		return nil
	}
	_, err := db.writer.ExecContext(ctx, "PRAGMA optimize=0x10002")
	return err
}

// OptimizeEvery runs Optimize now and then every interval until ctx ends,
// logging failures: SQLite's advice for long-lived connections.
func (db *DB) OptimizeEvery(ctx context.Context, interval time.Duration) {
	for {
		if err := db.Optimize(ctx); err != nil && ctx.Err() == nil {
			db.log.Warn("optimize: refreshing the planner's statistics failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// uniqueGuards repeats, for an equality on a unique field (an ERP key,
// id2), the condition of its partial index (col <> default, see indexSQL):
// SQLite uses a partial index only when the query states that condition,
// and otherwise scans the tenant's rows to find one ERP key.
func uniqueGuards(e *schema.Entity, conds []ordo.Cond, d sqldialect.Dialect) string {
	var b strings.Builder
	for _, c := range conds {
		f, ok := e.Field(c.Field)
		if !ok || !f.Unique {
			continue
		}
		zero := schema.KindZero(f.Kind)
		values, isList := c.Value.([]string)
		if !isList {
			values = nil
			if schema.IsZero(f.Kind, c.Value) {
				continue
			}
		} else if len(values) == 0 {
			continue
		}
		hasZero := false
		for _, v := range values {
			hasZero = hasZero || schema.IsZero(f.Kind, v)
		}
		if hasZero {
			continue
		}
		b.WriteString(" AND " + alias + "." + q(f.Name) + " <> " + d.Literal(f.Kind, zero))
	}
	return b.String()
}
