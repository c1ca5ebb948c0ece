package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// trackPrefer is the header of a track-changes request.
var trackPrefer = []string{"Prefer", "odata.track-changes"}

// apiPath turns an absolute link of a response into a path for the client.
func apiPath(t *testing.T, link string) string {
	t.Helper()
	i := strings.Index(link, "/api/")
	if i < 0 {
		t.Fatalf("link %q has no /api/", link)
	}
	return link[i:]
}

// deltaEntry is one item of a delta response: a row, or a removed id.
type deltaEntry struct {
	row     rlObj
	removed string // reason, "" for a row
}

// walkTracked follows a track-changes answer's nextLinks from path and
// returns every item and the final deltaLink.
func walkTracked(t *testing.T, c *testenv.Client, path string) (items map[string]deltaEntry, order []string, deltaLink string) {
	t.Helper()
	items = map[string]deltaEntry{}
	for pages := 0; path != ""; pages++ {
		if pages > 10000 {
			t.Fatal("too many pages")
		}
		r := c.Do("GET", path, nil, trackPrefer...)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
		}
		if got := r.Header.Get("Preference-Applied"); got != "odata.track-changes" {
			t.Fatalf("Preference-Applied = %q", got)
		}
		vals, _ := r.Body["value"].([]any)
		for _, v := range vals {
			m := v.(rlObj)
			id := rlStr(m, "id")
			e := deltaEntry{row: m}
			if rm, ok := m["@removed"].(rlObj); ok {
				e = deltaEntry{removed: rlStr(rm, "reason")}
			}
			items[id] = e
			order = append(order, id)
		}
		path = ""
		if next, ok := r.Body["@odata.nextLink"].(string); ok {
			path = apiPath(t, next)
		} else if dl, ok := r.Body["@odata.deltaLink"].(string); ok {
			deltaLink = apiPath(t, dl)
		} else {
			t.Fatalf("GET: neither nextLink nor deltaLink: %s", r.Raw)
		}
	}
	return items, order, deltaLink
}

func TestDeltaLinks(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		w := rlTenantWorld(t, srv, "DELTA")
		var jobs []string
		for i := 0; i < 5; i++ {
			jobs = append(jobs, w.newJob(t, rlObj{"name": "J" + string(rune('A'+i))}))
		}

		t.Run("full load, then changes, removals and filter exits", func(t *testing.T) {
			load, _, link := walkTracked(t, w.c, "/api/Jobs?$filter="+url.QueryEscape("startswith(name,'J')")+"&$select=name,job_status_code")
			if len(load) != 5 || link == "" {
				t.Fatalf("load: %d rows, deltaLink %q", len(load), link)
			}
			if _, ok := load[jobs[0]].row["project_id"]; ok {
				t.Errorf("$select not applied: %v", load[jobs[0]].row)
			}
			empty, _, link2 := walkTracked(t, w.c, link)
			if len(empty) != 0 {
				t.Fatalf("delta without changes: %v", empty)
			}
			w.put(t, "Jobs", jobs[0], rlObj{"name": "J changed"})
			w.put(t, "Jobs", jobs[0], rlObj{"name": "J changed twice"})
			w.put(t, "Jobs", jobs[1], rlObj{"name": "Xleaves the filter"})
			w.must(t, 204, "DELETE", rlPath("Jobs", jobs[2]), nil)
			added := w.newJob(t, rlObj{"name": "J new"})
			outside := w.newJob(t, rlObj{"name": "Not matching"})
			got, order, link3 := walkTracked(t, w.c, link2)
			rlEq(t, "entries", len(order), 5) // jobs[0] once; the outside insert as removed/changed
			rlEq(t, "changed row", rlStr(got[jobs[0]].row, "name"), "J changed twice")
			rlEq(t, "left filter", got[jobs[1]].removed, "changed")
			rlEq(t, "deleted", got[jobs[2]].removed, "deleted")
			rlEq(t, "added", rlStr(got[added].row, "name"), "J new")
			rlEq(t, "insert outside the filter", got[outside].removed, "changed")
			if order[len(order)-1] != outside {
				t.Errorf("entries not in change order: %v", order)
			}
			// The old link still answers the same window's changes and more.
			again, _, _ := walkTracked(t, w.c, link2)
			rlEq(t, "replayed link", len(again), 5)
			none, _, _ := walkTracked(t, w.c, link3)
			rlEq(t, "after the last link", len(none), 0)
		})

		t.Run("pages of the delta window", func(t *testing.T) {
			_, _, link := walkTracked(t, w.c, "/api/Jobs?$select=name")
			var made []string
			for i := 0; i < 7; i++ {
				made = append(made, w.newJob(t, nil))
			}
			r := w.c.Do("GET", link, nil, "Prefer", "odata.track-changes, odata.maxpagesize=3")
			if r.Status != 200 || r.Body["@odata.nextLink"] == nil || len(r.Body["value"].([]any)) != 3 {
				t.Fatalf("first delta page: %d %s", r.Status, r.Raw)
			}
			got, _, _ := walkTracked(t, w.c, link)
			for _, id := range made {
				if got[id].row == nil {
					t.Errorf("job %s missing from the delta", id)
				}
			}
		})

		t.Run("owned lists and rule-driven rows", func(t *testing.T) {
			_, _, link := walkTracked(t, w.c, "/api/Project")
			_, _, plink := walkTracked(t, w.c, "/api/JobPlanning")
			job := w.newJob(t, nil)
			w.plan(t, job, time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC), 60) // the rule moves the job to Planned and refreshes the project
			got, _, _ := walkTracked(t, w.c, link)
			if got[w.projectID].row == nil {
				t.Errorf("project aggregates changed but the project is not in the delta: %v", got)
			}
			pl, _, _ := walkTracked(t, w.c, plink)
			rlEq(t, "plannings in delta", len(pl), 1)
		})

		t.Run("refusals", func(t *testing.T) {
			_, _, link := walkTracked(t, w.c, "/api/Jobs?$select=name")
			other := srv.Tenant(t, "OTHER")
			r := other.Do("GET", link, nil)
			rlWantError(t, r, 400, "another tenant")
			r = w.c.Do("GET", strings.Replace(link, "$select=name", "$select=job_status_code", 1), nil)
			rlWantError(t, r, 400, "another query")
			r = w.c.Do("GET", link+"x", nil)
			rlWantError(t, r, 400)
			for _, opt := range []string{"$orderby=name", "$top=3", "$count=true", "$expand=plannings"} {
				r = w.c.Do("GET", "/api/Jobs?"+opt, nil, trackPrefer...)
				if r.Status != 400 {
					t.Errorf("%s with track-changes: %d", opt, r.Status)
				}
			}
			r = w.c.Do("GET", "/api/Jobs?$expand=project&$select=name", nil, trackPrefer...)
			rlEq(t, "to-one $expand allowed", r.Status, 200)
		})

		t.Run("410 past retention", func(t *testing.T) {
			_, _, link := walkTracked(t, w.c, "/api/Jobs")
			w.newJob(t, nil)
			if _, err := srv.DB.PruneChanges(context.Background(), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			r := w.c.Do("GET", link, nil)
			rlWantError(t, r, 410, "full sync")
			_, _, fresh := walkTracked(t, w.c, "/api/Jobs")
			w.newJob(t, nil)
			got, _, _ := walkTracked(t, w.c, fresh)
			rlEq(t, "delta after pruning", len(got), 1)
		})
	})
}
