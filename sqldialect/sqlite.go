package sqldialect

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo/schema"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite stores GUIDs as lower-case text, dates as fixed-width UTC text,
// booleans as 0/1 and decimals as REAL.
type SQLite struct{}

func (SQLite) Name() string             { return "sqlite" }
func (SQLite) Placeholder(n int) string { return "?" + strconv.Itoa(n) }

func (SQLite) ColumnType(f *schema.Field) string {
	switch f.Kind {
	case schema.KindInt, schema.KindBool:
		return "INTEGER"
	case schema.KindDecimal:
		return "REAL"
	}
	return "TEXT"
}

func (SQLite) Value(k schema.Kind, v any) any {
	switch k {
	case schema.KindDate:
		t, _ := v.(time.Time)
		if t.IsZero() {
			t = schema.ZeroDate
		}
		return FormatSQLiteDate(t)
	case schema.KindBool:
		if b, _ := v.(bool); b {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

func (SQLite) Scan(k schema.Kind, raw any) (any, error) {
	switch k {
	case schema.KindString, schema.KindGUID:
		switch s := raw.(type) {
		case string:
			return s, nil
		case []byte:
			return string(s), nil
		}
	case schema.KindInt:
		if n, ok := raw.(int64); ok {
			return n, nil
		}
	case schema.KindDecimal:
		switch n := raw.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		}
	case schema.KindBool:
		if n, ok := raw.(int64); ok {
			return n != 0, nil
		}
	case schema.KindDate:
		switch s := raw.(type) {
		case string:
			return parseSQLiteDate(s)
		case time.Time:
			return s.UTC(), nil
		}
	}
	return nil, fmt.Errorf("sqlite: cannot read %T as %s", raw, k)
}

func (d SQLite) Literal(k schema.Kind, v any) string {
	switch x := d.Value(k, v).(type) {
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return formatFloat(x)
	}
	panic(fmt.Sprintf("sqlite: no literal for %T", v))
}

func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func (SQLite) IsUniqueViolation(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// UniqueColumns reads "UNIQUE constraint failed: jobs.tenant_id, jobs.id2".
func (SQLite) UniqueColumns(err error) string {
	msg := err.Error()
	const marker = "UNIQUE constraint failed: "
	i := strings.Index(msg, marker)
	if i < 0 {
		return ""
	}
	var cols []string
	for _, c := range strings.Split(msg[i+len(marker):], ", ") {
		if j := strings.LastIndex(c, "."); j >= 0 {
			c = c[j+1:]
		}
		if f := strings.Fields(c); len(f) > 0 {
			cols = append(cols, f[0])
		}
	}
	return withoutTenant(cols)
}

// IsDataError: SQLite computes overflows as REAL and divisions by zero as NULL.
func (SQLite) IsDataError(err error) bool { return false }

func (SQLite) IsRetryable(err error) bool {
	c := sqliteCode(err) & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

func (SQLite) IsUnavailable(err error) bool {
	c := sqliteCode(err) & 0xff
	return c == sqlite3.SQLITE_CANTOPEN || c == sqlite3.SQLITE_IOERR
}
