package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// Tx is a transaction bound to one tenant. Every statement it builds starts
// its WHERE clause with the tenant condition: this is the one place tenant
// isolation is enforced.
type Tx struct {
	db *DB
	// q runs the statements: the *sql.Tx, or for a read on PostgreSQL a
	// pinned connection (see DB.runOnce). tx is the *sql.Tx when there is one.
	q      queryer
	tx     *sql.Tx
	tenant int64
	stmts  *stmtCache
	// changes are the change-log entries noted by recordChange, written
	// just before commit (changelog.go).
	changes     []ordo.Change
	changeIndex map[changeKey]int
	// savepoints numbers the savepoints of joined calls; failed is the
	// first error that spoiled the transaction (see nested).
	savepoints int
	failed     error
}

// queryer is what *sql.Tx and *sql.Conn have in common.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// query and exec run SQL through the pool's prepared-statement cache: SQLite
// spends most of a short query parsing it otherwise.
func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	tx.db.counted(query, args)
	if st := tx.stmts.get(query); st != nil && tx.tx != nil {
		return tx.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.q.QueryContext(ctx, query, args...)
}

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	tx.db.counted(query, args)
	if st := tx.stmts.get(query); st != nil && tx.tx != nil {
		return tx.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.q.ExecContext(ctx, query, args...)
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	tx.db.counted(query, args)
	if st := tx.stmts.get(query); st != nil && tx.tx != nil {
		return tx.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.q.QueryRowContext(ctx, query, args...)
}

var _ ordo.Tx = (*Tx)(nil)

const alias = "t"

func q(ident string) string { return sqldialect.Quote(ident) }

// columns is the select list of an entity, every field in registry order.
func columns(e *schema.Entity) string {
	if cols, ok := columnLists.Load(e); ok {
		return cols.(string)
	}
	cols := buildColumns(e)
	columnLists.Store(e, cols)
	return cols
}

// columnLists caches each entity's column list (entities do not change once
// registered): a job's is ~150 names, rebuilt by every read otherwise.
var columnLists sync.Map

func buildColumns(e *schema.Entity) string {
	var b strings.Builder
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(alias + "." + q(f.Name))
	}
	return b.String()
}

// etagColumn is a storage-owned column of every entity table: a token
// written with every insert and update of the row, so that reads serve the
// row's ETag without hashing its content (see ordo.NewVersionToken).
const etagColumn = "ordo_etag"

// where starts a WHERE clause with the tenant condition and the conds.
func (tx *Tx) where(e *schema.Entity, args *sqldialect.Args, conds []ordo.Cond) (string, error) {
	tenant := alias + ".tenant_id = " + args.AddRaw(tx.tenant)
	rest, err := condsSQL(e, args, conds)
	return tenant + rest, err
}

// condsSQL is " AND <cond>" for each of conds.
func condsSQL(e *schema.Entity, args *sqldialect.Args, conds []ordo.Cond) (string, error) {
	var b strings.Builder
	for _, c := range conds {
		f, ok := e.Field(c.Field)
		if !ok {
			return "", fmt.Errorf("sqlstore: %s has no field %s", e.Name, c.Field)
		}
		col := alias + "." + q(f.Name)
		if list, ok := c.Value.([]string); ok { // IN (...) for batch loads
			if len(list) == 0 {
				b.WriteString(" AND 1 = 0")
				continue
			}
			b.WriteString(" AND " + col + " IN (")
			for i, v := range list {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(args.Add(f.Kind, v))
			}
			b.WriteString(")")
			continue
		}
		b.WriteString(" AND " + col + " = " + args.Add(f.Kind, c.Value))
	}
	return b.String(), nil
}

func (tx *Tx) args() *sqldialect.Args { return &sqldialect.Args{D: tx.db.dialect} }

// Get implements ordo.Tx.
func (tx *Tx) Get(ctx context.Context, e *schema.Entity, id string) (ordo.Record, error) {
	r, err := tx.Find(ctx, e, ordo.Cond{Field: "id", Value: id})
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, ordo.Errorf(ordo.ENotFound, "%s %s not found", e.Controller, id)
	}
	return r, nil
}

