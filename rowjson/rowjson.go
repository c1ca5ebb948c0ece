// Package rowjson writes a row as the API's GET returns it: every field in
// registry order, a missing field as its zero value, then the owned lists.
// httpapi answers with it, webhook deliveries carry it and exports write it.
package rowjson

import (
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// AppendRecord appends rec, a row of e, as a JSON object. extra, when not
// empty, is written first, without braces: annotations already encoded,
// such as "@odata.context":"…" (httpapi); "" for none.
//
// Field names are written as they are: the registry's names are plain ASCII
// identifiers, which need no escaping (TestNamesNeedNoEscaping).
func AppendRecord(b []byte, e *schema.Entity, rec ordo.Record, extra string) []byte {
	b = append(b, '{')
	if extra != "" {
		b = append(b, extra...)
		b = append(b, ',')
	}
	for i, f := range e.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendField(b, f, rec)
	}
	for _, l := range e.Lists {
		b = append(b, ',')
		b = AppendList(b, l, rec)
	}
	return append(b, '}')
}

// AppendField appends the field f of rec as "name":value, its zero value
// when rec lacks it.
func AppendField(b []byte, f *schema.Field, rec ordo.Record) []byte {
	b = append(b, '"')
	b = append(b, f.Name...)
	b = append(b, '"', ':')
	v, ok := rec[f.Name]
	if !ok {
		v = f.Zero()
	}
	return schema.AppendJSON(b, f.Kind, v)
}

// AppendList appends the owned list l of rec as "name":[...], each child
// written by AppendRecord without annotations.
func AppendList(b []byte, l *schema.OwnedList, rec ordo.Record) []byte {
	b = schema.AppendJSONString(b, l.Name)
	b = append(b, ":["...)
	children, _ := rec[l.Name].([]ordo.Record)
	for i, c := range children {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendRecord(b, l.Child, c, "")
	}
	return append(b, ']')
}
