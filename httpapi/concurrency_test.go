package httpapi_test

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// parallel runs writers goroutines, each calling fn for requests iterations,
// and collects unexpected statuses.
func parallel(t *testing.T, writers, requests int, fn func(writer, i int) (status int, body string)) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := map[int]string{}
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < requests; i++ {
				if status, body := fn(w, i); status != 0 {
					mu.Lock()
					failures[status] = body
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for status, body := range failures {
		t.Errorf("unexpected status %d, e.g. %s", status, body)
	}
}

// writers × rounds requests per concurrency test. The default keeps the suite
// fast; ORDO_TEST_ROUNDS=200 gives the 16 × 200 soak.
const writers = 16

var rounds = func() int {
	if n, err := strconv.Atoi(os.Getenv("ORDO_TEST_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 25
}()

// TestConcurrentEmbeddedInsert: writers embedding the same new company (by
// ERP key) at the same moment end with one company, and no request fails.
func TestConcurrentEmbeddedInsert(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		c.Must(201, "POST", "/api/ProjectStatus", map[string]any{"code": "ACTIVE", "name": "Active", "is_default": true})
		parallel(t, writers, rounds, func(w, i int) (int, string) {
			r := c.Do("POST", "/api/Project", map[string]any{
				"reference_back_office": fmt.Sprintf("P-%d-%d", w, i), "name": "Lift",
				"company": map[string]any{"code": fmt.Sprintf("SHARED-%d", i), "name": fmt.Sprintf("Shared %d", i)},
			})
			if r.Status != 201 {
				return r.Status, string(r.Raw)
			}
			return 0, ""
		})
		companies := map[string]string{}
		for _, row := range listAll(t, c, "/api/Company") {
			if prev, dup := companies[row["code"].(string)]; dup {
				t.Errorf("company %s exists twice (%s, %s)", row["code"], prev, row["id"])
			}
			companies[row["code"].(string)] = row["id"].(string)
		}
		if len(companies) != rounds {
			t.Errorf("%d companies, want %d", len(companies), rounds)
		}
		projects := listAll(t, c, "/api/Project")
		if len(projects) != writers*rounds {
			t.Fatalf("%d projects, want %d", len(projects), writers*rounds)
		}
		for _, p := range projects {
			var w, i int
			fmt.Sscanf(p["reference_back_office"].(string), "P-%d-%d", &w, &i)
			if p["company_id"] != companies[fmt.Sprintf("SHARED-%d", i)] {
				t.Errorf("project %s points to company %s", p["reference_back_office"], p["company_id"])
			}
		}
	})
}

// TestConcurrentJobWrites: parallel creates, status changes and overlapping
// embedded updates; id2 stays unique, nothing fails, and the project
// aggregates are exactly what the jobs say.
func TestConcurrentJobWrites(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		second := c.Must(201, "POST", "/api/Project", map[string]any{"reference_back_office": "P2", "name": "Lift 2",
			"company_id": f.company, "project_status_code": "ACTIVE"})["id"].(string)
		projects := []string{f.project, second}
		parallel(t, writers, rounds, func(w, i int) (int, string) {
			// Every request updates the same shared job types and skills
			// (in different combinations), so writers contend on those rows.
			r := c.Do("POST", "/api/Jobs", map[string]any{
				"reference_back_office": fmt.Sprintf("J-%d-%d", w, i), "name": "Job",
				"project_id": projects[(w+i)%2], "job_status_code": "Open",
				"job_type": map[string]any{"code": fmt.Sprintf("T%d", (w+i)%3), "name": fmt.Sprintf("Type %d by %d", (w+i)%3, w)},
				"skill":    map[string]any{"code": fmt.Sprintf("S%d", (w*7+i)%3), "name": fmt.Sprintf("Skill by %d", w)},
			})
			if r.Status != 201 {
				return r.Status, string(r.Raw)
			}
			id := r.Body["id"].(string)
			next := []string{"ToBePlanned", "Pooling", "Canceled", "Open"}[(w+i)%4]
			if r := c.Do("PUT", "/api/Jobs("+id+")", map[string]any{"job_status_code": next, "project_id": projects[(w+i+1)%2]}); r.Status != 200 {
				return r.Status, string(r.Raw)
			}
			return 0, ""
		})
		jobs := listAll(t, c, "/api/Jobs")
		if len(jobs) != writers*rounds+1 {
			t.Fatalf("%d jobs, want %d", len(jobs), writers*rounds+1)
		}
		seen := map[string]bool{}
		var id2s []int
		want := map[string]map[string]int64{}
		for _, j := range jobs {
			n, _ := j["id2"].(json.Number).Int64()
			if seen[string(j["id2"].(json.Number))] {
				t.Errorf("id2 %d given twice", n)
			}
			seen[string(j["id2"].(json.Number))] = true
			id2s = append(id2s, int(n))
			p := j["project_id"].(string)
			if want[p] == nil {
				want[p] = map[string]int64{}
			}
			switch j["job_status_code"] {
			case "Canceled":
			case "ToBePlanned":
				want[p]["nb_jobs_tobeplanned"]++
				want[p]["nb_open_jobs"]++
			default:
				want[p]["nb_open_jobs"]++
			}
		}
		sort.Ints(id2s)
		if id2s[0] != 1 || id2s[len(id2s)-1] != len(id2s) {
			t.Errorf("id2 runs from %d to %d over %d jobs", id2s[0], id2s[len(id2s)-1], len(id2s))
		}
		for _, p := range projects {
			got := c.Must(200, "GET", "/api/Project("+p+")", nil)
			for _, field := range []string{"nb_open_jobs", "nb_jobs_tobeplanned"} {
				if n, _ := got[field].(json.Number).Int64(); n != want[p][field] {
					t.Errorf("project %s %s = %d, the jobs say %d", got["reference_back_office"], field, n, want[p][field])
				}
			}
		}
	})
}

// listAll follows @odata.nextLink to the end.
func listAll(t *testing.T, c *testenv.Client, path string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for path != "" {
		body := c.Must(200, "GET", path, nil)
		for _, v := range body["value"].([]any) {
			rows = append(rows, v.(map[string]any))
		}
		next, _ := body["@odata.nextLink"].(string)
		path = ""
		if next != "" {
			path = next[len(c.URL):]
		}
	}
	return rows
}
