package httpapi_test

import (
	"reflect"
	"sort"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestValidationReportsEverything: one answer lists every problem of a body,
// at the top level and nested (embedded objects at any depth, owned list
// items), each with its path, and nothing is written.
func TestValidationReportsEverything(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		cases := []struct {
			name, method, path string
			body               map[string]any
			targets            []string
		}{
			{"top unknown and nested unknown", "POST", "/api/Jobs",
				map[string]any{"foo": 1, "name": "x", "job_type_id": f.jobType, "job_status_code": "Open", "project": map[string]any{"bar": 2, "reference_back_office": "P2", "name": "p"}},
				[]string{"foo", "project.bar"}},
			{"top value and nested value", "POST", "/api/Jobs",
				map[string]any{"name": 12, "job_type_id": f.jobType, "job_status_code": "Open", "project": map[string]any{"reference_back_office": "P2", "name": true}},
				[]string{"name", "project.name"}},
			{"top missing required and nested value", "POST", "/api/Jobs",
				map[string]any{"job_type_id": f.jobType, "job_status_code": "Open", "project": map[string]any{"reference_back_office": "P2", "name": "p", "zip": 5}},
				[]string{"name", "project.zip"}},
			{"two levels deep and top", "POST", "/api/Jobs",
				map[string]any{"name": "x", "due_date": "soon", "job_type_id": f.jobType, "job_status_code": "Open", "project": map[string]any{"reference_back_office": "P2", "name": "p",
					"company": map[string]any{"code": "C9", "name": "c", "colour": "red"}}},
				[]string{"due_date", "project.company.colour"}},
			{"embedded not an object and top", "POST", "/api/Jobs",
				map[string]any{"name": "x", "priority": "high", "project": "P1", "job_type_id": f.jobType, "job_status_code": "Open"},
				[]string{"priority", "project"}},
			{"update: top and nested", "PUT", "/api/Jobs(" + f.job + ")",
				map[string]any{"name": 1, "project": map[string]any{"id": f.project, "nope": 1}},
				[]string{"name", "project.nope"}},
			{"list items and top", "POST", "/api/EquipmentModel",
				map[string]any{"code": "M1", "name": "Model", "bogus": 1, "translations": []any{
					map[string]any{"field_name": "name", "language_code": "fr", "value_translated": "Modèle"},
					map[string]any{"field_name": 7, "language_code": "de"},
					map[string]any{"value_translated": "x"},
					"not an object",
				}},
				[]string{"bogus", "translations[1].field_name", "translations[2].field_name", "translations[2].language_code", "translations[3]"}},
			{"list not an array and nested", "POST", "/api/EquipmentModel",
				map[string]any{"code": "M1", "translations": map[string]any{}, "name": "\x00"},
				[]string{"name", "translations"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Do(tc.method, tc.path, tc.body)
				got := detailTargets(r)
				sort.Strings(got)
				want := append([]string(nil), tc.targets...)
				sort.Strings(want)
				if r.Status != 400 || !reflect.DeepEqual(got, want) {
					t.Fatalf("%d %s\ntargets %v, want %v", r.Status, r.Raw, got, want)
				}
			})
		}
		if n := len(c.Must(200, "GET", "/api/Project", nil)["value"].([]any)); n != 1 {
			t.Fatalf("%d projects after refused writes, want 1", n)
		}
		if got := c.Must(200, "GET", "/api/EquipmentModel", nil)["value"].([]any); len(got) != 0 {
			t.Fatalf("equipment models after refused writes: %v", got)
		}
	})
}
