package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestODataErrors: a wrong query answers 400 (406 for a format) with the
// usual error body, naming the option, the position and what was expected,
// or the limit that was passed; a $skiptoken that was altered or belongs to
// another query or tenant is refused.
func TestODataErrors(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		other := srv.Tenant(t, "OTHER")
		f := odMakeFixture(t, c, 1, 1)
		odMakeFixture(t, other, 1, 1)
		odBulkJobs(t, srv, dsn, c.Tenant.ID, f, 150, func(int) time.Time { return time.Date(2026, 1, 27, 12, 0, 0, 0, time.UTC) })
		var job string
		for _, r := range odWalk(t, c, "/api/Jobs?$top=1").Rows {
			job = odStr(r, "id")
		}

		// A token from a real walk, to alter.
		first := c.Must(200, "GET", odQuery("Jobs", "$orderby=reference_back_office&$select=id"), nil)
		link := first["@odata.nextLink"].(string)
		token := link[strings.Index(link, "$skiptoken=")+len("$skiptoken="):]
		payload, mac, _ := strings.Cut(token, ".")
		flipped := []byte(payload)
		flipped[5] ^= 1
		deep := strings.Repeat("(", 40) + "name eq 'x'" + strings.Repeat(")", 40)
		manyIn := "estimated_time in (" + strings.TrimSuffix(strings.Repeat("1,", 501), ",") + ")"
		var manyJoins string
		{
			// 17 distinct navigation paths.
			paths := []string{"project", "project/company", "project/_parent", "project/_parent/company", "job_type", "job_priority",
				"job_status", "db_address", "contact", "requested_by_company", "requested_by_contact", "suggested_user",
				"skill", "approval_responsible_user", "company", "db_address_db_country", "_parent_job"}
			var conds []string
			for _, p := range paths {
				conds = append(conds, p+"/id ne null")
			}
			manyJoins = strings.Join(conds, " and ")
		}

		cases := []struct {
			name, path string
			status     int
			fragments  []string
		}{
			{"syntax", odQuery("Jobs", "$filter=name eq"), 400, []string{"$filter: at position", "expected"}},
			{"unknown property", odQuery("Jobs", "$filter=nme eq 'x'"), 400, []string{"$filter: at position 0", "unknown property 'nme'", "did you mean 'name'"}},
			{"types", odQuery("Jobs", "$filter=estimated_time eq 'abc'"), 400, []string{"$filter: at position 15", "cannot compare"}},
			{"orderby", odQuery("Jobs", "$orderby=name sideways"), 400, []string{"$orderby: at position 5", "expected"}},
			{"select a navigation", odQuery("Jobs", "$select=project"), 400, []string{"$select", "use $expand=project"}},
			{"expand a property", odQuery("Jobs", "$expand=name"), 400, []string{"$expand", "not a navigation"}},
			{"nested option", odQuery("Jobs", "$expand=job_planning($filter=nme eq 1)"), 400, []string{"$expand: at position 21", "unknown property 'nme'"}},
			{"lambda", odQuery("Jobs", "$filter=job_planning/any(p: p/nope eq 1)"), 400, []string{"$filter: at position", "unknown property 'nope' of job_planning"}},
			{"unknown option", odQuery("Jobs", "$fitler=name eq 'x'"), 400, []string{"$fitler", "unknown query option"}},
			{"custom parameter", odQuery("Jobs", "foo=1&$top=1"), 400, []string{"foo: unknown query option 'foo'"}},
			{"custom parameter on an entity", odQuery("Jobs(00000000-0000-4000-8000-000000000001)", "x=1"), 400, []string{"x: unknown query option 'x'"}},
			{"space after =", odQuery("Jobs", "$filter= true"), 400, []string{"$filter: at position 0", "starts with a space"}},
			{"unsupported option", odQuery("Jobs", "$search=x"), 400, []string{"$search is not supported"}},
			{"alias without value", odQuery("Jobs", "$filter=name eq @n"), 400, []string{"$filter: at position 8", "@n has no value"}},
			{"duration", odQuery("Jobs", "$filter=due_date sub date_create gt duration'P1M'"), 400, []string{"$filter: at position 28", "years and months"}},
			{"date out of range", odQuery("Jobs", "$filter=due_date gt 10000-01-01"), 400, []string{"$filter: at position 12", "out of range"}},
			{"repeated option", odQuery("Jobs", "$top=1&$top=2"), 400, []string{"$top", "more than once"}},
			{"bad $skip", odQuery("Jobs", "$skip=abc"), 400, []string{"$skip: at position 0"}},
			{"bad $count", odQuery("Jobs", "$count=yes"), 400, []string{"$count: at position 0", "true or false"}},
			{"single entity $filter", odQuery("Jobs("+job+")", "$filter=name eq 'x'"), 400, []string{"$filter applies to collections"}},
			{"single entity $skiptoken", odQuery("Jobs("+job+")", "$skiptoken="+token), 400, []string{"$skiptoken applies to collections"}},
			{"$count segment", odQuery("Jobs/$count", "$filter=name eq"), 400, []string{"$filter: at position"}},
			// limits
			{"$top ceiling", odQuery("Jobs", "$top=5000"), 400, []string{"the maximum $top is 1000"}},
			{"expand depth", odQuery("Jobs", "$expand=project($expand=company($expand=db_country($expand=x)))"), 400, []string{"maximum expand depth"}},
			{"nesting depth", odQuery("Jobs", "$filter="+deep), 400, []string{"maximum nesting depth"}},
			{"option length", odQuery("Jobs", "$filter=name eq '"+strings.Repeat("x", 5000)+"'"), 400, []string{"maximum query option length is 4096"}},
			{"query length", odQuery("Jobs", "$filter=name eq 'x'&"+strings.Repeat("a=b&", 5000)+"$top=1"), 400, []string{"maximum query length is 16384"}},
			{"in list", odQuery("Jobs", "$filter="+manyIn), 400, []string{"maximum 'in' list length"}},
			{"joins", odQuery("Jobs", "$filter="+manyJoins), 400, []string{"maximum number of joins"}},
			// skip tokens
			{"malformed token", odQuery("Jobs", "$orderby=reference_back_office&$skiptoken=garbage"), 400, []string{"$skiptoken", "malformed"}},
			{"altered token", odQuery("Jobs", "$orderby=reference_back_office&$skiptoken="+string(flipped)+"."+mac), 400, []string{"$skiptoken", "altered"}},
			{"token of another order", odQuery("Jobs", "$orderby=name&$skiptoken="+token), 400, []string{"$skiptoken", "another query"}},
			{"token of another filter", odQuery("Jobs", "$orderby=reference_back_office&$filter=name ne 'x'&$skiptoken="+token), 400, []string{"$skiptoken", "another query"}},
			{"token of another entity", odQuery("Project", "$orderby=reference_back_office&$skiptoken="+token), 400, []string{"$skiptoken", "another query"}},
			{"empty token", odQuery("Jobs", "$skiptoken="), 400, []string{"$skiptoken", "empty"}},
			// formats
			{"$format=xml", odQuery("Jobs", "$format=xml"), 406, []string{"$format=xml is not supported"}},
			{"$format=atom on $metadata", odQuery("$metadata", "$format=atom"), 406, []string{"$format=atom"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Do("GET", tc.path, nil)
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %.300s", r.Status, tc.status, r.Raw)
				}
				want := map[int]string{400: "ValidationFailed", 406: "NotAcceptable"}[tc.status]
				if r.ErrorCode() != want {
					t.Errorf("error code %q, want %q", r.ErrorCode(), want)
				}
				for _, frag := range tc.fragments {
					if !strings.Contains(r.ErrorMessage(), frag) {
						t.Errorf("message %q lacks %q", r.ErrorMessage(), frag)
					}
				}
			})
		}
		// The unaltered token works, and only for its tenant.
		if r := c.Do("GET", odQuery("Jobs", "$orderby=reference_back_office&$select=id&$skiptoken="+token), nil); r.Status != 200 {
			t.Errorf("the token itself: %d %s", r.Status, r.Raw)
		}
		if r := other.Do("GET", odQuery("Jobs", "$orderby=reference_back_office&$select=id&$skiptoken="+token), nil); r.Status != 400 || !strings.Contains(r.ErrorMessage(), "altered or belongs to another query") {
			t.Errorf("another tenant's token: %d %s", r.Status, r.Raw)
		}
	})
}
