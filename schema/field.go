// Package schema is the entity registry: every entity of the API is described
// here once, and storage, validation, JSON encoding, OData and the docs derive
// from these descriptions.
package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Kind is the type of a field's value. Each kind has one Go representation:
// GUID and String are string, Int is int64, Decimal is float64, Bool is bool
// and Date is a UTC time.Time.
type Kind int

const (
	KindGUID Kind = iota + 1
	KindString
	KindInt
	KindDecimal
	KindBool
	KindDate
)

func (k Kind) String() string {
	switch k {
	case KindGUID:
		return "guid"
	case KindString:
		return "string"
	case KindInt:
		return "integer"
	case KindDecimal:
		return "decimal"
	case KindBool:
		return "boolean"
	case KindDate:
		return "date"
	}
	return "unknown"
}

// ZeroGUID is the GUID the API uses instead of null.
const ZeroGUID = "00000000-0000-0000-0000-000000000000"

// ZeroDate is the date the API uses instead of null.
var ZeroDate = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultMaxLen bounds strings whose maximum the contract does not give.
const DefaultMaxLen = 4000

// Field describes one property of an entity.
type Field struct {
	Name        string
	Kind        Kind
	MaxLen      int  // strings only; 0 means DefaultMaxLen
	Required    bool // must be non-default after a write
	ReadOnly    bool // server-managed or derived: accepted in bodies and ignored
	Default     any  // nil means the kind's zero value
	Description string

	// RefID / RefCode are set when the field is the _id or _code form of a reference.
	RefID   *Reference
	RefCode *Reference

	// Unique makes the (tenant, field) pair unique among non-default values.
	Unique bool
	// Index asks for a storage index on (tenant, field).
	Index bool
}

// Zero is the field's default value: what the API shows instead of null.
func (f *Field) Zero() any {
	if f.Default != nil {
		return f.Default
	}
	return KindZero(f.Kind)
}

// KindZero is the null-replacing default of a kind.
func KindZero(k Kind) any {
	switch k {
	case KindGUID:
		return ZeroGUID
	case KindString:
		return ""
	case KindInt:
		return int64(0)
	case KindDecimal:
		return float64(0)
	case KindBool:
		return false
	case KindDate:
		return ZeroDate
	}
	return nil
}

// IsZero reports whether v is the kind's "empty" value (zero GUID, "", 0, false, 1980-01-01).
func IsZero(k Kind, v any) bool {
	switch k {
	case KindGUID:
		s, _ := v.(string)
		return s == "" || s == ZeroGUID
	case KindString:
		s, _ := v.(string)
		return s == ""
	case KindInt:
		n, _ := v.(int64)
		return n == 0
	case KindDecimal:
		n, _ := v.(float64)
		return n == 0
	case KindBool:
		b, _ := v.(bool)
		return !b
	case KindDate:
		t, _ := v.(time.Time)
		return t.IsZero() || t.Equal(ZeroDate)
	}
	return v == nil
}

// MaxLength is the effective maximum length of a string field, in characters.
func (f *Field) MaxLength() int {
	if f.MaxLen > 0 {
		return f.MaxLen
	}
	return DefaultMaxLen
}

// Parse converts a value decoded from JSON (with UseNumber) to the field's Go
// representation. null means the default. The error message is client-safe.
func (f *Field) Parse(raw any) (any, error) {
	if raw == nil {
		return f.Zero(), nil
	}
	if err := checkText(f.Name, raw); err != nil {
		return nil, err
	}
	v, err := ParseValue(f.Kind, raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	if f.Kind == KindString {
		if n := utf8.RuneCountInString(v.(string)); n > f.MaxLength() {
			return nil, &LengthError{Field: f.Name, Max: f.MaxLength()}
		}
	}
	return v, nil
}

// LengthError reports a string longer than its field allows.
type LengthError struct {
	Field string
	Max   int
}

func (e *LengthError) Error() string {
	return fmt.Sprintf("%s is longer than %d characters", e.Field, e.Max)
}

// ParseValue converts a JSON-decoded value (json.Number for numbers) to kind k.
func ParseValue(k Kind, raw any) (any, error) {
	switch n := raw.(type) { // Go callers (the demo, tests) pass native numbers
	case int:
		raw = json.Number(strconv.Itoa(n))
	case int64:
		raw = json.Number(strconv.FormatInt(n, 10))
	case float64:
		raw = json.Number(strconv.FormatFloat(n, 'g', -1, 64))
	}
	switch k {
	case KindString:
		if s, ok := raw.(string); ok {
			return s, nil
		}
	case KindGUID:
		if s, ok := raw.(string); ok {
			return ParseGUID(s)
		}
	case KindInt:
		if n, ok := raw.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return i, nil
			}
			if f, err := n.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return int64(f), nil
			}
			return nil, fmt.Errorf("%s is not an integer", n)
		}
	case KindDecimal:
		if n, ok := raw.(json.Number); ok {
			f, err := n.Float64()
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, fmt.Errorf("%s is not a decimal number", n)
			}
			return f, nil
		}
	case KindBool:
		if b, ok := raw.(bool); ok {
			return b, nil
		}
	case KindDate:
		if s, ok := raw.(string); ok {
			return ParseDate(s)
		}
	}
	return nil, fmt.Errorf("expected %s, got %s", article(k), jsonTypeName(raw))
}

