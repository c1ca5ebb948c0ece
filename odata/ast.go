package odata

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Expr is a node of a parsed $filter (or $orderby key) before name resolution.
// Pos is the byte offset in the option's text where the node's operator or
// first token starts. String is a compact, deterministic, fully parenthesised
// form used by tests and logs.
type Expr interface {
	Pos() int
	String() string
	expr()
}

// LiteralKind is the lexical form of a literal.
type LiteralKind uint8

const (
	LitNull      LiteralKind = iota + 1
	LitBool                  // true, false
	LitInt                   // 42, -7
	LitDecimal               // 1.5, -2e3
	LitString                // 'text'
	LitGUID                  // unquoted 8-4-4-4-12
	LitDate                  // 2026-01-27
	LitDateTime              // 2026-01-27T12:00:00Z
	LitTimeOfDay             // 12:00:00
	LitDuration              // duration'P1DT2H'
)

// Duration is an Edm.Duration value in microseconds (the stored precision
// of date-times), so that it spans the whole date range.
type Duration int64

// Literal is a constant. Value holds the parsed value: nil (null), bool,
// int64, float64, string (strings, and GUIDs in canonical lower case),
// time.Time (dates and date-times, UTC, microseconds), time.Duration
// (times of day, since midnight) or Duration (durations).
type Literal struct {
	Kind  LiteralKind
	Raw   string // as written, quotes included
	Value any
	At    int
}

// Path is a property path: name, nav/name, $it/name, p/nav/name.
type Path struct {
	Segments []Segment
}

// Segment is one name of a path.
type Segment struct {
	Name string
	At   int
}

// Alias is a parameter alias (@name) and the expression its value holds.
type Alias struct {
	Name  string
	Value Expr // positions in it are offsets into the alias's value
	At    int
}

// Binary is a binary operator: eq ne gt ge lt le and or add sub mul div mod.
type Binary struct {
	Op   string
	L, R Expr
	At   int // the operator's position
}

// Unary is not or unary minus ("-").
type Unary struct {
	Op string
	X  Expr
	At int
}

// Call is a built-in function call such as contains(name,'x').
type Call struct {
	Name string
	Args []Expr
	At   int
}

// In is "X in (v1, v2, ...)".
type In struct {
	X    Expr
	List []*Literal
	At   int // the position of "in"
}

// Lambda is coll/any(v: body), coll/all(v: body) or coll/any().
type Lambda struct {
	Collection *Path
	Op         string // "any" or "all"
	Var        string // "" for any()
	VarAt      int
	Body       Expr // nil for any()
	At         int  // the position of any/all
}

func (*Literal) expr() {}
func (*Path) expr()    {}
func (*Binary) expr()  {}
func (*Unary) expr()   {}
func (*Call) expr()    {}
func (*In) expr()      {}
func (*Lambda) expr()  {}
func (*Alias) expr()   {}

func (x *Literal) Pos() int { return x.At }
func (x *Path) Pos() int    { return x.Segments[0].At }
func (x *Binary) Pos() int  { return x.At }
func (x *Unary) Pos() int   { return x.At }
func (x *Call) Pos() int    { return x.At }
func (x *In) Pos() int      { return x.At }
func (x *Lambda) Pos() int  { return x.At }
func (x *Alias) Pos() int   { return x.At }

// String of an alias is its value's: a query means the same with the value
// written in place.
func (x *Alias) String() string { return x.Value.String() }

// String of a literal is its canonical text: strings in single quotes (a quote doubled),
// GUIDs lower case, dates and date-times in UTC with Z.
func (x *Literal) String() string {
	switch v := x.Value.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		switch {
		case math.IsInf(v, 1):
			return "INF"
		case math.IsInf(v, -1):
			return "-INF"
		case math.IsNaN(v):
			return "NaN"
		}
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEnI") {
			s += ".0" // keep decimals recognisable in the AST's text
		}
		return s
	case string:
		if x.Kind == LitGUID {
			return v
		}
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case time.Time:
		if x.Kind == LitDate {
			return v.Format("2006-01-02")
		}
		return v.Format("2006-01-02T15:04:05.999999Z")
	case time.Duration:
		return formatTimeOfDay(v)
	case Duration:
		return "duration'" + formatDuration(v) + "'"
	}
	return x.Raw
}

func (x *Path) String() string {
	var b strings.Builder
	for i, s := range x.Segments {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(s.Name)
	}
	return b.String()
}

func (x *Binary) String() string { return "(" + x.Op + " " + x.L.String() + " " + x.R.String() + ")" }
func (x *Unary) String() string  { return "(" + x.Op + " " + x.X.String() + ")" }

func (x *Call) String() string {
	parts := make([]string, len(x.Args))
	for i, a := range x.Args {
		parts[i] = a.String()
	}
	return x.Name + "(" + strings.Join(parts, ", ") + ")"
}

func (x *In) String() string {
	parts := make([]string, len(x.List))
	for i, a := range x.List {
		parts[i] = a.String()
	}
	return "(in " + x.X.String() + " [" + strings.Join(parts, " ") + "])"
}

func (x *Lambda) String() string {
	if x.Body == nil {
		return x.Collection.String() + "/" + x.Op + "()"
	}
	return x.Collection.String() + "/" + x.Op + "(" + x.Var + ": " + x.Body.String() + ")"
}

// formatTimeOfDay renders a time of day the way both databases store it as
// text: fixed width with microseconds.
func formatTimeOfDay(d time.Duration) string {
	t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(d)
	return t.Format("15:04:05.000000")
}
