package odata

import (
	"fmt"
	"unicode/utf8"
)

// Error is a client error in a query option: the HTTP layer answers it with
// 400 and the message. Every message is safe to show to the client.
type Error struct {
	Option string // the query option, e.g. "$filter"
	Pos    int    // byte offset into the option's (URL-decoded) text; -1 when the error is about the option as a whole
	Msg    string // what was expected or what is wrong
}

func (e *Error) Error() string {
	if e.Option == "" {
		return e.Msg
	}
	if e.Pos < 0 {
		return e.Option + ": " + e.Msg
	}
	return fmt.Sprintf("%s: at position %d: %s", e.Option, e.Pos, e.Msg)
}

// Limits bound what one request may ask for, so that a hostile query cannot
// make the parser, the planner or the database work without end. A zero field
// means the default of DefaultLimits.
type Limits struct {
	MaxQueryLength  int // bytes in the whole (raw) query string given to ParseRawQuery
	MaxOptionLength int // bytes in one query option's value
	MaxDepth        int // nesting of parentheses, not, unary minus, function calls and lambdas
	MaxInItems      int // values in one 'in' list
	MaxExpandDepth  int // levels of $expand, counting the top level as 1
	MaxTop          int // largest $top accepted
	MaxJoins        int // to-one navigations joined by one query (all lambdas included)
	MaxExpandRows   int // rows one to-many $expand may load for one page (checked when the rows are read)
	MaxApplyItems   int // grouping properties plus aggregates of one $apply
}

// DefaultLimits are the limits used where a Limits field is zero.
var DefaultLimits = Limits{
	MaxQueryLength:  16384,
	MaxOptionLength: 4096,
	MaxDepth:        32,
	MaxInItems:      500,
	MaxExpandDepth:  3,
	MaxTop:          1000,
	MaxJoins:        16,
	MaxExpandRows:   10000,
	MaxApplyItems:   32,
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	def := DefaultLimits
	if l.MaxQueryLength <= 0 {
		l.MaxQueryLength = def.MaxQueryLength
	}
	if l.MaxOptionLength <= 0 {
		l.MaxOptionLength = def.MaxOptionLength
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = def.MaxDepth
	}
	if l.MaxInItems <= 0 {
		l.MaxInItems = def.MaxInItems
	}
	if l.MaxExpandDepth <= 0 {
		l.MaxExpandDepth = def.MaxExpandDepth
	}
	if l.MaxTop <= 0 {
		l.MaxTop = def.MaxTop
	}
	if l.MaxJoins <= 0 {
		l.MaxJoins = def.MaxJoins
	}
	if l.MaxExpandRows <= 0 {
		l.MaxExpandRows = def.MaxExpandRows
	}
	if l.MaxApplyItems <= 0 {
		l.MaxApplyItems = def.MaxApplyItems
	}
	return l
}

// Effective is l with its zero fields filled from DefaultLimits.
func (l Limits) Effective() Limits { return l.withDefaults() }

// checkText rejects option values the databases could not take as text: a
// string literal with invalid UTF-8 or a NUL byte makes PostgreSQL fail the
// whole query, which the client should hear about as a 400, not a 500.
func checkText(option, s string, lim Limits) *Error {
	if len(s) > lim.MaxOptionLength {
		return &Error{Option: option, Pos: lim.MaxOptionLength,
			Msg: fmt.Sprintf("the value is %d characters long; the maximum query option length is %d", len(s), lim.MaxOptionLength)}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return &Error{Option: option, Pos: i, Msg: "the text is not valid UTF-8"}
		}
		if r == 0 {
			return &Error{Option: option, Pos: i, Msg: "a NUL character is not allowed"}
		}
		i += size
	}
	return nil
}
