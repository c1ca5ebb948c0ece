package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/ordo-fsm/ordo/schema"
)

// TableReport is what Copy did to one table and what it verified.
type TableReport struct {
	Table      string
	Rows       int64 // rows copied
	SourceRows int64 // rows counted in the source and the target
	TargetRows int64 // after the copy
	SourceSum  string
	TargetSum  string // equal to SourceSum when the content is the same
}

// OK reports whether the table arrived whole.
func (r TableReport) OK() bool { return r.SourceRows == r.TargetRows && r.SourceSum == r.TargetSum }

// copyRows is how many rows one COPY or INSERT chunk carries.
const copyRows = 5000

// Tables lists the tables Copy moves, in order: tenants and credentials,
// the internal tables, then every entity's. The migration bookkeeping is
// not copied: the target has been migrated by the same build.
func (db *DB) Tables() []string {
	tables := []string{"tenant", "credential", "ordo_id2", "ordo_idempotency"}
	for _, e := range db.registry.Entities {
		tables = append(tables, e.Table)
	}
	return tables
}

// IsEmpty reports whether the database holds no tenant.
func (db *DB) IsEmpty(ctx context.Context) (bool, error) {
	var n int64
	err := db.reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM tenant").Scan(&n)
	return n == 0, err
}

// Copy moves every row of every table of src into dst, which must be
// migrated and, unless force, empty (with force its rows are deleted
// first). progress is told of the rows of each chunk. Afterwards every
// table is counted and checksummed on both sides. A copy that fails half
// way leaves dst partly filled: run it again with force.
func Copy(ctx context.Context, src, dst *DB, force bool, progress func(table string, rows int)) ([]TableReport, error) {
	empty, err := dst.IsEmpty(ctx)
	if err != nil {
		return nil, err
	}
	if !empty && !force {
		return nil, fmt.Errorf("the target database already holds tenants; copy refuses to mix data (use --force to replace its content)")
	}
	tables := src.Tables()
	if !empty {
		if err := dst.empty(ctx, tables); err != nil {
			return nil, err
		}
	}
	var reports []TableReport
	for _, t := range tables {
		n, err := copyTable(ctx, src, dst, t, progress)
		if err != nil {
			return reports, fmt.Errorf("copying %s: %w", t, err)
		}
		reports = append(reports, TableReport{Table: t, Rows: n})
	}
	if dst.dialect.Name() == "postgres" { // identities continue after the copied ids
		for _, t := range []string{"tenant", "credential"} {
			if _, err := dst.writer.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('"+t+"', 'id'), COALESCE((SELECT MAX(id) FROM "+t+"), 0) + 1, false)"); err != nil {
				return reports, err
			}
		}
	}
	for i := range reports {
		r := &reports[i]
		var srcErr error
		done := make(chan struct{})
		go func() { // both sides at once
			defer close(done)
			r.SourceRows, r.SourceSum, srcErr = src.Checksum(ctx, r.Table)
		}()
		r.TargetRows, r.TargetSum, err = dst.Checksum(ctx, r.Table)
		<-done
		if err = errors.Join(srcErr, err); err != nil {
			return reports, err
		}
	}
	return reports, nil
}

// empty deletes every row of tables (TRUNCATE on PostgreSQL).
func (db *DB) empty(ctx context.Context, tables []string) error {
	if db.dialect.Name() == "postgres" {
		quoted := make([]string, len(tables))
		for i, t := range tables {
			quoted[i] = q(t)
		}
		_, err := db.writer.ExecContext(ctx, "TRUNCATE "+strings.Join(quoted, ", "))
		return err
	}
	for _, t := range tables {
		if _, err := db.writer.ExecContext(ctx, "DELETE FROM "+q(t)); err != nil {
			return fmt.Errorf("emptying %s: %w", t, err)
		}
	}
	return nil
}

// kinds maps the columns of a table to their field kinds (entity tables;
// other columns are copied as they are read).
func (db *DB) kinds(table string) map[string]schema.Kind {
	out := map[string]schema.Kind{}
	for _, e := range db.registry.Entities {
		if e.Table == table {
			for _, f := range e.Fields {
				out[f.Name] = f.Kind
			}
		}
	}
	return out
}

