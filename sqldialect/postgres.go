package sqldialect

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ordo-fsm/ordo/schema"
)

// Postgres uses native types: uuid, timestamptz, boolean, bigint, double
// precision, and varchar(n) so the database enforces the contract's lengths too.
type Postgres struct{}

func (Postgres) Name() string             { return "postgres" }
func (Postgres) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

func (Postgres) ColumnType(f *schema.Field) string {
	switch f.Kind {
	case schema.KindGUID:
		return "uuid"
	case schema.KindInt:
		return "bigint"
	case schema.KindDecimal:
		return "double precision"
	case schema.KindBool:
		return "boolean"
	case schema.KindDate:
		return "timestamptz"
	}
	return "varchar(" + strconv.Itoa(f.MaxLength()) + ")"
}

func (Postgres) Value(k schema.Kind, v any) any {
	if k == schema.KindDate {
		t, _ := v.(time.Time)
		if t.IsZero() {
			return schema.ZeroDate
		}
		return t.UTC()
	}
	return v
}

func (Postgres) Scan(k schema.Kind, raw any) (any, error) {
	switch k {
	case schema.KindString:
		switch s := raw.(type) {
		case string:
			return s, nil
		case []byte:
			return string(s), nil
		}
	case schema.KindGUID:
		switch s := raw.(type) {
		case string:
			return s, nil
		case [16]byte:
			return FormatUUID(s), nil
		case []byte:
			if len(s) == 16 {
				var b [16]byte
				copy(b[:], s)
				return FormatUUID(b), nil
			}
			return string(s), nil
		}
	case schema.KindInt:
		switch n := raw.(type) {
		case int64:
			return n, nil
		case int32:
			return int64(n), nil
		}
	case schema.KindDecimal:
		switch n := raw.(type) {
		case float64:
			return n, nil
		case float32:
			return float64(n), nil
		}
	case schema.KindBool:
		if b, ok := raw.(bool); ok {
			return b, nil
		}
	case schema.KindDate:
		if t, ok := raw.(time.Time); ok {
			return t.UTC(), nil
		}
	}
	return nil, fmt.Errorf("postgres: cannot read %T as %s", raw, k)
}

// FormatUUID writes a UUID in its canonical lower-case form.
func FormatUUID(b [16]byte) string {
	const hex = "0123456789abcdef"
	out := make([]byte, 36)
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	return string(out)
}

func (Postgres) Literal(k schema.Kind, v any) string {
	switch k {
	case schema.KindDate:
		t, _ := v.(time.Time)
		return "'" + FormatSQLiteDate(t) + "'"
	case schema.KindBool:
		if b, _ := v.(bool); b {
			return "true"
		}
		return "false"
	case schema.KindInt:
		return strconv.FormatInt(v.(int64), 10)
	case schema.KindDecimal:
		return formatFloat(v.(float64))
	}
	return "'" + strings.ReplaceAll(fmt.Sprint(v), "'", "''") + "'"
}

func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func (Postgres) IsUniqueViolation(err error) bool { return pgCode(err) == "23505" }

// UniqueColumns reads the key from the detail "Key (tenant_id, code)=(1, X) already exists.".
func (Postgres) UniqueColumns(err error) string {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return ""
	}
	d := e.Detail
	open, end := strings.Index(d, "("), strings.Index(d, ")")
	if open < 0 || end < open {
		return ""
	}
	return withoutTenant(strings.Split(d[open+1:end], ", "))
}

// IsDataError: class 22, data exceptions (numeric out of range, division by zero, ...).
func (Postgres) IsDataError(err error) bool { return strings.HasPrefix(pgCode(err), "22") }

// IsRetryable: serialization failure and deadlock.
func (Postgres) IsRetryable(err error) bool {
	c := pgCode(err)
	return c == "40001" || c == "40P01"
}

// IsUnavailable: connection refused or lost, server shutting down or starting.
func (Postgres) IsUnavailable(err error) bool {
	c := pgCode(err)
	if strings.HasPrefix(c, "08") || c == "57P01" || c == "57P02" || c == "57P03" {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// A connection cut mid-conversation.
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	return pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "bad connection")
}
