package odata

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo/schema"
)

// A $skiptoken is a page position (see PageSQL) that a client hands back
// unchanged: base64url of the key values as JSON strings, a '.', and
// base64url of a MAC over the values, the query's $filter and $orderby, and
// a binding the caller chooses (the tenant). The token is opaque to clients,
// not secret: the MAC detects a token that was altered or that belongs to
// another query or tenant, and the values are type-checked and bound as
// parameters anyway, so a forged token could only move a walk inside rows
// its client may read.

// skipTokenKey keys the MAC. It is the same on every node, so a link made by
// one node is followed on another.
var skipTokenKey = []byte("ordo odata $skiptoken v1")

const skipTokenOption = "$skiptoken"

// fingerprint identifies what a position means: the entity, the filter and
// the order.
func (q *Query) fingerprint() string {
	var b strings.Builder
	b.WriteString(q.Entity.Name)
	b.WriteByte(0)
	if q.Filter != nil {
		b.WriteString(q.Filter.String())
	}
	b.WriteByte(0)
	for _, k := range q.OrderBy {
		b.WriteString(k.Path)
		if k.Desc {
			b.WriteString(" desc")
		}
		b.WriteByte(',')
	}
	return b.String()
}

func (q *Query) tokenMAC(binding string, payload []byte) []byte {
	m := hmac.New(sha256.New, skipTokenKey)
	m.Write([]byte(q.fingerprint()))
	m.Write([]byte{0})
	m.Write([]byte(binding))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:12]
}

// EncodeSkipToken makes the $skiptoken of position values (as many as
// PageKeys, in their schema Go form) for this query and binding.
func (q *Query) EncodeSkipToken(values []any, binding string) string {
	kinds := q.PageKeys()
	strs := make([]string, len(values))
	for i, v := range values {
		strs[i] = formatKey(kinds[i], v)
	}
	payload, _ := json.Marshal(strs)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(q.tokenMAC(binding, payload))
}

// DecodeSkipToken checks a $skiptoken made by EncodeSkipToken for this query
// and binding and returns its position. Errors are *Error.
func (q *Query) DecodeSkipToken(token, binding string) ([]any, error) {
	bad := func(msg string) error { return &Error{Option: skipTokenOption, Pos: -1, Msg: msg} }
	enc := base64.RawURLEncoding
	p, m, ok := strings.Cut(token, ".")
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(m)
	if !ok || err1 != nil || err2 != nil {
		return nil, bad("malformed token; use the @odata.nextLink of the previous page as it is")
	}
	if !hmac.Equal(mac, q.tokenMAC(binding, payload)) {
		return nil, bad("the token was altered or belongs to another query: it is only valid with the $filter and $orderby of the request that returned it")
	}
	var strs []string
	kinds := q.PageKeys()
	if json.Unmarshal(payload, &strs) != nil || len(strs) != len(kinds) {
		return nil, bad("malformed token")
	}
	values := make([]any, len(strs))
	for i, s := range strs {
		v, err := parseKey(kinds[i], s)
		if err != nil {
			return nil, bad("malformed token")
		}
		values[i] = v
	}
	return values, nil
}

const keyDateLayout = "2006-01-02T15:04:05.000000Z07:00"

func formatKey(k schema.Kind, v any) string {
	switch k {
	case schema.KindInt:
		n, _ := v.(int64)
		return strconv.FormatInt(n, 10)
	case schema.KindDecimal:
		f, _ := v.(float64)
		return strconv.FormatFloat(f, 'g', -1, 64)
	case schema.KindBool:
		b, _ := v.(bool)
		return strconv.FormatBool(b)
	case schema.KindDate:
		t, _ := v.(time.Time)
		if t.IsZero() {
			t = schema.ZeroDate
		}
		return t.UTC().Format(keyDateLayout)
	}
	s, _ := v.(string)
	return s
}

func parseKey(k schema.Kind, s string) (any, error) {
	switch k {
	case schema.KindInt:
		return strconv.ParseInt(s, 10, 64)
	case schema.KindDecimal:
		f, err := strconv.ParseFloat(s, 64)
		if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
			err = strconv.ErrSyntax
		}
		return f, err
	case schema.KindBool:
		return strconv.ParseBool(s)
	case schema.KindDate:
		t, err := time.Parse(keyDateLayout, s)
		return schema.NormalizeDate(t), err
	case schema.KindGUID:
		return schema.ParseGUID(s)
	}
	return s, nil
}
