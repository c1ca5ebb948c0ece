package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/internal/testenv"
)

// fixture creates a small consistent data set and returns the ids.
type fixture struct {
	company, project, jobType, job string
}

func newFixture(t testing.TB, c *testenv.Client) fixture {
	t.Helper()
	var f fixture
	f.company = c.Must(201, "POST", "/api/Company", map[string]any{"code": "C1", "name": "Company 1"})["id"].(string)
	f.project = c.Must(201, "POST", "/api/Project", map[string]any{"reference_back_office": "P1", "name": "Lift 1", "company_id": f.company,
		"project_status": map[string]any{"code": "ACTIVE", "name": "Active"}})["id"].(string)
	f.jobType = c.Must(201, "POST", "/api/JobType", map[string]any{"code": "REPAIR", "name": "Repair"})["id"].(string)
	f.job = c.Must(201, "POST", "/api/Jobs", map[string]any{"reference_back_office": "J1", "name": "Fix it", "project_id": f.project,
		"job_type_id": f.jobType, "job_status_code": "Open"})["id"].(string)
	return f
}

// TestErrorStatuses covers every status of contract section 8 over HTTP,
// with the error body's shape.
func TestErrorStatuses(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		other := srv.Tenant(t, "OTHER")
		f := newFixture(t, c)
		anon := &testenv.Client{URL: c.URL}
		*anon = *c
		anon.Auth = ""
		wrongPassword := *c
		wrongPassword.Auth = "api:nope@ACME"
		unknownDomain := *c
		unknownDomain.Auth = "api:secret@NOWHERE"
		huge := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`

		cases := []struct {
			name    string
			client  *testenv.Client
			method  string
			path    string
			body    any
			headers []string
			status  int
			code    string
			message string // a fragment of error.message
		}{
			{"malformed JSON", c, "POST", "/api/Company", `{"name": "x",`, nil, 400, "ValidationFailed", "malformed JSON"},
			{"not an object", c, "POST", "/api/Company", `[1,2]`, nil, 400, "ValidationFailed", "must be a JSON object"},
			{"trailing data", c, "POST", "/api/Company", `{"name":"a"} {}`, nil, 400, "ValidationFailed", "unexpected data"},
			{"wrong type", c, "POST", "/api/Company", map[string]any{"name": 12}, nil, 400, "ValidationFailed", "expected a string"},
			{"bad GUID", c, "POST", "/api/Jobs", map[string]any{"name": "x", "project_id": "nope"}, nil, 400, "ValidationFailed", "not a GUID"},
			{"bad date", c, "PUT", "/api/Jobs(" + f.job + ")", map[string]any{"due_date": "tomorrow"}, nil, 400, "ValidationFailed", "ISO-8601"},
			{"unknown field", c, "POST", "/api/Company", map[string]any{"name": "x", "colour": "red"}, nil, 400, "ValidationFailed", "colour is not a field"},
			{"too long", c, "POST", "/api/Company", map[string]any{"name": strings.Repeat("x", 65)}, nil, 400, "ValidationFailed", "longer than 64"},
			{"missing required", c, "POST", "/api/Company", map[string]any{"code": "X"}, nil, 400, "ValidationFailed", "name is required"},
			{"bad $top", c, "GET", "/api/Jobs?$top=-1", nil, nil, 400, "ValidationFailed", "$top"},
			{"id differs from URL", c, "PUT", "/api/Jobs(" + f.job + ")", map[string]any{"id": f.project}, nil, 400, "ValidationFailed", "differs"},
			{"no credentials", anon, "GET", "/api/Jobs", nil, nil, 401, "Unauthorized", "Basic"},
			{"wrong password", &wrongPassword, "GET", "/api/Jobs", nil, nil, 401, "Unauthorized", "wrong"},
			{"unknown domain", &unknownDomain, "GET", "/api/Jobs", nil, nil, 401, "Unauthorized", "wrong"},
			{"system status is read-only", c, "PUT", "/api/JobStatus(" + ordo.StatusOpen + ")", map[string]any{"name": "x"}, nil, 403, "Forbidden", "system status"},
			{"unknown id", c, "GET", "/api/Jobs(" + ordo.StatusOpen + ")", nil, nil, 404, "NotFound", "not found"},
			{"unknown controller", c, "GET", "/api/Nothing", nil, nil, 404, "NotFound", "Nothing"},
			{"malformed key", c, "GET", "/api/Jobs(42)", nil, nil, 400, "ValidationFailed", "malformed key"},
			{"other tenant's id", other, "GET", "/api/Jobs(" + f.job + ")", nil, nil, 404, "NotFound", "not found"},
			{"unknown id on PUT", c, "PUT", "/api/Jobs(" + f.company + ")", map[string]any{"name": "x"}, nil, 404, "NotFound", "not found"},
			{"archive-only delete", c, "DELETE", "/api/Company(" + f.company + ")", nil, nil, 405, "MethodNotAllowed", "archived"},
			{"method on collection", c, "DELETE", "/api/Jobs", nil, nil, 405, "MethodNotAllowed", "allowed"},
			{"XML only accepted", c, "GET", "/api/Jobs", nil, []string{"Accept", "application/xml"}, 406, "NotAcceptable", "XML"},
			{"workflow", c, "PUT", "/api/Jobs(" + f.job + ")", map[string]any{"job_status_code": "Completed"}, nil, 409, "Conflict", "Completed"},
			{"duplicate ERP key", c, "POST", "/api/Company", map[string]any{"code": "C1", "name": "Again"}, nil, 409, "Conflict", "code"},
			{"duplicate id", c, "POST", "/api/Jobs", map[string]any{"id": f.job, "name": "x"}, nil, 409, "Conflict", "already exists"},
			{"huge body", c, "POST", "/api/Company", huge, nil, 413, "PayloadTooLarge", "larger than"},
			{"XML body", c, "POST", "/api/Company", `<company/>`, []string{"Content-Type", "application/xml"}, 415, "UnsupportedMediaType", "XML"},
			{"unknown code", c, "POST", "/api/Jobs", map[string]any{"name": "x", "project_id": f.project, "job_type_code": "NOPE", "job_status_code": "Open"}, nil, 422, "UnresolvedReference", "NOPE"},
			{"unknown id reference", c, "POST", "/api/Jobs", map[string]any{"name": "x", "project_id": f.company, "job_type_id": f.jobType, "job_status_code": "Open"}, nil, 422, "UnresolvedReference", "project_id"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.client.Do(tc.method, tc.path, tc.body, tc.headers...)
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
				}
				if r.ErrorCode() != tc.code || !strings.Contains(r.ErrorMessage(), tc.message) {
					t.Errorf("error %q %q, want code %q and a message with %q", r.ErrorCode(), r.ErrorMessage(), tc.code, tc.message)
				}
				if tc.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic realm=") {
					t.Errorf("401 without a Basic WWW-Authenticate header")
				}
			})
		}

		t.Run("500 hides internals", func(t *testing.T) {
			// Break the database under the server: the next query fails unexpectedly.
			raw := testenv.RawDB(t, dsn)
			if _, err := raw.ExecContext(context.Background(), `ALTER TABLE skill RENAME TO skill_gone`); err != nil {
				t.Fatal(err)
			}
			r := c.Do("GET", "/api/Skill", nil)
			if r.Status != 500 || r.ErrorCode() != "InternalError" {
				t.Fatalf("status %d %s, want 500 InternalError", r.Status, r.Raw)
			}
			if strings.Contains(string(r.Raw), "skill") || strings.Contains(strings.ToLower(string(r.Raw)), "sql") {
				t.Errorf("500 body leaks internals: %s", r.Raw)
			}
		})
	})
}

// TestFailedWriteChangesNothing sends a body whose last embedded entity is
// invalid, after others that would have been inserted or updated, and checks
// that every table's content is exactly as before.
func TestFailedWriteChangesNothing(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		before := testenv.Dump(t, dsn)
		body := map[string]any{
			"name": "Renamed",
			"project": map[string]any{"id": f.project, "name": "Renamed lift",
				"equipment_model": map[string]any{"code": "NEWMODEL", "name": "New model",
					"equipment_brand": map[string]any{"code": "NEWBRAND", "name": "New brand",
						"sales_organization": map[string]any{"code": "ORG", "name": "New org"}}}},
			"job_type":       map[string]any{"code": "NEWTYPE", "name": "New type"},
			"suggested_user": map[string]any{"code": "U1", "username": "u1", "lastname": "Tech"},
			// Fails validation: the skill's name is longer than 50 characters.
			"skill": map[string]any{"code": "SK", "name": strings.Repeat("s", 51)},
		}
		r := c.Do("PUT", "/api/Jobs("+f.job+")", body)
		if r.Status != 400 {
			t.Fatalf("status %d, want 400: %s", r.Status, r.Raw)
		}
		if after := testenv.Dump(t, dsn); after != before {
			t.Errorf("a failed request changed the database:\n%s", firstDiff(before, after))
		}
		// The same body without the fault goes through, so the test did exercise those writes.
		body["skill"] = map[string]any{"code": "SK", "name": "Skill"}
		c.Must(200, "PUT", "/api/Jobs("+f.job+")", body)
		if after := testenv.Dump(t, dsn); after == before {
			t.Error("the corrected request changed nothing")
		}
	})
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range al {
		if i >= len(bl) || al[i] != bl[i] {
			other := "<missing>"
			if i < len(bl) {
				other = bl[i]
			}
			return "before: " + al[i] + "\nafter:  " + other
		}
	}
	return "after has more lines"
}

// TestTenantIsolation: tenant B never sees or reaches tenant A's rows.
func TestTenantIsolation(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		a := srv.Tenant(t, "TENANT-A")
		b := srv.Tenant(t, "TENANT-B")
		fa := newFixture(t, a)
		fb := newFixture(t, b) // same ERP keys in both tenants: keys are unique per tenant only

		for _, path := range []string{"/api/Jobs(" + fa.job + ")", "/api/Project(" + fa.project + ")", "/api/Company(" + fa.company + ")"} {
			if r := b.Do("GET", path, nil); r.Status != 404 {
				t.Errorf("B GET %s: %d, want 404", path, r.Status)
			}
			if r := b.Do("PUT", path, map[string]any{"name": "hijacked"}); r.Status != 404 {
				t.Errorf("B PUT %s: %d, want 404", path, r.Status)
			}
		}
		if r := b.Do("DELETE", "/api/Jobs("+fa.job+")", nil); r.Status != 404 {
			t.Errorf("B DELETE A's job: %d, want 404", r.Status)
		}
		// A's ids are unknown references for B.
		r := b.Do("POST", "/api/Jobs", map[string]any{"name": "x", "project_id": fa.project, "job_type_id": fb.jobType, "job_status_code": "Open"})
		if r.Status != 422 {
			t.Errorf("B referencing A's project: %d, want 422", r.Status)
		}
		for _, controller := range []string{"Jobs", "Project", "Company", "JobType", "JobStatus"} {
			for _, row := range b.Must(200, "GET", "/api/"+controller, nil)["value"].([]any) {
				id := row.(map[string]any)["id"]
				if id == fa.job || id == fa.project || id == fa.company || id == fa.jobType {
					t.Errorf("B's %s list shows A's row %v", controller, id)
				}
			}
		}
		if got := a.Must(200, "GET", "/api/Jobs("+fa.job+")", nil)["name"]; got != "Fix it" {
			t.Errorf("A's job name = %v after B's attempts", got)
		}
	})
}

// TestHostileArithmetic: a $filter whose arithmetic the database cannot
// compute is the client's error, not a 500.
func TestHostileArithmetic(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		newFixture(t, c)
		for _, filter := range []string{
			"estimated_time%20add%209223372036854775807%20mul%202%20gt%200",
			"estimated_time%20div%200%20eq%201",
			"estimated_time%20mod%200%20eq%201",
		} {
			r := c.Do("GET", "/api/Jobs?$filter="+filter, nil)
			t.Logf("%s: %d", filter, r.Status)
			if r.Status != 200 && r.Status != 400 {
				t.Errorf("%s: %d %s, want 200 or 400", filter, r.Status, r.Raw)
			}
		}
	})
}
