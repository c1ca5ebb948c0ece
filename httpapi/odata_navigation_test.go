package httpapi_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestODataNavigationPaths reads navigation properties as resources on the
// demo data, on both databases: the collections with their options and
// paging, their $count, a single navigation, and the tenant and error rules.
func TestODataNavigationPaths(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv, c, d := odDemo(t, dsn)
		// the project with the most jobs, and a job with the most plannings
		var pid, jid string
		for id, jobs := range d.jobsByProject {
			if pid == "" || len(jobs) > len(d.jobsByProject[pid]) || (len(jobs) == len(d.jobsByProject[pid]) && id < pid) {
				pid = id
			}
		}
		for id, ps := range d.planByJob {
			if jid == "" || len(ps) > len(d.planByJob[jid]) || (len(ps) == len(d.planByJob[jid]) && id < jid) {
				jid = id
			}
		}
		projectJobs := d.jobsByProject[pid]
		if len(projectJobs) < 4 || len(d.planByJob[jid]) < 1 {
			t.Fatalf("weak data: %d jobs, %d plannings", len(projectJobs), len(d.planByJob[jid]))
		}
		byName := slices.Clone(projectJobs)
		odSort(byName, []odKey{asc("name")})

		// the collection with $top and $orderby
		got := odWalk(t, c, odQuery("Project("+pid+")/jobs", "$top=2&$orderby=name"))
		if !slices.Equal(odIDs(got.Rows), odIDs(byName[:2])) || !strings.HasSuffix(got.Context, "/api/$metadata#Jobs") {
			t.Errorf("Project(%s)/jobs?$top=2&$orderby=name: %v (%s), want %v", pid, odIDs(got.Rows), got.Context, odIDs(byName[:2]))
		}
		// every page of it, server-driven paging through nextLinks on the same path
		got = odWalk(t, c, odQuery("Project("+pid+")/jobs", "$orderby=name&$count=true&$select=name"), "Prefer", "odata.maxpagesize=3")
		if !slices.Equal(odIDs(got.Rows), odIDs(byName)) || got.Count == nil || *got.Count != int64(len(byName)) || got.Pages < 2 {
			t.Errorf("paged walk: %d rows in %d pages, count %v; want %d", len(got.Rows), got.Pages, got.Count, len(byName))
		}
		for _, next := range got.NextRaws {
			if !strings.Contains(next, "/api/Project("+pid+")/jobs?") {
				t.Errorf("nextLink %s leaves the navigation path", next)
			}
		}
		// a filter on top of the navigation
		var long []odRow
		for _, j := range byName {
			if odInt(j, "estimated_time") >= 60 {
				long = append(long, j)
			}
		}
		got = odWalk(t, c, odQuery("Project("+pid+")/jobs", "$filter=estimated_time ge 60&$orderby=name"))
		if !slices.Equal(odIDs(got.Rows), odIDs(long)) {
			t.Errorf("filtered: %v, want %v", odIDs(got.Rows), odIDs(long))
		}
		// $count of the navigation, with and without a filter
		for path, want := range map[string]int{
			odQuery("Project("+pid+")/jobs/$count", ""):                               len(projectJobs),
			odQuery("Project("+pid+")/jobs/$count", "$filter=estimated_time ge 60"):   len(long),
			odQuery("Jobs("+jid+")/job_planning/$count", ""):                          len(d.planByJob[jid]),
			odQuery("Jobs("+jid+")/job_planning/$count", "$filter=user_code eq 'NO'"): 0,
		} {
			r := c.Do("GET", path, nil)
			if r.Status != 200 || strings.TrimSpace(string(r.Raw)) != strconv.Itoa(want) {
				t.Errorf("GET %s: %d %s, want %d", path, r.Status, r.Raw, want)
			}
		}
		// plannings of a job
		plans := slices.Clone(d.planByJob[jid])
		odSort(plans, []odKey{desc("date_from")})
		got = odWalk(t, c, odQuery("Jobs("+jid+")/job_planning", "$orderby=date_from desc&$expand=user($select=code)"))
		if !slices.Equal(odIDs(got.Rows), odIDs(plans)) {
			t.Errorf("Jobs(%s)/job_planning: %v, want %v", jid, odIDs(got.Rows), odIDs(plans))
		}
		for _, p := range got.Rows {
			u, _ := p["user"].(odRow)
			if want := odStr(d.users[odStr(d.plannings[odStr(p, "id")], "user_id")], "code"); odStr(u, "code") != want {
				t.Errorf("planning %s: user %v, want code %s", odStr(p, "id"), u, want)
			}
		}
		// the single navigation is the entity, with $select
		job := d.jobs[jid]
		r := c.Do("GET", odQuery("Jobs("+jid+")/project", "$select=name"), nil)
		if r.Status != 200 || r.Body["id"] != odStr(job, "project_id") || r.Body["name"] != odStr(d.project(job), "name") ||
			!strings.HasSuffix(r.Body["@odata.context"].(string), "#Project(id,name)/$entity") {
			t.Errorf("Jobs(%s)/project: %d %s", jid, r.Status, r.Raw)
		}
		r = c.Do("GET", "/api/Jobs("+jid+")/project", nil)
		if r.Status != 200 || r.Body["reference_back_office"] != odStr(d.project(job), "reference_back_office") || r.Header.Get("ETag") == "" {
			t.Errorf("Jobs(%s)/project: %d %s", jid, r.Status, r.Raw)
		}
		// an unset reference: no content
		if r := c.Do("GET", "/api/Jobs("+jid+")/_parent_job", nil); r.Status != 204 || len(r.Raw) != 0 {
			t.Errorf("unset _parent_job: %d %s", r.Status, r.Raw)
		}
		// errors and tenants
		other := srv.Tenant(t, "OTHER")
		for _, tc := range []struct {
			c      *testenv.Client
			path   string
			status int
			msg    string
		}{
			{other, "/api/Project(" + pid + ")/jobs", 404, ""},
			{other, "/api/Project(" + pid + ")/jobs/$count", 404, ""},
			{other, "/api/Jobs(" + jid + ")/project", 404, ""},
			{c, "/api/Project(00000000-0000-4000-8000-000000000999)/jobs", 404, ""},
			{c, "/api/Project(" + pid + ")/nope", 404, "no navigation property"},
			{c, "/api/Jobs(" + jid + ")/project/$count", 404, "single navigation"},
			{c, "/api/Jobs(" + jid + ")/project/name", 404, "one navigation"},
			{c, odQuery("Jobs("+jid+")/project", "$top=1"), 400, "$top applies to collections"},
			{c, odQuery("Project("+pid+")/jobs", "$filter=nope eq 1"), 400, "$filter: at position 0"},
		} {
			r := tc.c.Do("GET", tc.path, nil)
			if r.Status != tc.status || !strings.Contains(string(r.Raw), tc.msg) {
				t.Errorf("GET %s: %d %s, want %d %q", tc.path, r.Status, r.Raw, tc.status, tc.msg)
			}
		}
		if r := c.Do("POST", "/api/Project("+pid+")/jobs", map[string]any{}); r.Status != 405 {
			t.Errorf("POST on a navigation: %d", r.Status)
		}
	})
}
