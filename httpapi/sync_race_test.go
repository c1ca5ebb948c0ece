package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/sqlstore"
	"github.com/ordo-fsm/ordo/webhook"
)

// raceDuration is how long the writers of TestSyncRace run: a few seconds
// by default; ORDO_SYNC_RACE_SECONDS=20 gives the full run.
func raceDuration() time.Duration {
	if n, err := strconv.Atoi(os.Getenv("ORDO_SYNC_RACE_SECONDS")); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 3 * time.Second
}

// delayCommits is a BeforeCommit hook that holds about a third of the
// write transactions open for up to 40 ms before they commit, so commits
// land in another order than the transactions started.
func delayCommits(ctx context.Context, tenant int64) {
	if rand.IntN(3) == 0 {
		time.Sleep(time.Duration(1+rand.IntN(40)) * time.Millisecond)
	}
}

// replica is what a follower knows of one collection.
type replica map[string]rlObj

// deltaFollower keeps a replica of a collection with a track-changes load
// and then its delta links.
type deltaFollower struct {
	c       *testenv.Client
	ctrl    string
	rows    replica
	link    string
	entries int
}

func (f *deltaFollower) step(t *testing.T) {
	path := f.link
	if path == "" {
		path = "/api/" + f.ctrl
		f.rows = replica{}
	}
	items, order, link := walkTracked(t, f.c, path)
	f.entries += len(order)
	for id, it := range items {
		if it.removed != "" {
			delete(f.rows, id)
		} else {
			f.rows[id] = it.row
		}
	}
	f.link = link
}

// watermarkFollower is the naive client the change log replaces: it asks
// for rows with modified_dateutc after the largest one it has seen.
type watermarkFollower struct {
	c    *testenv.Client
	ctrl string
	rows replica
	mark string
}

func (f *watermarkFollower) step(t *testing.T) {
	path := "/api/" + f.ctrl + "?$orderby=modified_dateutc"
	if f.mark != "" {
		path += "&$filter=" + url.QueryEscape("modified_dateutc gt "+f.mark)
	}
	for path != "" {
		b := f.c.Must(200, "GET", path, nil)
		vals, _ := b["value"].([]any)
		for _, v := range vals {
			m := v.(rlObj)
			f.rows[rlStr(m, "id")] = m
			if md := rlStr(m, "modified_dateutc"); md > f.mark { // RFC 3339 in UTC: sorts as text
				f.mark = md
			}
		}
		path = ""
		if next, ok := b["@odata.nextLink"].(string); ok {
			path = apiPath(t, next)
		}
	}
}

// diff compares a replica with a full read: rows missing or stale in the
// replica, and rows it holds that no longer exist.
func (r replica) diff(full []rlObj) (missing, stale, extra int) {
	seen := map[string]bool{}
	for _, row := range full {
		id := rlStr(row, "id")
		seen[id] = true
		got, ok := r[id]
		switch {
		case !ok:
			missing++
		case !reflect.DeepEqual(got, row):
			stale++
		}
	}
	for id := range r {
		if !seen[id] {
			extra++
		}
	}
	return
}

