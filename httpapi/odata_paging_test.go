package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// odWriter inserts, updates and deletes jobs through the API until stopped,
// recording every job it touched.
type odWriter struct {
	c       *testenv.Client
	f       odFixture
	seeded  []string
	rnd     *rand.Rand
	tag     int // makes the ids it inserts unique per walk
	ops     atomic.Int64
	mu      sync.Mutex
	updated map[string]int  // job → updates sent
	deleted map[string]bool // by this writer, or before (gone)
	created map[string]bool
	errs    []string
	counts  [3]int // inserts, updates, deletes that succeeded
}

func (w *odWriter) send(method, path string, body any) (int, []byte) {
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, w.c.URL+path, rd)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(w.c.Auth)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

// step does one write: an insert, an update or a delete, in turn.
func (w *odWriter) step(i int) {
	w.mu.Lock()
	var id string
	for id == "" || w.deleted[id] {
		id = w.seeded[w.rnd.IntN(len(w.seeded))]
	}
	kind := i % 3
	switch kind {
	case 0:
		id = fmt.Sprintf("00000000-0000-4000-8%03d-%012x", w.tag, i) // sorts before every seeded id
		if i%2 == 1 {
			id = fmt.Sprintf("ffffffff-ffff-4fff-8%03d-%012x", w.tag, i) // and after
		}
		w.created[id] = true
	case 1:
		w.updated[id]++
	case 2:
		w.deleted[id] = true
	}
	w.mu.Unlock()
	var status int
	var body []byte
	want := 200
	switch kind {
	case 0:
		p := w.f.projects[i%len(w.f.projects)]
		status, body = w.send("POST", "/api/Jobs", map[string]any{"id": id, "name": fmt.Sprintf("New job %d", i),
			"project_id": p["id"], "job_type_id": w.f.jobType["id"], "job_status_code": "Open"})
		want = 201
	case 1:
		status, body = w.send("PATCH", "/api/Jobs("+id+")", map[string]any{"name": fmt.Sprintf("Updated %d", i)})
	case 2:
		status, body = w.send("DELETE", "/api/Jobs("+id+")", nil)
		want = 204
	}
	w.mu.Lock()
	if status != want {
		w.errs = append(w.errs, fmt.Sprintf("op %d: %d %s", i, status, body))
	} else {
		w.counts[kind]++
	}
	w.mu.Unlock()
	w.ops.Add(1)
}

