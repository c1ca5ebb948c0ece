package httpapi_test

import (
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// detailTargets lists the targets of an error body's details.
func detailTargets(r *testenv.Response) []string {
	e, _ := r.Body["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	var out []string
	for _, d := range ds {
		m, _ := d.(map[string]any)
		s, _ := m["target"].(string)
		out = append(out, s)
	}
	return out
}

// TestTextRefused: a NUL character or invalid UTF-8 anywhere a client sends
// text (field values at any depth, property names, query options, keys) is
// refused with 400 naming where it is, on both databases alike, and nothing
// is stored; in credentials it is a 401.
func TestTextRefused(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		cases := []struct {
			name, method, path string
			body               any
			target, message    string
		}{
			{"NUL in a string field", "POST", "/api/Company", map[string]any{"code": "N1", "name": "a\x00b"}, "name", "NUL"},
			{"NUL in an ERP key", "POST", "/api/Company", map[string]any{"code": "N\x00", "name": "n"}, "code", "NUL"},
			{"NUL in a GUID field", "POST", "/api/Jobs", map[string]any{"name": "x", "project_id": "\x00"}, "project_id", "NUL"},
			{"NUL in a date field", "PUT", "/api/Jobs(" + f.job + ")", map[string]any{"due_date": "2024-01-01\x00"}, "due_date", "NUL"},
			{"NUL in an embedded object", "POST", "/api/Jobs", map[string]any{"name": "x", "job_type_id": f.jobType,
				"project": map[string]any{"reference_back_office": "P9", "name": "\x00"}}, "project.name", "NUL"},
			{"invalid UTF-8", "POST", "/api/Company", `{"code":"U1","name":"a` + "\xff" + `b"}`, "name", "UTF-8"},
			{"invalid UTF-8 nested", "POST", "/api/Jobs", `{"name":"x","project":{"name":"` + "\xc3\x28" + `"}}`, "project.name", "UTF-8"},
			{"invalid UTF-8 in a property name", "POST", "/api/Company", `{"na` + "\xfe" + `me":"x"}`, "a property name", "UTF-8"},
			{"NUL in $filter", "GET", "/api/Company?$filter=name%20eq%20'a%00b'", nil, "$filter", "NUL"},
			{"invalid UTF-8 in $filter", "GET", "/api/Company?$filter=name%20eq%20'%FF'", nil, "$filter", "UTF-8"},
			{"NUL in a key", "GET", "/api/Company(%00)", nil, "path", "NUL"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Do(tc.method, tc.path, tc.body)
				targets := strings.Join(detailTargets(r), ",")
				if r.Status != 400 || !strings.Contains(targets, tc.target) || !strings.Contains(string(r.Raw), tc.message) {
					t.Fatalf("%d %s; want 400 naming %s with %q", r.Status, r.Raw, tc.target, tc.message)
				}
			})
		}
		if n := len(c.Must(200, "GET", "/api/Company", nil)["value"].([]any)); n != 1 {
			t.Fatalf("%d companies after refused writes, want 1", n)
		}
		if got := c.Must(200, "GET", "/api/Jobs("+f.job+")", nil)["due_date"]; strings.Contains(got.(string), "2024") {
			t.Fatalf("due_date changed: %v", got)
		}

		for _, auth := range []string{"api:sec\x00ret@ACME", "a\x00pi:secret@ACME", "api:secret@AC\x00ME", "api:secret@ACME\x00",
			"api:secret\xff@ACME", "api:secret@ ACME", "api:secret@ACME ", "api:secret@\tACME", " api:secret@ACME"} {
			bad := *c
			bad.Auth = auth
			if r := bad.Do("GET", "/api/Jobs", nil); r.Status != 401 || r.ErrorCode() != "Unauthorized" {
				t.Errorf("credentials %q: %d %s, want 401", auth, r.Status, r.Raw)
			}
		}
		lower := *c
		lower.Auth = "api:secret@acme"
		lower.Must(200, "GET", "/api/Jobs", nil)
	})
}

// TestKeys: only the canonical key forms address an entity; anything else
// in the parentheses is a 400 "malformed key", never a 200 or a 404.
func TestKeys(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		id := newFixture(t, c).job
		for _, key := range []string{"(" + id + ")", "('" + id + "')", "(guid'" + id + "')", "(" + strings.ToUpper(id) + ")", "/" + id} {
			if got := c.Must(200, "GET", "/api/Jobs"+key, nil)["id"]; got != id {
				t.Errorf("Jobs%s: id %v", key, got)
			}
		}
		for _, key := range []string{
			"(" + id + "')", "('" + id + ")", "({" + id + "})", "(abc)", "(42)", "()", "('')", "(guid" + id + ")",
			"(" + strings.ReplaceAll(id, "-", "") + ")", "(urn:uuid:" + id + ")", "(%20" + id + ")", "(" + id + "%20)",
			"(''" + id + "'')", "(\"" + id + "\")", "(id=" + id + ")", "(" + id + "x)",
		} {
			r := c.Do("GET", "/api/Jobs"+key, nil)
			if r.Status != 400 || !strings.Contains(r.ErrorMessage(), "malformed key") {
				t.Errorf("Jobs%s: %d %s, want 400 malformed key", key, r.Status, r.Raw)
			}
			if r := c.Do("PUT", "/api/Jobs"+key, map[string]any{"name": "x"}); r.Status != 400 {
				t.Errorf("PUT Jobs%s: %d %s, want 400", key, r.Status, r.Raw)
			}
		}
		if r := c.Do("GET", "/api/Jobs/abc", nil); r.Status != 404 {
			t.Errorf("Jobs/abc: %d %s, want 404", r.Status, r.Raw)
		}
	})
}

// TestDataErrorNamesCause: a $filter the database cannot evaluate (an
// integer overflow on PostgreSQL; SQLite computes it as a real) names the
// database's own cause, not a guess.
func TestDataErrorNamesCause(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		newFixture(t, c)
		r := c.Do("GET", "/api/Jobs?$filter=id2%20add%209223372036854775807%20gt%200", nil)
		if strings.HasPrefix(dsn, "postgres") {
			if r.Status != 400 || !strings.Contains(r.ErrorMessage(), "out of range") {
				t.Fatalf("overflow: %d %s", r.Status, r.Raw)
			}
			return
		}
		if r.Status != 200 {
			t.Fatalf("overflow on SQLite: %d %s", r.Status, r.Raw)
		}
	})
}
