package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// Text the API refuses wherever it appears: a NUL character or bytes that
// are not UTF-8. Field values are checked by the schema (schema.CheckText,
// through Field.Parse); this file covers what reaches the server before
// fields: the URL and the raw body.

// checkURLText refuses a path or query option holding a NUL or invalid
// UTF-8 (percent-encoded or not), naming the option.
func checkURLText(r *http.Request) error {
	if reason := schema.CheckText(r.URL.Path); reason != "" {
		return ordo.FieldError("InvalidText", "path", "the URL path %s", reason)
	}
	for name, values := range r.URL.Query() {
		if reason := schema.CheckText(name); reason != "" {
			return ordo.FieldError("InvalidText", "query", "a query option name %s", reason)
		}
		for _, v := range values {
			if reason := schema.CheckText(v); reason != "" {
				return ordo.FieldError("InvalidText", name, "query option %s %s", name, reason)
			}
		}
	}
	return nil
}

// checkBodyText refuses a body that is not UTF-8. encoding/json would
// silently replace the bad bytes with U+FFFD and store a value the client
// never sent; instead the answer names the field that holds them.
func checkBodyText(raw []byte) error {
	if utf8.Valid(raw) {
		return nil
	}
	at := invalidUTF8Offset(raw)
	field := jsonPathAt(raw, at)
	if field == "" {
		return ordo.FieldError("InvalidText", "body", "the request body is not valid UTF-8 (byte %d)", at)
	}
	return ordo.FieldError("InvalidText", field, "%s is not valid UTF-8 (byte %d of the body)", field, at)
}

func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

// jsonPathAt returns the path ("project.name", "translations[1].label") of
// the JSON value or property name that covers byte offset at, "" when none
// does (e.g. the byte sits outside any string: a syntax error).
func jsonPathAt(raw []byte, at int) string {
	type frame struct {
		object   bool
		key      string
		index    int
		wantsKey bool
	}
	var stack []*frame
	path := func(withLast bool) string {
		var b []byte
		for i, f := range stack {
			if i == len(stack)-1 && !withLast {
				break
			}
			if f.object {
				if len(b) > 0 {
					b = append(b, '.')
				}
				b = append(b, f.key...)
			} else {
				b = append(b, '[')
				b = strconv.AppendInt(b, int64(f.index), 10)
				b = append(b, ']')
			}
		}
		return string(b)
	}
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantsKey = true
		} else {
			top.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		end := int(dec.InputOffset())
		inToken := int(start) <= at && at < end
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{object: t == '{', wantsKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantsKey {
				stack[n-1].key, stack[n-1].wantsKey = t, false
				if inToken {
					if p := path(false); p != "" {
						return "a property name in " + p
					}
					return "a property name"
				}
				continue
			}
			if inToken {
				return path(true)
			}
			valueDone()
		default:
			valueDone()
		}
	}
}
