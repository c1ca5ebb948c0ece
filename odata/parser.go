package odata

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ordo-fsm/ordo/schema"
)

// parser is a recursive-descent parser over the tokens of one option value
// (or of a nested option inside $expand). Errors abort the parse by panicking
// with an abort value that the exported entry points recover: the grammar
// reads far better without an error check after every token.
type parser struct {
	option  string
	toks    []token
	i       int
	depth   int
	lim     Limits
	aliases map[string]string // parameter alias (with its @) → its value; nil inside an alias's value
}

type abort struct{ err *Error }

func (p *parser) fail(pos int, format string, args ...any) {
	panic(abort{&Error{Option: p.option, Pos: pos, Msg: fmt.Sprintf(format, args...)}})
}

// catch turns an abort into an error; other panics are bugs and go on.
func catch(err **Error) {
	if r := recover(); r != nil {
		a, ok := r.(abort)
		if !ok {
			panic(r)
		}
		*err = a.err
	}
}

// newParser lexes text, whose first byte is at offset base of the option.
func newParser(option, text string, base int, lim Limits) (*parser, *Error) {
	toks, lerr := lex(text, base)
	if lerr != nil {
		return nil, &Error{Option: option, Pos: lerr.pos, Msg: lerr.msg}
	}
	return &parser{option: option, toks: toks, lim: lim}, nil
}

// sub is a parser over toks (a nested option's value inside $expand) that
// shares p's limits and option name; end is where the value ends.
func (p *parser) sub(toks []token, end int) *parser {
	t := make([]token, len(toks), len(toks)+1)
	copy(t, toks)
	t = append(t, token{kind: tokEOF, pos: end})
	return &parser{option: p.option, toks: t, lim: p.lim, aliases: p.aliases}
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// isWord reports whether the next token is the keyword w, in any case:
// OData 4.01 makes operators, functions and keywords case-insensitive.
func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tokIdent && strings.EqualFold(t.text, w)
}

func (p *parser) expect(k tokKind, what string) token {
	t := p.peek()
	if t.kind != k {
		p.fail(t.pos, "expected %s, found %s", what, t.describe())
	}
	return p.next()
}

