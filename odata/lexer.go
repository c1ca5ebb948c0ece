package odata

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tokEOF      tokKind = iota
	tokIdent            // a name: property, keyword, function; may start with $
	tokString           // 'text'; val holds the text with '' unescaped
	tokInt              // 123
	tokDecimal          // 1.5, 1e3
	tokGUID             // 01234567-89ab-cdef-0123-456789abcdef, unquoted
	tokDate             // 2026-01-27
	tokDateTime         // 2026-01-27T12:00:00.5Z
	tokTime             // 12:00:00.5
	tokLParen
	tokRParen
	tokComma
	tokSlash
	tokColon
	tokStar
	tokMinus
	tokSemicolon
	tokEquals
	tokPlus     // '+' (sent as %2B)
	tokLBracket // [ of a JSON array
	tokRBracket
	tokAlias    // @name, a parameter alias
	tokDuration // duration'P1DT2H'; val holds the text between the quotes
)

type token struct {
	kind tokKind
	pos  int    // byte offset of the token in the lexed text
	text string // the source text of the token
	val  string // tokString: the unescaped text; otherwise text
}

// describe names a token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		s := t.text
		if utf8.RuneCountInString(s) > 40 {
			s = string([]rune(s)[:37]) + "...'"
		}
		return "string " + s
	}
	return "'" + t.text + "'"
}

// lex splits s into tokens. Positions are offsets into s plus base, so that
// text cut out of a larger option ($expand's nested options) reports
// positions in the whole option.
func lex(s string, base int) ([]token, *lexError) {
	var toks []token
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			toks = append(toks, token{kind: tokEOF, pos: base + len(s)})
			return toks, nil
		}
		start := i
		c := s[i]
		var kind tokKind
		val := ""
		switch {
		case c == '\'':
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, &lexError{pos: base + start, msg: "unterminated string literal (write a quote inside a string as '')"}
			}
			kind, val = tokString, b.String()
		case c == '"':
			// A JSON string (OData 4.01 allows them in JSON arrays and
			// as string literals): escapes as in JSON.
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, &lexError{pos: base + start, msg: "unterminated string literal (a double-quoted string ends with '\"')"}
			}
			i = j + 1
			var str string
			if err := json.Unmarshal([]byte(s[start:i]), &str); err != nil {
				return nil, &lexError{pos: base + start, msg: "malformed double-quoted string (JSON escapes only: \\\", \\\\, \\n, \\uXXXX ...)"}
			}
			kind, val = tokString, str
		case c == '@':
			i++
			if i >= len(s) || !isIdentStart(s[i]) || s[i] == '$' {
				return nil, &lexError{pos: base + start, msg: "expected a parameter alias name after '@', e.g. @name"}
			}
			i = identEnd(s, i)
			kind = tokAlias
		case (c == 'd' || c == 'D') && len(s)-i > 9 && strings.EqualFold(s[i:i+8], "duration") && s[i+8] == '\'':
			j := strings.IndexByte(s[i+9:], '\'')
			if j < 0 {
				return nil, &lexError{pos: base + start, msg: "unterminated duration literal, e.g. duration'P1DT2H'"}
			}
			val = s[i+9 : i+9+j]
			i += 10 + j
			kind = tokDuration
		case isHex(c) && matchGUID(s[i:]):
			i += 36
			kind = tokGUID
		case isDigit(c):
			if n := matchDate(s[i:]); n > 0 {
				i += n
				kind = tokDate
				if m := matchTimeOfDay(s[i:], true); m > 0 {
					i += m
					kind = tokDateTime
					i += matchZone(s[i:])
				}
			} else if n := matchTimeOfDay(s[i:], false); n > 0 {
				i += n
				kind = tokTime
			} else {
				kind = tokInt
				for i < len(s) && isDigit(s[i]) {
					i++
				}
				if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
					kind = tokDecimal
					i++
					for i < len(s) && isDigit(s[i]) {
						i++
					}
				}
				if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
					j := i + 1
					if j < len(s) && (s[j] == '+' || s[j] == '-') {
						j++
					}
					if j < len(s) && isDigit(s[j]) {
						kind = tokDecimal
						i = j
						for i < len(s) && isDigit(s[i]) {
							i++
						}
					}
				}
			}
			if i < len(s) && isIdentChar(s[i]) {
				return nil, &lexError{pos: base + start, msg: fmt.Sprintf("malformed literal '%s'", s[start:identEnd(s, i)])}
			}
		case isIdentStart(c):
			i++
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
			kind = tokIdent
		default:
			i++
			switch c {
			case '(':
				kind = tokLParen
			case ')':
				kind = tokRParen
			case ',':
				kind = tokComma
			case '/':
				kind = tokSlash
			case ':':
				kind = tokColon
			case '*':
				kind = tokStar
			case '-':
				kind = tokMinus
			case ';':
				kind = tokSemicolon
			case '=':
				kind = tokEquals
			case '+':
				kind = tokPlus
			case '[':
				kind = tokLBracket
			case ']':
				kind = tokRBracket
			default:
				r, _ := utf8.DecodeRuneInString(s[start:])
				return nil, &lexError{pos: base + start, msg: fmt.Sprintf("unexpected character %q", r)}
			}
		}
		text := s[start:i]
		if kind != tokString && kind != tokDuration {
			val = text
		}
		toks = append(toks, token{kind: kind, pos: base + start, text: text, val: val})
	}
}