func article(k Kind) string {
	if k == KindInt {
		return "an integer"
	}
	return "a " + k.String()
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// ParseGUID accepts the usual GUID spellings and returns the canonical lower-case form.
func ParseGUID(s string) (string, error) {
	if s == "" {
		return ZeroGUID, nil
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a GUID", s)
	}
	return u.String(), nil
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// ParseDate accepts ISO-8601 dates and date-times; no zone means UTC. The result
// is UTC and truncated to microseconds, the precision both databases keep.
func ParseDate(s string) (time.Time, error) {
	if s == "" {
		return ZeroDate, nil
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return NormalizeDate(t), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO-8601 date", s)
}

// NormalizeDate is the one place dates are brought to the stored precision.
func NormalizeDate(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// AppendJSON appends the JSON form of v, a value of kind k.
func AppendJSON(b []byte, k Kind, v any) []byte {
	switch k {
	case KindString, KindGUID:
		s, _ := v.(string)
		if k == KindGUID && s == "" {
			s = ZeroGUID
		}
		return AppendJSONString(b, s)
	case KindInt:
		n, _ := v.(int64)
		return strconv.AppendInt(b, n, 10)
	case KindDecimal:
		n, _ := v.(float64)
		return strconv.AppendFloat(b, n, 'f', -1, 64)
	case KindBool:
		x, _ := v.(bool)
		return strconv.AppendBool(b, x)
	case KindDate:
		t, _ := v.(time.Time)
		if t.IsZero() {
			t = ZeroDate
		}
		b = append(b, '"')
		b = AppendDate(b, t)
		return append(b, '"')
	}
	return append(b, "null"...)
}

// AppendDate writes t as UTC ISO-8601 with a Z.
// It writes the digits itself rather than through time.AppendFormat, which
// was a tenth of the cost of encoding a page of jobs (15 dates a row); the
// output is the same: fractional seconds without trailing zeros.
func AppendDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.999999Z")
	}
	two := func(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
	b = two(two(b, y/100), y%100)
	b = two(append(b, '-'), int(mo))
	b = two(append(b, '-'), d)
	b = two(append(b, 'T'), h)
	b = two(append(b, ':'), mi)
	b = two(append(b, ':'), s)
	if us := t.Nanosecond() / 1000; us > 0 {
		digits := [6]byte{}
		for i := 5; i >= 0; i-- {
			digits[i] = byte('0' + us%10)
			us /= 10
		}
		n := 6
		for n > 0 && digits[n-1] == '0' {
			n--
		}
		b = append(append(b, '.'), digits[:n]...)
	}
	return append(b, 'Z')
}

// FormatValue renders v as the text an OData URL or a message would show.
func FormatValue(k Kind, v any) string {
	switch k {
	case KindString, KindGUID:
		s, _ := v.(string)
		return s
	case KindDate:
		t, _ := v.(time.Time)
		return string(AppendDate(nil, t))
	}
	return strings.Trim(string(AppendJSON(nil, k, v)), `"`)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Equal compares two values of kind k.
func Equal(k Kind, a, b any) bool {
	if k == KindDate {
		ta, _ := a.(time.Time)
		tb, _ := b.(time.Time)
		return ta.Equal(tb)
	}
	return a == b
}