// TestODataPagingUnderWrites walks @odata.nextLink over 10,000 jobs while
// another goroutine inserts, updates and deletes jobs: ordered by id, and
// ordered by modified_dateutc (delta sync), no row that existed throughout
// the walk is missed; by id each comes exactly once; by modified_dateutc a
// row not updated comes exactly once and an updated one at least once.
func TestODataPagingUnderWrites(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "WALK")
		f := odMakeFixture(t, c, 4, 5)
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		start := time.Now()
		// 40 jobs share each modified_dateutc: pages end inside a run of
		// equal timestamps, which only the id tie-breaker orders.
		seeded := odBulkJobs(t, srv, dsn, c.Tenant.ID, f, 10000, func(i int) time.Time { return base.Add(time.Duration(i/40) * time.Second) })
		t.Logf("10,000 jobs inserted in %v", time.Since(start).Round(time.Millisecond))
		gone := map[string]bool{}    // deleted by an earlier walk's writer
		changed := map[string]bool{} // updated by an earlier walk's writer
		for walk, tc := range []struct {
			name, query string
			byModified  bool
		}{
			{"by id", "$select=id,modified_dateutc,name", false},
			{"by modified_dateutc", "$select=id,modified_dateutc,name&$orderby=modified_dateutc&$filter=modified_dateutc gt " + base.Add(-time.Second).Format(time.RFC3339), true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				w := &odWriter{c: c, f: f, seeded: seeded, rnd: rand.New(rand.NewPCG(1, uint64(walk))), tag: walk,
					updated: map[string]int{}, deleted: map[string]bool{}, created: map[string]bool{}}
				for id := range gone {
					w.deleted[id] = true
				}
				defer func() {
					for id := range w.deleted {
						gone[id] = true
					}
					for id := range w.updated {
						changed[id] = true
					}
				}()
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() {
					defer close(done)
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						w.step(i)
					}
				}()
				// Walk, waiting for at least one write between pages, so
				// that writes land all along the walk.
				type seen struct {
					m    time.Time
					name string
				}
				var rows []odRow
				path := odQuery("Jobs", tc.query)
				pages := 0
				walkStart := time.Now()
				for path != "" {
					before := w.ops.Load()
					for w.ops.Load() == before && time.Since(walkStart) < 20*time.Second {
						time.Sleep(200 * time.Microsecond)
					}
					body := c.Must(200, "GET", path, nil)
					pages++
					for _, v := range body["value"].([]any) {
						rows = append(rows, v.(odRow))
					}
					next, _ := body["@odata.nextLink"].(string)
					path = ""
					if next != "" {
						if !strings.Contains(next, "$skiptoken=") || strings.Contains(next, "$skip=") {
							t.Fatalf("nextLink %s is not a keyset link", next)
						}
						path = odPath(c, next)
					}
				}
				close(stop)
				<-done
				walkTime := time.Since(walkStart)
				w.mu.Lock()
				defer w.mu.Unlock()
				if len(w.errs) > 0 {
					t.Fatalf("%d writes failed, first: %s", len(w.errs), w.errs[0])
				}
				t.Logf("%d pages, %d rows in %v; concurrent writes: %d inserts, %d updates, %d deletes",
					pages, len(rows), walkTime.Round(time.Millisecond), w.counts[0], w.counts[1], w.counts[2])
				if w.counts[0] < 20 || w.counts[1] < 20 || w.counts[2] < 20 {
					t.Fatalf("too few concurrent writes to test anything: %v", w.counts)
				}
				// The walk is in strictly increasing order of its keys.
				for i := 1; i < len(rows); i++ {
					a, b := rows[i-1], rows[i]
					ordered := odStr(a, "id") < odStr(b, "id")
					if tc.byModified {
						ma, mb := odTime(a, "modified_dateutc"), odTime(b, "modified_dateutc")
						ordered = ma.Before(mb) || (ma.Equal(mb) && odStr(a, "id") < odStr(b, "id"))
					}
					if !ordered {
						t.Fatalf("row %d (%s %s) does not follow row %d (%s %s)", i, odStr(b, "id"), b["modified_dateutc"], i-1, odStr(a, "id"), a["modified_dateutc"])
					}
				}
				times := map[string][]seen{}
				for _, r := range rows {
					id := odStr(r, "id")
					times[id] = append(times[id], seen{odTime(r, "modified_dateutc"), odStr(r, "name")})
				}
				var missed, twice, again int
				for i, id := range seeded {
					got := times[id]
					switch {
					case w.deleted[id]:
						if len(got) > 1 {
							t.Errorf("deleted job %s came %d times", id, len(got))
						}
					case !tc.byModified || w.updated[id] == 0:
						switch {
						case len(got) == 0:
							missed++
						case len(got) > 1:
							twice++
						case tc.byModified && !changed[id] && !got[0].m.Equal(base.Add(time.Duration(i/40)*time.Second)):
							t.Errorf("job %s was not updated but came with modified_dateutc %v", id, got[0].m)
						}
						if len(got) != 1 && missed+twice <= 10 {
							t.Errorf("job %s (updates %d) came %d times, want exactly once", id, w.updated[id], len(got))
						}
					default: // updated during a walk by modified_dateutc
						if len(got) == 0 {
							missed++
							t.Errorf("updated job %s never came", id)
						}
						again += len(got) - 1
					}
				}
				for id := range w.created {
					if len(times[id]) > 1 {
						t.Errorf("job %s inserted during the walk came %d times", id, len(times[id]))
					}
				}
				if missed+twice > 0 {
					t.Fatalf("%d rows missed, %d rows twice", missed, twice)
				}
				if tc.byModified {
					t.Logf("%d updated rows came again with their new values", again)
				}
			})
		}
	})
}