// columnsOf lists a table's columns as the database has them.
func (db *DB) columnsOf(ctx context.Context, table string) ([]string, error) {
	rows, err := db.reader.QueryContext(ctx, "SELECT * FROM "+q(table)+" WHERE 1 = 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

// readTable streams the rows of table as values of the columns' kinds.
func (db *DB) readTable(ctx context.Context, table string, cols []string, fn func(row []any) error) error {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = q(c)
	}
	rows, err := db.reader.QueryContext(ctx, "SELECT "+strings.Join(quoted, ", ")+" FROM "+q(table))
	if err != nil {
		return err
	}
	defer rows.Close()
	kinds := db.kinds(table)
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		row := make([]any, len(cols))
		for i, c := range cols {
			k, isField := kinds[c]
			if !isField || raw[i] == nil {
				row[i] = plain(raw[i])
				continue
			}
			v, err := db.dialect.Scan(k, raw[i])
			if err != nil {
				return fmt.Errorf("%s.%s: %w", table, c, err)
			}
			row[i] = v
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return rows.Err()
}

// plain normalises a value of a non-field column across drivers.
func plain(v any) any {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int:
		return int64(x)
	}
	return v
}

func copyTable(ctx context.Context, src, dst *DB, table string, progress func(string, int)) (int64, error) {
	cols, err := dst.columnsOf(ctx, table)
	if err != nil {
		return 0, err
	}
	srcCols, err := src.columnsOf(ctx, table)
	if err != nil {
		return 0, err
	}
	have := map[string]bool{}
	for _, c := range srcCols {
		have[c] = true
	}
	for _, c := range cols {
		if !have[c] {
			return 0, fmt.Errorf("the source has no column %s.%s: open it once with this build (ordo migrate) first", table, c)
		}
	}
	kinds := dst.kinds(table)
	// Reading the source and writing the target overlap: one goroutine reads
	// chunks while the previous one is written.
	chunks := make(chan [][]any, 2)
	readErr := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(chunks)
		chunk := make([][]any, 0, copyRows)
		err := src.readTable(ctx, table, cols, func(row []any) error {
			if chunk = append(chunk, row); len(chunk) == copyRows {
				select {
				case chunks <- chunk:
				case <-ctx.Done():
					return ctx.Err()
				}
				chunk = make([][]any, 0, copyRows)
			}
			return nil
		})
		if err == nil && len(chunk) > 0 {
			chunks <- chunk
		}
		readErr <- err
	}()
	var n int64
	for chunk := range chunks {
		if err := dst.writeRows(ctx, table, cols, kinds, chunk); err != nil {
			cancel()
			for range chunks { // let the reader finish
			}
			return n, err
		}
		n += int64(len(chunk))
		progress(table, len(chunk))
	}
	return n, <-readErr
}

// writeRows stores a chunk: COPY on PostgreSQL, multi-row INSERTs in one
// transaction on SQLite.
func (db *DB) writeRows(ctx context.Context, table string, cols []string, kinds map[string]schema.Kind, rows [][]any) error {
	for _, row := range rows {
		for i, c := range cols {
			if k, ok := kinds[c]; ok {
				row[i] = db.dialect.Value(k, row[i])
				if k == schema.KindGUID && db.dialect.Name() == "postgres" {
					u, err := uuid.Parse(row[i].(string))
					if err != nil {
						return fmt.Errorf("%s.%s: %w", table, c, err)
					}
					row[i] = [16]byte(u)
				}
			}
		}
	}
	if db.dialect.Name() == "postgres" {
		conn, err := db.writer.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			return err
		})
	}
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	per := max(1, 30000/len(cols)) // SQLite's limit on variables per statement
	for start := 0; start < len(rows); start += per {
		part := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString("INSERT INTO " + q(table) + " (")
		for i, c := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(q(c))
		}
		b.WriteString(") VALUES ")
		args := make([]any, 0, len(part)*len(cols))
		for r, row := range part {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for i := range cols {
				if i > 0 {
					b.WriteString(", ")
				}
				args = append(args, row[i])
				b.WriteString(db.dialect.Placeholder(len(args)))
			}
			b.WriteString(")")
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Checksum counts the rows of table and sums a hash of each row's values in
// a form independent of the database (GUIDs as text, dates in UTC,
// booleans, numbers), so the same content gives the same sum on SQLite and
// PostgreSQL whatever the row order.
func (db *DB) Checksum(ctx context.Context, table string) (int64, string, error) {
	cols, err := db.columnsOf(ctx, table)
	if err != nil {
		return 0, "", err
	}
	var n int64
	var sum [4]uint64
	var b []byte
	err = db.readTable(ctx, table, cols, func(row []any) error {
		b = b[:0]
		for i, v := range row {
			b = append(b, cols[i]...)
			b = append(b, '=')
			b = appendCanonical(b, v)
			b = append(b, 0)
		}
		h := sha256.Sum256(b)
		for i := range sum {
			sum[i] += binary.BigEndian.Uint64(h[i*8:])
		}
		n++
		return nil
	})
	var out [32]byte
	for i, s := range sum {
		binary.BigEndian.PutUint64(out[i*8:], s)
	}
	return n, hex.EncodeToString(out[:]), err
}

func appendCanonical(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "\x01null"...)
	case string:
		return append(b, x...)
	case []byte:
		return append(b, x...)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.AppendInt(b, int64(x), 10)
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case bool:
		return strconv.AppendBool(b, x)
	case time.Time:
		return x.UTC().AppendFormat(b, time.RFC3339Nano)
	}
	return fmt.Append(b, v)
}

// Count counts the rows of a table (every tenant).
func (db *DB) Count(ctx context.Context, table string) (int64, error) {
	var n int64
	err := db.reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+q(table)).Scan(&n)
	return n, err
}