// TestSyncRace: 16 writers insert, update and delete jobs, plannings (by
// hand and by the Suggested rule) and embedded projects and companies, with
// commits deliberately delayed, while followers walk delta links of four
// collections. At the end each replica equals a full read. A naive
// modified_dateutc watermark follower runs alongside; on PostgreSQL, where
// transactions commit out of start order, it must miss rows.
func TestSyncRace(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServerWith(t, dsn, sqlstore.Options{BeforeCommit: delayCommits, MaxConns: 24})
		w := rlTenantWorld(t, srv, "RACE")
		hooks := startHookReceiver(t, w, 2)
		deadline := time.Now().Add(raceDuration())
		var writes, failures atomic.Int64
		var failMu sync.Mutex
		var firstFailure string
		var wg sync.WaitGroup
		for n := 0; n < writers; n++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				raceWriter(t, w, n, deadline, &writes, func(s string) {
					failures.Add(1)
					failMu.Lock()
					if firstFailure == "" {
						firstFailure = s
					}
					failMu.Unlock()
				})
			}()
		}
		ctrls := []string{"Jobs", "JobPlanning", "Project", "Company"}
		followers := make([]*deltaFollower, len(ctrls))
		for i, c := range ctrls {
			followers[i] = &deltaFollower{c: w.c, ctrl: c}
		}
		naive := &watermarkFollower{c: w.c, ctrl: "Jobs", rows: replica{}}
		done := make(chan struct{})
		var fwg sync.WaitGroup
		fwg.Add(len(followers) + 1)
		for _, f := range followers {
			go func() {
				defer fwg.Done()
				for {
					f.step(t)
					select {
					case <-done:
						f.step(t) // once more after the last write
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			}()
		}
		go func() {
			defer fwg.Done()
			for {
				naive.step(t)
				select {
				case <-done:
					naive.step(t)
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
		wg.Wait()
		close(done)
		fwg.Wait()
		if failures.Load() > 0 {
			t.Errorf("%d writes failed, e.g. %s", failures.Load(), firstFailure)
		}
		for _, f := range followers {
			full := w.list(t, f.ctrl)
			missing, stale, extra := f.rows.diff(full)
			t.Logf("%s: %d rows, %d delta entries followed; missed %d, stale %d, should be gone %d",
				f.ctrl, len(full), f.entries, missing, stale, extra)
			if missing+stale+extra > 0 {
				t.Errorf("%s: the delta follower missed %d rows, holds %d stale and %d deleted ones", f.ctrl, missing, stale, extra)
			}
			if f.entries == 0 {
				t.Errorf("%s: nothing to follow", f.ctrl)
			}
		}
		hooks.check(t, w, followers[0].rows)
		missing, stale, _ := naive.rows.diff(w.list(t, "Jobs"))
		t.Logf("%d writes; the watermark follower missed %d jobs and holds %d stale ones (it cannot see deletes)", writes.Load(), missing, stale)
		if sqlstore.IsPostgres(dsn) && missing+stale == 0 {
			t.Errorf("the watermark follower missed nothing on PostgreSQL: the race test does not bite")
		}
	})
}

// minRaceOps is the fewest requests a writer sends, however slow the
// machine: enough for every kind of change to happen.
const minRaceOps = 8

// raceWriter is one of TestSyncRace's writers.
func raceWriter(t *testing.T, w *rlWorld, n int, deadline time.Time, writes *atomic.Int64, fail func(string)) {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	var jobs, plannings, projects []string
	check := func(what string, r *testenv.Response) bool {
		writes.Add(1)
		switch {
		case r.Status < 300:
			return true
		case r.Status == 409: // a refusal by a rule or a conflict: nothing written
			return false
		}
		fail(fmt.Sprintf("%s: %d %s", what, r.Status, r.Raw))
		return false
	}
	start := time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC)
	for i := 0; i < minRaceOps || time.Now().Before(deadline); i++ {
		switch op := rng.IntN(10); {
		case op < 4 || len(jobs) == 0:
			body := w.jobBody(rlObj{"name": fmt.Sprintf("job %d-%d", n, i),
				"project_id": rlOmit,
				"project":    rlObj{"reference_back_office": fmt.Sprintf("P-%d-%d", n, i%3), "name": "Project", "company": rlObj{"code": fmt.Sprintf("C-%d", rng.IntN(4)), "name": "Company"}}})
			if op == 0 {
				body["job_status_code"] = "Suggested"
				body["suggested_user_id"] = w.userID
				body["suggested_date_start"] = start.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
			}
			if r := w.c.Do("POST", "/api/Jobs", body); check("POST Jobs", r) {
				jobs = append(jobs, rlStr(r.Body, "id"))
				projects = append(projects, rlStr(r.Body, "project_id"))
			}
		case op < 6:
			check("PUT Jobs", w.c.Do("PUT", rlPath("Jobs", jobs[rng.IntN(len(jobs))]), rlObj{"description": fmt.Sprintf("v%d", i)}))
		case op == 6:
			from := start.Add(time.Duration(n*1000+i) * time.Hour)
			r := w.c.Do("POST", "/api/JobPlanning", rlObj{"jobs_id": jobs[rng.IntN(len(jobs))], "user_id": w.userID,
				"date_from": from.Format(time.RFC3339), "date_to": from.Add(time.Hour).Format(time.RFC3339)})
			if check("POST JobPlanning", r) {
				plannings = append(plannings, rlStr(r.Body, "id"))
			}
		case op == 7 && len(plannings) > 0:
			k := rng.IntN(len(plannings))
			if r := w.c.Do("DELETE", rlPath("JobPlanning", plannings[k]), nil); r.Status != 404 { // 404: gone with its job
				check("DELETE JobPlanning", r)
			}
			plannings = append(plannings[:k], plannings[k+1:]...)
		case op == 8:
			k := rng.IntN(len(jobs))
			r := w.c.Do("DELETE", rlPath("Jobs", jobs[k]), nil)
			if r.Status == 404 {
				writes.Add(1)
			} else if check("DELETE Jobs", r) {
				jobs = append(jobs[:k], jobs[k+1:]...)
			}
		default:
			if len(projects) > 0 {
				check("PUT Project", w.c.Do("PUT", rlPath("Project", projects[rng.IntN(len(projects))]), rlObj{"description": fmt.Sprintf("v%d", i)}))
			}
		}
	}
}

// hookReceiver is TestSyncRace's webhook endpoint, fed by several workers
// (nodes) on the same database.
type hookReceiver struct {
	mu      sync.Mutex
	batches map[string]int // Ordo-Webhook-Id -> times received
	events  []hookEvent
	bad     int
	cancel  context.CancelFunc
	done    sync.WaitGroup
	sub     string
}

type hookEvent struct {
	Position int64  `json:"position"`
	Entity   string `json:"entity"`
	ID       string `json:"id"`
	Op       string `json:"op"`
	Modified string `json:"modified_dateutc"`
	lag      time.Duration
}

const hookSecret = "race-test-secret-0123456789"

func startHookReceiver(t *testing.T, w *rlWorld, nodes int) *hookReceiver {
	h := &hookReceiver{batches: map[string]int{}}
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		at := time.Now()
		h.mu.Lock()
		defer h.mu.Unlock()
		if webhook.Verify(r.Header.Get("Ordo-Signature"), hookSecret, body, at, time.Minute) != nil {
			h.bad++
			rw.WriteHeader(401)
			return
		}
		var b struct{ Events []hookEvent }
		if json.Unmarshal(body, &b) != nil {
			h.bad++
			rw.WriteHeader(400)
			return
		}
		h.batches[r.Header.Get("Ordo-Webhook-Id")]++
		for _, e := range b.Events {
			if m, err := time.Parse(time.RFC3339Nano, e.Modified); err == nil {
				e.lag = at.Sub(m)
			}
			h.events = append(h.events, e)
		}
		rw.WriteHeader(204)
	}))
	t.Cleanup(recv.Close)
	h.sub = w.create(t, "WebhookSubscriptions", rlObj{"url": recv.URL, "secret": hookSecret, "entities": []string{"Jobs", "JobPlanning"}})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	for n := 0; n < nodes; n++ {
		wk := &webhook.Worker{DB: w.srv.DB, Service: w.srv.Service, Client: webhook.NewClient(true), Log: testenv.Quiet, Poll: 50 * time.Millisecond}
		h.done.Add(1)
		go func() { defer h.done.Done(); wk.Run(ctx) }()
	}
	t.Cleanup(func() { cancel(); h.done.Wait() })
	return h
}