// TestODataServerPaging: pages of at most 100 rows, lowered by $top and by
// Prefer: odata.maxpagesize (answered with Preference-Applied); $skip on
// the first page then keyset links that keep the other options; @odata.count
// on every page asked; the $count segment; HEAD.
func TestODataServerPaging(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "PAGES")
		f := odMakeFixture(t, c, 2, 2)
		ids := odBulkJobs(t, srv, dsn, c.Tenant.ID, f, 250, func(i int) time.Time { return time.Date(2026, 1, 27, 12, 0, i%7, 0, time.UTC) })
		slices.Sort(ids)
		walk := func(path string, headers ...string) ([]int, []string, odPage) {
			t.Helper()
			var sizes []int
			var applied []string
			var all odPage
			for path != "" {
				r := c.Do("GET", path, nil, headers...)
				if r.Status != 200 {
					t.Fatalf("%s: %d %s", path, r.Status, r.Raw)
				}
				rows := r.Body["value"].([]any)
				sizes = append(sizes, len(rows))
				applied = append(applied, r.Header.Get("Preference-Applied"))
				for _, v := range rows {
					all.Rows = append(all.Rows, v.(odRow))
				}
				if n, ok := r.Body["@odata.count"]; ok && !odSameJSON(n, 250) {
					t.Errorf("%s: @odata.count %v", path, n)
				}
				next, _ := r.Body["@odata.nextLink"].(string)
				path = ""
				if next != "" {
					all.NextRaws = append(all.NextRaws, next)
					path = odPath(c, next)
				}
			}
			return sizes, applied, all
		}
		for _, tc := range []struct {
			name, query string
			prefer      string
			sizes       []int
			applied     string
			from        int
		}{
			{"default", "", "", []int{100, 100, 50}, "", 0},
			{"maxpagesize", "$count=true", "odata.maxpagesize=40", []int{40, 40, 40, 40, 40, 40, 10}, "odata.maxpagesize=40", 0},
			{"maxpagesize above the server's", "", "return=minimal, odata.maxpagesize=500", []int{100, 100, 50}, "", 0},
			{"4.01 maxpagesize with $top", "$top=30", "maxpagesize=20", []int{20, 10}, "odata.maxpagesize=20", 0},
			{"$top over pages", "$top=120&$count=true", "", []int{100, 20}, "", 0},
			{"$skip then tokens", "$skip=30&$select=id", "", []int{100, 100, 20}, "", 30},
			{"$skip and $top", "$skip=200&$top=100", "", []int{50}, "", 200},
			{"$format=json", "$format=json&$select=id,name&$filter=id2 ge 1000", "", []int{100, 100, 50}, "", 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var headers []string
				if tc.prefer != "" {
					headers = []string{"Prefer", tc.prefer}
				}
				sizes, applied, all := walk(odQuery("Jobs", tc.query), headers...)
				if !slices.Equal(sizes, tc.sizes) {
					t.Errorf("page sizes %v, want %v", sizes, tc.sizes)
				}
				for _, a := range applied {
					if a != tc.applied {
						t.Errorf("Preference-Applied %q, want %q", a, tc.applied)
					}
				}
				want := ids[tc.from:]
				want = want[:min(len(want), len(all.Rows))]
				if got := odIDs(all.Rows); !slices.Equal(got, want) {
					t.Errorf("rows %v..., want %v...", head(got), head(want))
				}
				for _, link := range all.NextRaws {
					for opt := range odTopLevel(tc.query) {
						if opt == "$skip" || opt == "$top" {
							continue
						}
						if !strings.Contains(link, opt+"=") {
							t.Errorf("nextLink %s lost %s", link, opt)
						}
					}
					if strings.Contains(link, "$skip=") || !strings.Contains(link, "$skiptoken=") {
						t.Errorf("nextLink %s", link)
					}
				}
			})
		}
		// The $count segment: plain text, the filter applied, other options ignored.
		for q, want := range map[string]string{"": "250", "$filter=estimated_time eq 30": "32", "$filter=id2 lt 1010&$top=2&$orderby=name": "10"} {
			r := c.Do("GET", odQuery("Jobs/$count", q), nil, "Accept", "text/plain")
			if r.Status != 200 || string(r.Raw) != want || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("$count?%s: %d %q %s, want %s", q, r.Status, r.Raw, r.Header.Get("Content-Type"), want)
			}
		}
		if r := c.Do("HEAD", "/api/Jobs?$top=3", nil); r.Status != 200 || len(r.Raw) != 0 || r.Header.Get("Content-Length") == "0" {
			t.Errorf("HEAD: %d %q %s", r.Status, r.Raw, r.Header.Get("Content-Length"))
		}
		// Data requests still refuse XML-only clients.
		if r := c.Do("GET", "/api/Jobs", nil, "Accept", "application/xml"); r.Status != 406 {
			t.Errorf("XML-only Accept on data: %d", r.Status)
		}
	})
}
