package service

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// ETag is a strong validator of a row: the version token storage writes
// with every change of the row (and of its owned lists), so reads cost no
// hashing. A row written by an outside tool without a token falls back to a
// hash of every field and owned list. Both are independent of the clocks of
// the nodes that wrote the row.
func ETag(e *schema.Entity, rec ordo.Record) string {
	if tok, ok := rec[ordo.ETagKey].(string); ok {
		return `"` + tok + `"`
	}
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