// check waits for the workers to catch up with the change log, stops them
// and checks that every job of the replica arrived, signed, in position
// order, each batch once (the lease keeps two nodes from sending the same).
func (h *hookReceiver) check(t *testing.T, w *rlWorld, jobs replica) {
	head, _, err := w.srv.DB.ChangeHead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for wait := time.Now().Add(30 * time.Second); time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
		s := w.get(t, "WebhookSubscriptions", h.sub)
		if rlNum(t, s, "position") >= head {
			break
		}
	}
	h.cancel()
	h.done.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	last := map[string]hookEvent{}
	var lags []time.Duration
	for i, e := range h.events {
		if i > 0 && e.Position <= h.events[i-1].Position {
			t.Errorf("webhook events out of order: %d after %d", e.Position, h.events[i-1].Position)
		}
		last[e.ID] = e
		if e.Op != "delete" {
			lags = append(lags, e.lag)
		}
	}
	for id := range jobs {
		if e, ok := last[id]; !ok || e.Op == "delete" {
			t.Errorf("job %s: last webhook event %+v", id, e)
		}
	}
	for id, e := range last {
		if e.Entity == "Jobs" && e.Op != "delete" && jobs[id] == nil {
			t.Errorf("job %s is gone but its last webhook event is %s", id, e.Op)
		}
	}
	var dup int
	for _, n := range h.batches {
		if n > 1 {
			dup++
		}
	}
	if h.bad > 0 || dup > 0 {
		t.Errorf("%d bad signatures, %d batches sent twice", h.bad, dup)
	}
	slices.Sort(lags)
	if len(lags) > 0 {
		t.Logf("webhooks: %d events in %d batches; lag from modified_dateutc to receipt p50 %s, p95 %s",
			len(h.events), len(h.batches), lags[len(lags)/2], lags[len(lags)*95/100])
	}
}
