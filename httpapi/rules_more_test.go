package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestRuleEdgeCases covers the rules of docs/api.md that the larger rule
// tests do not reach: each case prepares what it needs, then sends the
// request the rule must refuse (or accept).
func TestRuleEdgeCases(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		user := c.Must(201, "POST", "/api/User", map[string]any{"code": "T1", "username": "t1", "lastname": "Tech"})["id"].(string)
		skill := c.Must(201, "POST", "/api/Skill", map[string]any{"code": "SK1", "name": "Lifts"})["id"].(string)
		c.Must(201, "POST", "/api/UserSkill", map[string]any{"user_id": user, "skill_id": skill})
		c.Must(201, "POST", "/api/UserUnavailabilityType", map[string]any{"code": "HOL", "name": "Holiday"})
		c.Must(201, "POST", "/api/Company", map[string]any{"code": "NW", "name": "Billing only", "is_working_address": false})
		c.Must(201, "POST", "/api/JobStatus", map[string]any{"code": "RO", "name": "Locked", "system_job_status_code": "Open",
			"usable_on_api": true, "is_readonly_on_api": true})
		locked := c.Must(201, "POST", "/api/Jobs", map[string]any{"name": "Locked job", "project_id": f.project,
			"job_type_id": f.jobType, "job_status_code": "RO"})["id"].(string)

		deep := map[string]any{"reference_back_office": "D0", "name": "deep"}
		for i := 1; i <= 9; i++ {
			deep = map[string]any{"reference_back_office": "D" + string(rune('0'+i)), "name": "deep", "_parent_job": deep}
		}

		cases := []struct {
			name, method, path string
			body               any
			status             int
			message            string
		}{
			{"no installation on a company that is not a working address", "POST", "/api/Project",
				map[string]any{"name": "x", "company_code": "NW", "project_status_code": "ACTIVE"}, 409, "not a working address"},
			{"a Location has no serial number", "POST", "/api/Project",
				map[string]any{"name": "x", "company_id": f.company, "project_status_code": "ACTIVE",
					"equipment_family_id": ordo.LocationFamilyID, "serial_number": "SN1"}, 400, "Location"},
			{"a job in a status read-only on the API cannot be changed", "PUT", "/api/Jobs(" + locked + ")",
				map[string]any{"name": "changed"}, 409, "read-only on the API"},
			{"an unavailability ends after it starts", "POST", "/api/UserUnavailability",
				map[string]any{"user_code": "T1", "user_unavailability_type_code": "HOL",
					"date_start": "2026-02-02T00:00:00Z", "date_end": "2026-02-01T00:00:00Z"}, 400, "date_end"},
			{"a user has a skill once", "POST", "/api/UserSkill",
				map[string]any{"user_code": "T1", "skill_code": "SK1"}, 409, "already exists"},
			{"a tenant status points to a system status", "POST", "/api/JobStatus",
				map[string]any{"code": "X", "name": "x", "system_job_status_code": "RO"}, 400, "system statuses"},
			{"one translation key with two values", "POST", "/api/EquipmentModel",
				map[string]any{"code": "M1", "name": "m", "translations": []any{
					map[string]any{"field_name": "name", "language_code": "fr", "value_translated": "a"},
					map[string]any{"field_name": "name", "language_code": "fr", "value_translated": "b"}}}, 400, "another value"},
			{"embedded objects nest 8 levels at most", "POST", "/api/Jobs",
				map[string]any{"name": "x", "project_id": f.project, "job_type_id": f.jobType, "job_status_code": "Open",
					"_parent_job": deep}, 400, "nest deeper"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Do(tc.method, tc.path, tc.body)
				if r.Status != tc.status || !strings.Contains(r.ErrorMessage(), tc.message) {
					t.Errorf("%d %s, want %d with %q", r.Status, r.Raw, tc.status, tc.message)
				}
			})
		}

		// Identical repeated translations count once.
		model := c.Must(201, "POST", "/api/EquipmentModel", map[string]any{"code": "M2", "name": "m", "translations": []any{
			map[string]any{"field_name": "name", "language_code": "fr", "value_translated": "a"},
			map[string]any{"field_name": "name", "language_code": "fr", "value_translated": "a"}}})
		if n := len(model["translations"].([]any)); n != 1 {
			t.Errorf("%d translations stored for two identical ones, want 1", n)
		}
	})
}

// TestRuleProjectNextJobIncremental holds date_next_job through the moves
// the incremental maintenance handles without and with a recomputation: a
// later planning added or removed leaves it, the earliest one moved later
// gives way to the next earliest, one moved earlier takes its place.
func TestRuleProjectNextJobIncremental(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)
		next := func(t *testing.T) time.Time {
			t.Helper()
			return rlDate(t, w.get(t, "Project", w.projectID), "date_next_job")
		}
		early, mid, late := rlTime("2030-04-01T08:00:00Z"), rlTime("2030-04-05T08:00:00Z"), rlTime("2030-04-09T08:00:00Z")
		j1, j2 := w.newJob(t, nil), w.newJob(t, nil)
		first := w.plan(t, j1, early, 60)
		w.plan(t, j1, late, 60)
		other := w.plan(t, j2, mid, 60)
		for _, step := range []struct {
			what string
			do   func()
			want time.Time
		}{
			{"three plannings", func() {}, early},
			{"a later planning removed", func() { w.must(t, 204, "DELETE", rlPath("JobPlanning", other), nil) }, early},
			{"the earliest moved after the other", func() {
				w.put(t, "JobPlanning", first, rlObj{"date_from": late.Add(48 * time.Hour).Format(time.RFC3339), "date_to": late.Add(49 * time.Hour).Format(time.RFC3339)})
			}, late},
			{"moved back before it", func() {
				w.put(t, "JobPlanning", first, rlObj{"date_from": mid.Format(time.RFC3339), "date_to": mid.Add(time.Hour).Format(time.RFC3339)})
			}, mid},
		} {
			step.do()
			if got := next(t); !got.Equal(step.want) {
				t.Errorf("after %s: date_next_job %v, want %v", step.what, got, step.want)
			}
		}
	})
}