type lexError struct {
	pos int
	msg string
}

func isSpace(c byte) bool      { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isHex(c byte) bool        { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }
func isIdentStart(c byte) bool { return c == '_' || c == '$' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentChar(c byte) bool  { return c == '_' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z') }

func identEnd(s string, i int) int {
	for i < len(s) && isIdentChar(s[i]) {
		i++
	}
	return i
}

// matchGUID reports whether s starts with an 8-4-4-4-12 GUID not followed by
// a name character (so that a property such as abcdef01_x is not a GUID).
func matchGUID(s string) bool {
	if len(s) < 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return len(s) == 36 || !isIdentChar(s[36])
}

// digits reports whether s starts with n digits.
func digits(s string, n int) bool {
	if len(s) < n {
		return false
	}
	for i := 0; i < n; i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// matchDate returns the length of a leading yyyy-mm-dd, or 0. The year may
// have more than four digits (the ABNF allows them; the parser then says
// the date is out of range).
func matchDate(s string) int {
	y := 0
	for y < len(s) && isDigit(s[y]) {
		y++
	}
	if y >= 4 && len(s) >= y+6 && s[y] == '-' && digits(s[y+1:], 2) && s[y+3] == '-' && digits(s[y+4:], 2) {
		if len(s) > y+6 && isDigit(s[y+6]) {
			return 0
		}
		return y + 6
	}
	return 0
}

// matchTimeOfDay returns the length of a leading hh:mm[:ss[.fff]] (after a
// 'T' when afterDate), or 0.
func matchTimeOfDay(s string, afterDate bool) int {
	i := 0
	if afterDate {
		if len(s) == 0 || (s[0] != 'T' && s[0] != 't') {
			return 0
		}
		i = 1
	}
	if !digits(s[i:], 2) || len(s) < i+5 || s[i+2] != ':' || !digits(s[i+3:], 2) {
		return 0
	}
	i += 5
	if len(s) >= i+3 && s[i] == ':' && digits(s[i+1:], 2) {
		i += 3
		if len(s) > i+1 && s[i] == '.' && isDigit(s[i+1]) {
			i++
			for i < len(s) && isDigit(s[i]) {
				i++
			}
		}
	}
	if i < len(s) && isDigit(s[i]) {
		return 0
	}
	return i
}

// matchZone returns the length of a leading Z, +hh:mm or -hh:mm, or 0. A
// space before hh:mm is taken for a '+': form decoding of an unencoded
// "+01:00" in a URL turns it into " 01:00", and nothing else may follow a
// date-time that way.
func matchZone(s string) int {
	if len(s) == 0 {
		return 0
	}
	switch s[0] {
	case 'Z', 'z':
		if len(s) > 1 && isIdentChar(s[1]) {
			return 0
		}
		return 1
	case '+', '-', ' ':
		if digits(s[1:], 2) && len(s) >= 6 && s[3] == ':' && digits(s[4:], 2) && (len(s) == 6 || !isDigit(s[6])) {
			return 6
		}
	}
	return 0
}
