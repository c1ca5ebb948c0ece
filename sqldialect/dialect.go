// Package sqldialect is the seam between the database-neutral SQL that
// storage and OData build and the two databases Ordo runs on. Everything
// that differs between SQLite and PostgreSQL (placeholders, column types, how
// values are stored, error classification) lives behind Dialect.
package sqldialect

import (
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
