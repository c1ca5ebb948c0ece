package apidoc

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"strconv"

	"github.com/ordo-fsm/ordo/schema"
)

// sampleDate is the date every sample shows.
const sampleDate = "2026-01-27T12:35:56.592048Z"

// Sample is the JSON request sample of e, generated the way the reference's
// is: each object numbers its own simple properties from 1 ("sample string
// 3", 14), embedded entities are expanded in place unless that would recurse
// into an entity already being written, and owned lists hold two items
// without their parent's key.
func Sample(e *schema.Entity) string {
	var buf bytes.Buffer
	writeSample(&buf, e, map[string]bool{}, nil)
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return buf.String()
	}
	return out.String()
}

// writeSample writes one object of e; skip names properties left out (the
// parent key of a list item).
func writeSample(b *bytes.Buffer, e *schema.Entity, open map[string]bool, skip *schema.Reference) {
	open[e.Name] = true
	defer delete(open, e.Name)
	b.WriteByte('{')
	n, first := 0, true
	prop := func(name string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(schema.AppendJSONString(nil, name))
		b.WriteByte(':')
	}
	for _, p := range Params(e) {
		switch {
		case p.List:
			prop(p.Name)
			b.WriteByte('[')
			l, _ := e.List(p.Name)
			for i := 0; i < 2; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				writeSample(b, l.Child, open, l.Ref)
			}
			b.WriteByte(']')
		case p.TypeEntity != nil:
			if open[p.TypeEntity.Name] {
				continue
			}
			prop(p.Name)
			writeSample(b, p.TypeEntity, open, nil)
		default:
			f := e.MustField(p.Name)
			if skip != nil && (f.RefID == skip || f.RefCode == skip || f.Name == "id" || f.ReadOnly) {
				continue
			}
			n++
			prop(p.Name)
			b.Write(sampleValue(e, f, n))
		}
	}
	b.WriteByte('}')
}

func sampleValue(e *schema.Entity, f *schema.Field, n int) []byte {
	switch f.Kind {
	case schema.KindGUID:
		return schema.AppendJSONString(nil, sampleGUID(e.Name+"."+f.Name))
	case schema.KindString:
		return schema.AppendJSONString(nil, "sample string "+strconv.Itoa(n))
	case schema.KindInt, schema.KindDecimal:
		return []byte(strconv.Itoa(n))
	case schema.KindBool:
		return []byte("true")
	case schema.KindDate:
		return []byte(`"` + sampleDate + `"`)
	}
	return []byte("null")
}

// sampleGUID is a fixed version-4-shaped GUID per property, so pages do not
// change between requests.
func sampleGUID(seed string) string {
	h := sha1.Sum([]byte(seed))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range h[:16] {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}
