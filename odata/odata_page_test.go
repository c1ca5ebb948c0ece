package odata

import (
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// TestSkipTokenRoundTrip: a token gives back the position it was made from,
// for every kind of key, and only for its query and binding.
func TestSkipTokenRoundTrip(t *testing.T) {
	jobs := schema.Default.MustEntity("jobs")
	q, err := ParseRawQuery(jobs, "$orderby=estimated_time desc,db_address_latitude_decimal,project/is_mobile_installation,due_date,name,project_id&$filter=name ne 'x'", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	pos := []any{int64(-42), 0.1 + 0.2, true, time.Date(2026, 1, 27, 12, 0, 0, 123456000, time.UTC), "naïve 'quoted' \"x\"",
		"0a1b2c3d-4e5f-6789-abcd-ef0123456789", "ffffffff-ffff-4fff-8fff-ffffffffffff"}
	tok := q.EncodeSkipToken(pos, "7")
	if strings.ContainsAny(tok, "+/=&?% ") {
		t.Errorf("token %q is not URL-safe", tok)
	}
	got, err := q.DecodeSkipToken(tok, "7")
	if err != nil {
		t.Fatal(err)
	}
	kinds := q.PageKeys()
	for i := range pos {
		if !schema.Equal(kinds[i], got[i], pos[i]) {
			t.Errorf("key %d: %#v, want %#v", i, got[i], pos[i])
		}
	}
	other, _ := ParseRawQuery(jobs, "$orderby=estimated_time desc,db_address_latitude_decimal,project/is_mobile_installation,due_date,name,project_id&$filter=name ne 'y'", Limits{})
	payload, mac, _ := strings.Cut(tok, ".")
	for name, bad := range map[string]func() error{
		"other binding":  func() error { _, err := q.DecodeSkipToken(tok, "8"); return err },
		"other filter":   func() error { _, err := other.DecodeSkipToken(tok, "7"); return err },
		"altered":        func() error { _, err := q.DecodeSkipToken(flip(payload)+"."+mac, "7"); return err },
		"no MAC":         func() error { _, err := q.DecodeSkipToken(payload, "7"); return err },
		"not base64":     func() error { _, err := q.DecodeSkipToken("!!.!!", "7"); return err },
		"another length": func() error { _, err := q.DecodeSkipToken(q.EncodeSkipToken(pos[:3], "7"), "7"); return err },
	} {
		err := bad()
		if e, ok := err.(*Error); !ok || e.Option != "$skiptoken" {
			t.Errorf("%s: %v, want a $skiptoken error", name, err)
		}
	}
}

// flip changes the first character of s.
func flip(s string) string {
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}

// TestPageSQL: the id tie-breaker follows the last key's direction; the
// position is a row value in PostgreSQL when the keys sort one way, the
// expansion with a bound on the first key otherwise and in SQLite.
func TestPageSQL(t *testing.T) {
	jobs := schema.Default.MustEntity("jobs")
	id := "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	m := time.Date(2026, 1, 27, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		query      string
		after      []any
		d          sqldialect.Dialect
		where, ord string
	}{
		{"", nil, sqldialect.SQLite{}, ``, `t."id"`},
		{"", []any{id}, sqldialect.SQLite{}, `t."id" > ?1`, `t."id"`},
		{"", []any{id}, sqldialect.Postgres{}, `t."id" > $1::uuid`, `t."id"`},
		{"$orderby=modified_dateutc desc", nil, sqldialect.Postgres{}, ``, `t."modified_dateutc" DESC, t."id" DESC`},
		{"$orderby=modified_dateutc&$filter=estimated_time gt 5", []any{m, id}, sqldialect.Postgres{},
			`(t."estimated_time" > $1::bigint) AND (t."modified_dateutc", t."id") > ($2::timestamptz, $3::uuid)`, `t."modified_dateutc", t."id"`},
		{"$orderby=modified_dateutc", []any{m, id}, sqldialect.SQLite{},
			`t."modified_dateutc" >= ?1 AND (t."modified_dateutc" > ?1 OR t."modified_dateutc" = ?1 AND t."id" > ?2)`, `t."modified_dateutc", t."id"`},
		{"$orderby=estimated_time desc,name", []any{int64(60), "x", id}, sqldialect.Postgres{},
			`t."estimated_time" <= $1::bigint AND (t."estimated_time" < $1::bigint OR t."estimated_time" = $1::bigint AND t."name" > $2::text OR t."estimated_time" = $1::bigint AND t."name" = $2::text AND t."id" > $3::uuid)`,
			`t."estimated_time" DESC, t."name", t."id"`},
	}
	for _, c := range cases {
		q, err := ParseRawQuery(jobs, c.query, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := q.PageSQL("t", &sqldialect.Args{D: c.d}, c.after)
		if err != nil {
			t.Fatal(err)
		}
		if s.Where != c.where || s.OrderBy != c.ord {
			t.Errorf("%s after %v (%s):\nwhere %s\nwant  %s\norder %s\nwant  %s", c.query, c.after, c.d.Name(), s.Where, c.where, s.OrderBy, c.ord)
		}
	}
	q, _ := ParseRawQuery(jobs, "$orderby=name", Limits{})
	if _, err := q.PageSQL("t", &sqldialect.Args{D: sqldialect.SQLite{}}, []any{"x"}); err == nil {
		t.Error("a position with too few values was accepted")
	}
}
