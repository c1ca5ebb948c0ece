// Package sqldialect is the seam between the database-neutral SQL that
// storage and OData build and the two databases Ordo runs on. Everything
// that differs between SQLite and PostgreSQL (placeholders, column types, how
// values are stored, error classification) lives behind Dialect.
package sqldialect

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo/schema"
)

// Dialect describes one database.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// Placeholder is the n-th (1-based) bind parameter.
	Placeholder(n int) string
	// ColumnType is the column definition of a field, without NOT NULL/DEFAULT.
	ColumnType(f *schema.Field) string
	// Value converts a Go value of kind k (see schema.Kind) to a bind argument.
	Value(k schema.Kind, v any) any
	// Scan converts what the driver returned for a column of kind k back to the Go value.
	Scan(k schema.Kind, raw any) (any, error)
	// Literal renders a constant of kind k for DDL (column defaults).
	Literal(k schema.Kind, v any) string
	// IsUniqueViolation / IsRetryable classify driver errors.
	IsUniqueViolation(err error) bool
	// UniqueColumns names the columns of the violated unique index, for the message.
	UniqueColumns(err error) string
	IsRetryable(err error) bool
	// IsDataError reports a value the database cannot compute (an overflow
	// or a division by zero in a client's $filter): the client's fault.
	IsDataError(err error) bool
	// IsUnavailable reports a lost or refused connection.
	IsUnavailable(err error) bool
	// UnionColumn is the expression for a column of kind k in a UNION ALL
	// of different tables (each position must have one type on PostgreSQL),
	// and ScanUnion reads it back.
	UnionColumn(k schema.Kind, col string) string
	ScanUnion(k schema.Kind, raw any) (any, error)
	// IsStorageFull reports a write refused because the disk is full;
	// IsReadOnly one refused because the database accepts no writes.
	IsStorageFull(err error) bool
	IsReadOnly(err error) bool
}

// Quote quotes an identifier; both databases use double quotes, and quoting
// every name keeps reserved words such as "user" harmless.
func Quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// Args accumulates bind arguments and hands out the matching placeholders.
type Args struct {
	D    Dialect
	List []any
}

// Add appends an argument of kind k and returns its placeholder.
func (a *Args) Add(k schema.Kind, v any) string {
	a.List = append(a.List, a.D.Value(k, v))
	return a.D.Placeholder(len(a.List))
}

// AddRaw appends an argument that needs no conversion (ints, strings).
func (a *Args) AddRaw(v any) string {
	a.List = append(a.List, v)
	return a.D.Placeholder(len(a.List))
}

// sqliteDateLayout is fixed-width so that dates stored as text sort and
// compare correctly as strings.
const sqliteDateLayout = "2006-01-02T15:04:05.000000Z"

// FormatSQLiteDate renders t the way SQLite stores dates.
func FormatSQLiteDate(t time.Time) string { return t.UTC().Format(sqliteDateLayout) }

func withoutTenant(cols []string) string {
	var out []string
	for _, c := range cols {
		if c = strings.Trim(strings.TrimSpace(c), `"`); c != "tenant_id" && c != "" {
			out = append(out, c)
		}
	}
	return strings.Join(out, ", ")
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// parseSQLiteDate reads the fixed-width form FormatSQLiteDate writes
// (2006-01-02T15:04:05.000000Z) without time.Parse, which dominated the
// cost of reading wide rows; other forms fall back to RFC 3339.
func parseSQLiteDate(s string) (time.Time, error) {
	if len(s) != len(sqliteDateLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return time.Parse(time.RFC3339Nano, s)
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	h, ok4 := num(11, 13)
	mi, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	us, ok7 := num(20, 26)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return time.Parse(time.RFC3339Nano, s)
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, us*1000, time.UTC), nil
}

// SQLite columns have no fixed type: a UNION ALL carries them as they are.
func (SQLite) UnionColumn(k schema.Kind, col string) string { return col }

func (d SQLite) ScanUnion(k schema.Kind, raw any) (any, error) { return d.Scan(k, raw) }

// PostgreSQL carries every column of a UNION ALL as text; dates in the fixed
// UTC form SQLite stores, so one parser reads both.
func (Postgres) UnionColumn(k schema.Kind, col string) string {
	if k == schema.KindDate {
		return `to_char(` + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
	}
	return col + "::text"
}

func (Postgres) ScanUnion(k schema.Kind, raw any) (any, error) {
	var s string
	switch v := raw.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return nil, fmt.Errorf("postgres: cannot read %T as text of %s", raw, k)
	}
	switch k {
	case schema.KindString, schema.KindGUID:
		return s, nil
	case schema.KindInt:
		return strconv.ParseInt(s, 10, 64)
	case schema.KindDecimal:
		return strconv.ParseFloat(s, 64)
	case schema.KindBool:
		return s == "true", nil
	case schema.KindDate:
		return parseSQLiteDate(s)
	}
	return nil, fmt.Errorf("postgres: cannot read %q as %s", s, k)
}
