package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// fuzzTargets are the write endpoints FuzzWriteBody aims at.
var fuzzTargets = [][2]string{
	{"POST", "/api/Jobs"}, {"PUT", "/api/Jobs({job})"}, {"PATCH", "/api/Jobs({job})"},
	{"POST", "/api/Project"}, {"POST", "/api/EquipmentModel"}, {"POST", "/api/JobPlanning"},
	{"PUT", "/api/Jobs/ChangeToVirtualStatus"}, {"POST", "/api/User"},
}

// FuzzWriteBody sends arbitrary bodies to the write endpoints: whatever the
// input, the answer is a success or a client error, never a 500.
func FuzzWriteBody(f *testing.F) {
	for _, seed := range []string{
		`{"name":"x","project_reference_back_office":"P1","job_type_code":"REPAIR","job_status_code":"Open"}`,
		`{"name":"x","project":{"reference_back_office":"P9","company":{"code":"C9","name":"n"}},"job_type":{"code":"T","name":"t"},"job_status_code":"Open"}`,
		`{"job_status_code":"Completed"}`,
		`{"due_date":"2026-13-45T99:99:99Z","estimated_time":1e400}`,
		`{"_parent_job":{"reference_back_office":"J1"},"working_sequence":-1}`,
		`{"project":{"_parent_reference_back_office":"P1","equipment_model":{"code":"M","name":"m","translations":[{"field_name":"a","language_code":"b"},{}]}}}`,
		`{"id":"00000000-0000-0000-0000-000000000000","udf1":"` + "\u0000\ufffd" + `"}`,
		`[]`, `null`, `{"name":{"nested":[1,2,{"x":null}]}}`,
	} {
		for target := range uint8(len(fuzzTargets)) {
			f.Add(target, seed)
		}
	}
	srv := testenv.NewServer(f, testenv.SQLite(f))
	c := srv.Tenant(f, "ACME")
	fx := newFixture(f, c)
	f.Fuzz(func(t *testing.T, target uint8, body string) {
		tg := fuzzTargets[int(target)%len(fuzzTargets)]
		method, path := tg[0], strings.ReplaceAll(tg[1], "{job}", fx.job)
		c := *c
		c.SetT(t)
		r := c.Do(method, path, body)
		if r.Status >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, r.Status, r.Raw)
		}
	})
}

// FuzzListQuery sends arbitrary query strings to the collections and runs
// them on a real database: parse errors, limits and database errors must all
// come back as client errors, never as a 500.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []string{
		"$filter=name eq 'x'",
		"$filter=modified_dateutc gt '2026-01-27T12:00:00.000Z'&$orderby=modified_dateutc",
		"$filter=project/company/code eq 'C1' and estimated_time add 5 gt 10&$count=true",
		"$filter=job_planning/any(p: p/date_from gt 2026-01-01T00:00:00Z)&$expand=job_planning($top=1)",
		"$filter=substring(name, 1, 2) eq 'ix' or length(name) mod 0 eq 1",
		"$select=id,name&$top=3&$skip=1&$orderby=id2 desc",
		"$expand=project($select=name;$expand=company($select=code))",
		"$filter=id2 in (1,2,3)&$skiptoken=abc",
		"$filter=round(db_address_latitude_decimal div 0.0) eq 1",
		"$filter=year(due_date) eq 2026 and month(date_create) le 12",
	} {
		f.Add(uint8(0), seed)
		f.Add(uint8(1), seed)
	}
	srv := testenv.NewServer(f, testenv.SQLite(f))
	c := srv.Tenant(f, "ACME")
	newFixture(f, c)
	collections := []string{"Jobs", "Project", "JobPlanning", "User"}
	f.Fuzz(func(t *testing.T, collection uint8, query string) {
		u := "/api/" + collections[int(collection)%len(collections)] + "?" + url.PathEscape(query)
		u = strings.NewReplacer("%3D", "=", "%26", "&", "%24", "$").Replace(u)
		if _, err := url.ParseRequestURI(u); err != nil {
			return
		}
		c := *c
		c.SetT(t)
		start := time.Now()
		r := c.Do("GET", u, nil)
		if r.Status >= 500 {
			t.Fatalf("GET %s: %d %s", u, r.Status, r.Raw)
		}
		// The database holds one job: any query that takes long is a
		// pathological plan or parse a client could use to tie up a node.
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("GET %s took %v", u, d)
		}
	})
}
