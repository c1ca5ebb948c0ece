package odata

// Literals beyond the lexer: parameter aliases, the lists of in, dates,
// date-times and times of day with their range checks.

import (
	"fmt"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo/schema"
)

// parseAlias reads a parameter alias: its value, given elsewhere in the
// query string as @name=value, is parsed as an expression where the alias
// stands, with errors positioned in that value.
func (p *parser) parseAlias() Expr {
	t := p.next()
	if p.aliases == nil {
		p.fail(t.pos, "a parameter alias cannot be used here (inside the value of another alias)")
	}
	text, ok := p.aliases[t.text]
	if !ok {
		p.fail(t.pos, "the parameter alias %s has no value: add &%s=<value> to the query string", t.text, t.text)
	}
	if err := checkText(t.text, text, p.lim); err != nil {
		panic(abort{err})
	}
	if text != "" && isSpace(text[0]) {
		p.fail(t.pos, "the value of %s starts with a space; the OData grammar allows none after '='", t.text)
	}
	sub, err := newParser(t.text, text, 0, p.lim)
	if err != nil {
		panic(abort{err})
	}
	sub.depth = p.depth
	if sub.peek().kind == tokEOF {
		p.fail(t.pos, "the parameter alias %s has an empty value", t.text)
	}
	x := sub.parseExpr("")
	if n := sub.peek(); n.kind != tokEOF {
		sub.unexpected(n)
	}
	return &Alias{Name: t.text, At: t.pos, Value: x}
}

// parseInList reads the list of 'in': (v1, v2), the JSON array [v1, v2]
// of OData 4.01, an empty list, or a parameter alias whose value is one.
func (p *parser) parseInList() []*Literal {
	open := p.peek()
	if open.kind == tokAlias {
		p.next()
		if p.aliases == nil {
			p.fail(open.pos, "a parameter alias cannot be used here (inside the value of another alias)")
		}
		text, ok := p.aliases[open.text]
		if !ok {
			p.fail(open.pos, "the parameter alias %s has no value: add &%s=(v1,v2) to the query string", open.text, open.text)
		}
		sub, err := newParser(open.text, text, 0, p.lim)
		if err != nil {
			panic(abort{err})
		}
		list := sub.parseInList()
		if t := sub.peek(); t.kind != tokEOF {
			sub.fail(t.pos, "expected the end of the list, found %s", t.describe())
		}
		return list
	}
	closeKind := tokRParen
	switch open.kind {
	case tokLParen:
	case tokLBracket:
		closeKind = tokRBracket
	default:
		p.fail(open.pos, "expected '(' or '[' after 'in', found %s", open.describe())
	}
	p.next()
	list := []*Literal{}
	if p.peek().kind == closeKind {
		p.next()
		return list // the empty list: nothing is in it
	}
	for {
		t := p.peek()
		ok := false
		switch t.kind {
		case tokString, tokInt, tokDecimal, tokGUID, tokDate, tokDateTime, tokTime, tokDuration:
			ok = true
		case tokIdent:
			ok = keywordLiteral(t)
		case tokMinus, tokPlus:
			ok = p.signedLiteral()
		case tokAlias:
			if len(list) == p.lim.MaxInItems {
				p.fail(t.pos, "the 'in' list has more than %d values (the maximum 'in' list length)", p.lim.MaxInItems)
			}
			a := p.parseAlias().(*Alias)
			lit, isLit := a.Value.(*Literal)
			if !isLit {
				p.fail(t.pos, "the value of %s in an 'in' list must be a literal", t.text)
			}
			list = append(list, lit)
			goto next
		}
		if !ok {
			p.fail(t.pos, "expected a literal in the 'in' list, found %s", t.describe())
		}
		if len(list) == p.lim.MaxInItems {
			p.fail(t.pos, "the 'in' list has more than %d values (the maximum 'in' list length)", p.lim.MaxInItems)
		}
		list = append(list, p.parseLiteral())
	next:
		t = p.next()
		if t.kind == closeKind {
			return list
		}
		if t.kind != tokComma {
			want := "')'"
			if closeKind == tokRBracket {
				want = "']'"
			}
			p.fail(t.pos, "expected ',' or %s in the 'in' list, found %s", want, t.describe())
		}
	}
}

// checkDate reads a date (or, with withTime, a date-time) literal and says
// what is wrong with it: an impossible date, or one outside the range both
// databases store.
func checkDate(s string, withTime bool) (time.Time, string) {
	what := "date"
	if withTime {
		what = "date-time"
	}
	if y := strings.IndexByte(s, '-'); y > 4 {
		return time.Time{}, fmt.Sprintf("the %s %s is out of range: years have 4 digits, dates range from 0001-01-01 to 9999-12-31", what, s)
	}
	var t time.Time
	var ok bool
	if withTime {
		t, ok = parseDateTime(s)
	} else {
		t, ok = parseDateOnly(s)
	}
	if ok {
		return t, ""
	}
	if !t.IsZero() || strings.HasPrefix(s, "0000-") {
		return time.Time{}, fmt.Sprintf("the %s %s is out of range: dates range from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z (in UTC)", what, s)
	}
	return time.Time{}, fmt.Sprintf("%s is not a valid %s (month 01-12, a day the month has, hours 00-23, minutes and seconds 00-59)", s, what)
}

func parseDateOnly(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02", s)
	return t, err == nil && inDateRange(t)
}

// inDateRange keeps dates within the years both databases store and within
// the fixed-width text SQLite compares: 0001 to 9999 in UTC.
func inDateRange(t time.Time) bool { return t.Year() >= 1 && t.Year() <= 9999 }

var dateTimeLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
}

// parseDateTime reads an ISO-8601 date-time; no zone means UTC, as elsewhere
// in the API. A space where the zone's '+' belongs is a form-decoded '+'.
func parseDateTime(s string) (time.Time, bool) {
	s = strings.ToUpper(s)
	if n := len(s); n > 6 && s[n-6] == ' ' {
		s = s[:n-6] + "+" + s[n-5:]
	}
	for _, layout := range dateTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			t = schema.NormalizeDate(t)
			if !inDateRange(t) {
				return t, false // a time outside the range, for checkDate's message
			}
			return t, true
		}
	}
	return time.Time{}, false
}

func parseTimeOfDay(s string) (time.Duration, bool) {
	for _, layout := range []string{"15:04:05.999999999", "15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)).Truncate(time.Microsecond), true
		}
	}
	return 0, false
}
