package httpapi_test

import (
	"strings"
	"testing"

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