// enter counts one level of nesting; leave undoes it.
func (p *parser) enter() {
	p.depth++
	if p.depth > p.lim.MaxDepth {
		p.fail(p.peek().pos, "the expression is nested deeper than %d levels (the maximum nesting depth)", p.lim.MaxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// operators lists the words the expression grammar reserves.
var operators = map[string]bool{
	"and": true, "or": true, "not": true, "eq": true, "ne": true, "gt": true, "ge": true,
	"lt": true, "le": true, "add": true, "sub": true, "mul": true, "div": true, "divby": true, "mod": true, "in": true,
}

// isOperator reports whether name is an operator word, in any case.
func isOperator(name string) bool { return operators[strings.ToLower(name)] }

// functions gives the number of arguments of each built-in function.
var functions = map[string][2]int{
	"contains": {2, 2}, "startswith": {2, 2}, "endswith": {2, 2}, "length": {1, 1},
	"indexof": {2, 2}, "substring": {2, 3}, "tolower": {1, 1}, "toupper": {1, 1},
	"trim": {1, 1}, "concat": {2, 2}, "year": {1, 1}, "month": {1, 1}, "day": {1, 1},
	"hour": {1, 1}, "minute": {1, 1}, "second": {1, 1}, "date": {1, 1}, "time": {1, 1},
	"now": {0, 0}, "round": {1, 1}, "floor": {1, 1}, "ceiling": {1, 1},
}

// ParseFilter parses a $filter value into its syntax tree, without looking at
// any entity: names are checked by ResolveFilter (ParseQuery does both).
func ParseFilter(text string, lim Limits) (Expr, error) {
	x, err := parseFilter("$filter", text, lim.withDefaults())
	if err != nil {
		return nil, err
	}
	return x, nil
}

func parseFilter(option, text string, lim Limits) (x Expr, err *Error) {
	if err := checkText(option, text, lim); err != nil {
		return nil, err
	}
	p, err := newParser(option, text, 0, lim)
	if err != nil {
		return nil, err
	}
	return p.filter()
}

// filter parses the whole token list as one expression.
func (p *parser) filter() (x Expr, err *Error) {
	defer catch(&err)
	if p.peek().kind == tokEOF {
		p.fail(p.peek().pos, "expected an expression, found end of input")
	}
	x = p.parseExpr("")
	if t := p.peek(); t.kind != tokEOF {
		p.unexpected(t)
	}
	return x, nil
}

// unexpected reports a token that cannot follow a complete expression.
func (p *parser) unexpected(t token) {
	switch {
	case t.kind == tokIdent:
		p.fail(t.pos, "expected an operator such as eq, and, or, found %s", t.describe())
	case t.kind == tokRParen:
		p.fail(t.pos, "found ')' without a matching '('")
	}
	p.fail(t.pos, "expected an operator such as eq, and, or, found %s", t.describe())
}

func (p *parser) parseExpr(after string) Expr {
	p.enter()
	defer p.leave()
	return p.parseOr(after)
}

func (p *parser) parseOr(after string) Expr {
	l := p.parseAnd(after)
	for p.isWord("or") {
		op := p.next()
		l = &Binary{Op: "or", L: l, R: p.parseAnd("or"), At: op.pos}
	}
	return l
}

func (p *parser) parseAnd(after string) Expr {
	l := p.parseNot(after)
	for p.isWord("and") {
		op := p.next()
		l = &Binary{Op: "and", L: l, R: p.parseNot("and"), At: op.pos}
	}
	return l
}

// parseNot: 'not' applies to a whole comparison, so "not a eq b" is
// "not (a eq b)", as in the OData ABNF and in SQL.
func (p *parser) parseNot(after string) Expr {
	if p.isWord("not") {
		op := p.next()
		p.enter()
		defer p.leave()
		return &Unary{Op: "not", X: p.parseNot("not"), At: op.pos}
	}
	return p.parseEquality(after)
}

func (p *parser) parseEquality(after string) Expr {
	l := p.parseRelational(after)
	for p.isWord("eq") || p.isWord("ne") {
		op := p.next()
		name := strings.ToLower(op.text)
		l = &Binary{Op: name, L: l, R: p.parseRelational(name), At: op.pos}
	}
	return l
}

func (p *parser) parseRelational(after string) Expr {
	l := p.parseAdditive(after)
	for {
		switch {
		case p.isWord("gt") || p.isWord("ge") || p.isWord("lt") || p.isWord("le"):
			op := p.next()
			name := strings.ToLower(op.text)
			l = &Binary{Op: name, L: l, R: p.parseAdditive(name), At: op.pos}
		case p.isWord("in"):
			op := p.next()
			l = &In{X: l, List: p.parseInList(), At: op.pos}
		default:
			return l
		}
	}
}

func (p *parser) parseAdditive(after string) Expr {
	l := p.parseMul(after)
	for p.isWord("add") || p.isWord("sub") {
		op := p.next()
		name := strings.ToLower(op.text)
		l = &Binary{Op: name, L: l, R: p.parseMul(name), At: op.pos}
	}
	return l
}

func (p *parser) parseMul(after string) Expr {
	l := p.parseUnary(after)
	for p.isWord("mul") || p.isWord("div") || p.isWord("divby") || p.isWord("mod") {
		op := p.next()
		name := strings.ToLower(op.text)
		l = &Binary{Op: name, L: l, R: p.parseUnary(name), At: op.pos}
	}
	return l
}

func (p *parser) parseUnary(after string) Expr {
	t := p.peek()
	if t.kind == tokPlus {
		if p.signedLiteral() {
			return p.parseLiteral() // +42, +1.5e3
		}
		p.fail(t.pos, "'+' is a sign: it must be written right before a number, e.g. +42 (encode it as %%2B in a URL)")
	}
	if t.kind == tokMinus {
		if p.signedLiteral() {
			return p.parseLiteral() // a negative number is one literal
		}
		if n := p.peekAt(1); (n.kind == tokDate || n.kind == tokDateTime) && n.pos == t.pos+1 {
			p.fail(t.pos, "the year of -%s is before 0001; dates range from 0001-01-01 to 9999-12-31", n.text)
		}
		p.next()
		p.enter()
		defer p.leave()
		return &Unary{Op: "-", X: p.parseUnary("-"), At: t.pos}
	}
	return p.parsePrimary(after)
}

// signedLiteral reports a sign right before a number, INF or a duration.
func (p *parser) signedLiteral() bool {
	t, n := p.peek(), p.peekAt(1)
	if n.pos != t.pos+1 {
		return false
	}
	switch n.kind {
	case tokInt, tokDecimal, tokDuration:
		return true
	case tokIdent:
		return t.kind == tokMinus && n.text == "INF"
	}
	return false
}

// keywordLiteral reports whether an identifier is a literal: true, false
// and null in any case, INF and NaN as written.
func keywordLiteral(t token) bool {
	switch strings.ToLower(t.text) {
	case "true", "false", "null":
		return true
	}
	return t.text == "INF" || t.text == "NaN"
}

func (p *parser) parsePrimary(after string) Expr {
	t := p.peek()
	switch t.kind {
	case tokString, tokInt, tokDecimal, tokGUID, tokDate, tokDateTime, tokTime, tokDuration:
		return p.parseLiteral()
	case tokAlias:
		return p.parseAlias()
	case tokIdent:
		switch {
		case keywordLiteral(t) && p.peekAt(1).kind != tokSlash:
			return p.parseLiteral()
		case isOperator(t.text):
			p.expectedOperand(after, t)
		case p.peekAt(1).kind == tokLParen:
			return p.parseCall()
		}
		return p.parsePath()
	case tokLParen:
		p.next()
		x := p.parseExpr("")
		if t := p.peek(); t.kind != tokRParen {
			if t.kind == tokEOF || t.kind == tokComma {
				p.fail(t.pos, "expected ')', found %s", t.describe())
			}
			p.unexpected(t)
		}
		p.next()
		return x
	}
	p.expectedOperand(after, t)
	return nil
}

func (p *parser) expectedOperand(after string, t token) {
	if after != "" {
		p.fail(t.pos, "expected a literal or property after '%s', found %s", after, t.describe())
	}
	p.fail(t.pos, "expected a literal or property, found %s", t.describe())
}

// parseLiteral reads one literal token, with a leading sign for numbers.
func (p *parser) parseLiteral() *Literal {
	t := p.next()
	neg := ""
	if t.kind == tokMinus || t.kind == tokPlus {
		neg = t.text
		t = p.next()
	}
	start := t.pos - len(neg)
	raw := neg + t.text
	lit := &Literal{Raw: raw, At: start}
	switch t.kind {
	case tokString:
		lit.Kind, lit.Value = LitString, t.val
	case tokInt:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			p.fail(start, "the integer %s is out of range", raw)
		}
		lit.Kind, lit.Value = LitInt, n
	case tokDecimal:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			p.fail(start, "the number %s is out of range", raw)
		}
		lit.Kind, lit.Value = LitDecimal, f
	case tokGUID:
		g, err := schema.ParseGUID(t.text)
		if err != nil {
			p.fail(start, "%s is not a GUID", t.text)
		}
		lit.Kind, lit.Value = LitGUID, g
	case tokDate:
		d, msg := checkDate(t.text, false)
		if msg != "" {
			p.fail(start, "%s", msg)
		}
		lit.Kind, lit.Value = LitDate, d
	case tokDateTime:
		d, msg := checkDate(t.text, true)
		if msg != "" {
			p.fail(start, "%s", msg)
		}
		lit.Kind, lit.Value = LitDateTime, d
	case tokDuration:
		d, msg := parseDuration(t.val)
		if msg != "" {
			p.fail(start, "%s is not a duration: %s; write e.g. duration'P1DT2H30M'", raw, msg)
		}
		if neg == "-" {
			d = -d
		}
		lit.Kind, lit.Value = LitDuration, d
	case tokTime:
		d, ok := parseTimeOfDay(t.text)
		if !ok {
			p.fail(start, "%s is not a valid time of day", t.text)
		}
		lit.Kind, lit.Value = LitTimeOfDay, d
	case tokIdent:
		switch strings.ToLower(t.text) {
		case "null":
			lit.Kind = LitNull
		case "true", "false":
			lit.Kind, lit.Value = LitBool, strings.EqualFold(t.text, "true")
		default: // INF, -INF, NaN
			lit.Kind, lit.Value = LitDecimal, math.NaN()
			if t.text == "INF" {
				lit.Value = math.Inf(1)
				if neg == "-" {
					lit.Value = math.Inf(-1)
				}
			}
		}
	}
	return lit
}

func (p *parser) parseCall() Expr {
	name := p.next()
	fn := strings.ToLower(name.text)
	arity, known := functions[fn]
	if !known {
		p.fail(name.pos, "unknown function '%s'", name.text)
	}
	open := p.next()
	var args []Expr
	if p.peek().kind != tokRParen {
		for {
			args = append(args, p.parseExpr(""))
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if t := p.peek(); t.kind != tokRParen {
		if t.kind == tokEOF {
			p.fail(t.pos, "expected ')' to close %s( at position %d, found end of input", name.text, open.pos)
		}
		p.fail(t.pos, "expected ',' or ')' in the arguments of %s, found %s", name.text, t.describe())
	}
	p.next()
	if len(args) < arity[0] || len(args) > arity[1] {
		want := strconv.Itoa(arity[0])
		if arity[1] != arity[0] {
			want += " or " + strconv.Itoa(arity[1])
		}
		p.fail(name.pos, "%s takes %s argument(s), not %d", name.text, want, len(args))
	}
	return &Call{Name: fn, Args: args, At: name.pos}
}

// parsePath reads name(/name)* and an optional trailing /any(...) or /all(...).
func (p *parser) parsePath() Expr {
	first := p.next()
	path := &Path{Segments: []Segment{{Name: first.text, At: first.pos}}}
	for p.peek().kind == tokSlash {
		p.next()
		t := p.peek()
		if t.kind != tokIdent {
			p.fail(t.pos, "expected a property name after '/', found %s", t.describe())
		}
		p.next()
		if (strings.EqualFold(t.text, "any") || strings.EqualFold(t.text, "all")) && p.peek().kind == tokLParen {
			t.text = strings.ToLower(t.text)
			return p.parseLambda(path, t)
		}
		path.Segments = append(path.Segments, Segment{Name: t.text, At: t.pos})
	}
	return path
}

func (p *parser) parseLambda(coll *Path, op token) Expr {
	p.next() // (
	l := &Lambda{Collection: coll, Op: op.text, At: op.pos}
	if p.peek().kind == tokRParen {
		if op.text == "all" {
			p.fail(p.peek().pos, "all needs a condition, e.g. all(x: x/name ne '')")
		}
		p.next()
		return l
	}
	v := p.peek()
	if v.kind != tokIdent || isOperator(v.text) || strings.HasPrefix(v.text, "$") || p.peekAt(1).kind != tokColon {
		p.fail(v.pos, "expected a lambda variable and ':', e.g. %s(x: x/name eq 'A'), found %s", op.text, v.describe())
	}
	p.next()
	p.next() // :
	l.Var, l.VarAt = v.text, v.pos
	l.Body = p.parseExpr(":")
	if t := p.peek(); t.kind != tokRParen {
		if t.kind == tokEOF {
			p.fail(t.pos, "expected ')' to close %s(, found end of input", op.text)
		}
		p.unexpected(t)
	}
	p.next()
	return l
}