// Find implements ordo.Tx.
func (tx *Tx) Find(ctx context.Context, e *schema.Entity, conds ...ordo.Cond) (ordo.Record, error) {
	rows, err := tx.List(ctx, e, ordo.Query{Conds: conds, Limit: 1})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

// Insert implements ordo.Tx. Fields missing from r get their defaults.
func (tx *Tx) Insert(ctx context.Context, e *schema.Entity, r ordo.Record) error {
	args := tx.args()
	token := ordo.NewVersionToken()
	args.AddRaw(tx.tenant)
	args.AddRaw(token)
	for _, f := range e.Fields {
		v, ok := r[f.Name]
		if !ok {
			v = f.Zero()
		}
		args.Add(f.Kind, v)
	}
	if _, err := tx.exec(ctx, tx.db.insertSQL(e), args.List...); err != nil {
		return err
	}
	r[ordo.ETagKey] = token
	tx.recordChange(e, ordo.OpInsert, tx.insertedRow(e, r))
	return nil
}

// insertSQL is the INSERT of a whole row of e, built once per entity. Its
// parameters are anonymous on SQLite: the driver looks each numbered one
// up by name, a cost that grows with the square of the columns (153 for
// jobs).
func (db *DB) insertSQL(e *schema.Entity) string {
	if s, ok := db.inserts.Load(e); ok {
		return s.(string)
	}
	ph := db.dialect.Placeholder
	if db.dialect.Name() == "sqlite" {
		ph = func(int) string { return "?" }
	}
	var cols, vals strings.Builder
	cols.WriteString("tenant_id, " + etagColumn)
	vals.WriteString(ph(1) + ", " + ph(2))
	for i, f := range e.Fields {
		cols.WriteString(", " + q(f.Name))
		vals.WriteString(", " + ph(i+3))
	}
	s := "INSERT INTO " + q(e.Table) + " (" + cols.String() + ") VALUES (" + vals.String() + ")"
	db.inserts.Store(e, s)
	return s
}

// Update implements ordo.Tx.
func (tx *Tx) Update(ctx context.Context, e *schema.Entity, id string, changes ordo.Record) error {
	n, err := tx.UpdateWhere(ctx, e, changes, ordo.Cond{Field: "id", Value: id})
	if err == nil && n == 0 {
		return ordo.Errorf(ordo.ENotFound, "%s %s not found", e.Controller, id)
	}
	return err
}

// UpdateWhere implements ordo.Tx.
func (tx *Tx) UpdateWhere(ctx context.Context, e *schema.Entity, changes ordo.Record, conds ...ordo.Cond) (int64, error) {
	return tx.update(ctx, e, changes, nil, conds...)
}

// update sets changes and a new version token on the rows matching conds
// and, given versions, still holding one of them.
func (tx *Tx) update(ctx context.Context, e *schema.Entity, changes ordo.Record, versions []string, conds ...ordo.Cond) (int64, error) {
	if len(changes) == 0 {
		return 0, nil
	}
	args := tx.args()
	token := ordo.NewVersionToken()
	statement, err := tx.updateSQL(e, args, changes, token, versions, conds)
	if err != nil {
		return 0, err
	}
	rows, err := tx.query(ctx, statement+tx.returning(e), args.List...)
	if err != nil {
		return 0, err
	}
	changed, err := tx.scanChanged(e, rows)
	if err != nil {
		return 0, err
	}
	changes[ordo.ETagKey] = token
	tx.recordChange(e, ordo.OpUpdate, changed...)
	return int64(len(changed)), nil
}

// updateSQL is the UPDATE (without RETURNING) setting changes and the
// version token on the rows matching conds and, given versions, still
// holding one of them.
func (tx *Tx) updateSQL(e *schema.Entity, args *sqldialect.Args, changes ordo.Record, token string, versions []string, conds []ordo.Cond) (string, error) {
	var set strings.Builder
	set.WriteString(etagColumn + " = " + args.AddRaw(token))
	for _, f := range e.Fields { // registry order keeps statements identical across calls
		v, ok := changes[f.Name]
		if !ok {
			continue
		}
		set.WriteString(", " + q(f.Name) + " = " + args.Add(f.Kind, v))
	}
	where, err := tx.where(e, args, conds)
	if err != nil {
		return "", err
	}
	switch {
	case versions == nil:
	case tx.db.dialect.Name() == "postgres": // one statement text whatever their number
		where += " AND " + etagColumn + " = ANY(" + args.AddRaw(versions) + "::text[])"
	default:
		held := make([]string, len(versions))
		for i, v := range versions {
			held[i] = args.AddRaw(v)
		}
		where += " AND " + etagColumn + " IN (" + strings.Join(held, ", ") + ")"
	}
	// UPDATE cannot take an alias portably, so the tenant condition names the table.
	where = strings.ReplaceAll(where, alias+".", "")
	return "UPDATE " + q(e.Table) + " SET " + set.String() + " WHERE " + where, nil
}

// Delete implements ordo.Tx.
func (tx *Tx) Delete(ctx context.Context, e *schema.Entity, id string) error {
	n, err := tx.DeleteWhere(ctx, e, ordo.Cond{Field: "id", Value: id})
	if err == nil && n == 0 {
		return ordo.Errorf(ordo.ENotFound, "%s %s not found", e.Controller, id)
	}
	return err
}

// DeleteWhere implements ordo.Tx.
func (tx *Tx) DeleteWhere(ctx context.Context, e *schema.Entity, conds ...ordo.Cond) (int64, error) {
	args := tx.args()
	where, err := tx.where(e, args, conds)
	if err != nil {
		return 0, err
	}
	where = strings.ReplaceAll(where, alias+".", "")
	rows, err := tx.query(ctx, "DELETE FROM "+q(e.Table)+" WHERE "+where+tx.returning(e), args.List...)
	if err != nil {
		return 0, err
	}
	changed, err := tx.scanChanged(e, rows)
	if err != nil {
		return 0, err
	}
	tx.recordChange(e, ordo.OpDelete, changed...)
	return int64(len(changed)), nil
}

// NextID2 implements ordo.Tx. The per-tenant counter row is the source of
// truth: it is seeded once, on an entity's first id2 in the tenant, from the
// largest id2 present (read through the partial unique index), and from then
// on each call is one increment of that row, whatever the table's size.
// Numbers a client already gave are skipped.
func (tx *Tx) NextID2(ctx context.Context, e *schema.Entity) (int64, error) {
	for {
		n, err := tx.bumpID2(ctx, e, 1)
		if err != nil {
			return 0, err
		}
		taken, err := tx.takenID2(ctx, e, n, n)
		if err != nil || !taken[n] {
			return n, err
		}
	}
}

// GetForUpdate implements ordo.Tx.
func (tx *Tx) GetForUpdate(ctx context.Context, e *schema.Entity, id string) (ordo.Record, error) {
	rows, err := tx.List(ctx, e, ordo.Query{Conds: []ordo.Cond{{Field: "id", Value: id}}, ForUpdate: true})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ordo.Errorf(ordo.ENotFound, "%s %s not found", e.Controller, id)
	}
	return rows[0], nil
}
