package service

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// ETag is a strong validator of a row's content: a hash of every field and
// owned list. It changes exactly when what a client reads changes, whatever
// the clocks of the nodes that wrote it.
func ETag(e *schema.Entity, rec ordo.Record) string {
	h := sha256.New()
	hashRecord(h, e, rec)
	sum := h.Sum(nil)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func hashRecord(h interface{ Write([]byte) (int, error) }, e *schema.Entity, rec ordo.Record) {
	buf := make([]byte, 0, 64)
	for _, f := range e.Fields {
		v, ok := rec[f.Name]
		if !ok {
			v = f.Zero()
		}
		buf = schema.AppendJSON(buf[:0], f.Kind, v)
		buf = append(buf, 0)
		h.Write(buf)
	}
	for _, l := range e.Lists {
		children, _ := rec[l.Name].([]ordo.Record)
		for _, c := range children {
			hashRecord(h, l.Child, c)
		}
		h.Write([]byte{1})
	}
}

// MatchETag reports whether an If-Match / If-None-Match header value names
// etag: "*" matches any, weak validators (W/"...") compare by their value.
func MatchETag(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == "*" || part == etag {
			return true
		}
	}
	return false
}
