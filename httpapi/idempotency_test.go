package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

func countRows(t *testing.T, c *testenv.Client, path string) int {
	t.Helper()
	return len(listAll(t, c, path))
}

// TestIdempotencyKeyReplay: a repeated key answers the stored response
// byte for byte with Idempotent-Replayed and writes nothing; another body
// with the key is 422; keys are per tenant; failures (4xx) are stored too.
func TestIdempotencyKeyReplay(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		other := srv.Tenant(t, "OTHER")
		f := newFixture(t, c)
		job := map[string]any{"name": "No ERP key", "project_id": f.project, "job_type_id": f.jobType, "job_status_code": "Open"}

		first := c.Do("POST", "/api/Jobs", job, "Idempotency-Key", "k-1")
		if first.Status != 201 || first.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("first: %d %v %s", first.Status, first.Header, first.Raw)
		}
		before := testenv.Dump(t, dsn)
		for i := 0; i < 2; i++ {
			again := c.Do("POST", "/api/Jobs", job, "Idempotency-Key", "k-1")
			if again.Status != 201 || string(again.Raw) != string(first.Raw) || again.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("replay %d: %d %v %s", i, again.Status, again.Header, again.Raw)
			}
			for _, h := range []string{"Location", "ETag", "Content-Type"} {
				if again.Header.Get(h) != first.Header.Get(h) {
					t.Errorf("replay %s = %q, first %q", h, again.Header.Get(h), first.Header.Get(h))
				}
			}
		}
		if after := testenv.Dump(t, dsn); after != before {
			t.Errorf("a replay changed the database")
		}
		// A quoted key (the draft's structured-field form) is the same key.
		if r := c.Do("POST", "/api/Jobs", job, "Idempotency-Key", `"k-1"`); r.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("quoted key: %d %s", r.Status, r.Raw)
		}

		changed := map[string]any{"name": "Another job", "project_id": f.project, "job_type_id": f.jobType, "job_status_code": "Open"}
		if r := c.Do("POST", "/api/Jobs", changed, "Idempotency-Key", "k-1"); r.Status != 422 || r.ErrorCode() != "IdempotencyKeyReused" {
			t.Errorf("other body, same key: %d %s", r.Status, r.Raw)
		}
		if r := c.Do("PATCH", "/api/Jobs("+first.Body["id"].(string)+")", changed, "Idempotency-Key", "k-1"); r.Status != 422 {
			t.Errorf("other method, same key: %d %s", r.Status, r.Raw)
		}
		if n := countRows(t, c, "/api/Jobs"); n != 2 {
			t.Errorf("%d jobs, want 2 (fixture + one)", n)
		}

		// Another tenant's key space is its own.
		of := newFixture(t, other)
		if r := other.Do("POST", "/api/Jobs", map[string]any{"name": "x", "project_id": of.project, "job_type_id": of.jobType, "job_status_code": "Open"}, "Idempotency-Key", "k-1"); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("other tenant: %d %s", r.Status, r.Raw)
		}

		// A 4xx is stored: the same request is answered the same, even once
		// the cause is gone.
		bad := map[string]any{"name": "x", "project_id": f.project, "job_type_code": "LATER", "job_status_code": "Open"}
		r1 := c.Do("POST", "/api/Jobs", bad, "Idempotency-Key", "k-bad")
		if r1.Status != 422 {
			t.Fatalf("bad: %d %s", r1.Status, r1.Raw)
		}
		c.Must(201, "POST", "/api/JobType", map[string]any{"code": "LATER", "name": "Later"})
		r2 := c.Do("POST", "/api/Jobs", bad, "Idempotency-Key", "k-bad")
		if r2.Status != 422 || string(r2.Raw) != string(r1.Raw) || r2.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("stored 4xx: %d %s", r2.Status, r2.Raw)
		}

		// PUT and DELETE take keys too.
		id := first.Body["id"].(string)
		put := c.Do("PUT", "/api/Jobs("+id+")", map[string]any{"name": "Renamed"}, "Idempotency-Key", "k-put")
		put2 := c.Do("PUT", "/api/Jobs("+id+")", map[string]any{"name": "Renamed"}, "Idempotency-Key", "k-put")
		if put.Status != 200 || put2.Header.Get("Idempotent-Replayed") != "true" || string(put.Raw) != string(put2.Raw) {
			t.Errorf("PUT: %d / %d %s", put.Status, put2.Status, put2.Raw)
		}
		skill := c.Must(201, "POST", "/api/Skill", map[string]any{"code": "WELD", "name": "Welding"})["id"].(string)
		del := c.Do("DELETE", "/api/Skill("+skill+")", nil, "Idempotency-Key", "k-del")
		del2 := c.Do("DELETE", "/api/Skill("+skill+")", nil, "Idempotency-Key", "k-del")
		if del.Status != 204 || del2.Status != 204 || del2.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("DELETE: %d then %d %s", del.Status, del2.Status, del2.Raw)
		}

		for _, k := range []string{strings.Repeat("k", 300), "bad\u00e9key", `""`} {
			if r := c.Do("POST", "/api/Jobs", job, "Idempotency-Key", k); r.Status != 400 {
				t.Errorf("key %q: %d", k, r.Status)
			}
		}
	})
}

// TestIdempotencyKeyConcurrent: requests racing with one key write once;
// the others are answered 409 (in flight) or with the replay.
func TestIdempotencyKeyConcurrent(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		for round := 0; round < 3; round++ {
			key := fmt.Sprintf("race-%d", round)
			body := map[string]any{"name": key, "project_id": f.project, "job_type_id": f.jobType, "job_status_code": "Open"}
			var wg sync.WaitGroup
			statuses := make([]int, 8)
			for i := range statuses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = c.Do("POST", "/api/Jobs", body, "Idempotency-Key", key).Status
				}()
			}
			wg.Wait()
			created := 0
			for _, s := range statuses {
				if s != 201 && s != 409 {
					t.Errorf("status %d", s)
				}
			}
			for _, j := range listAll(t, c, "/api/Jobs") {
				if j["name"] == key {
					created++
				}
			}
			if created != 1 {
				t.Errorf("round %d: %d jobs written, want 1 (statuses %v)", round, created, statuses)
			}
		}
	})
}

// TestIdempotencyKeyExpiry: past the TTL a key is free again, and the
// background pruning deletes it.
func TestIdempotencyKeyExpiry(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		body := map[string]any{"name": "A", "project_id": f.project, "job_type_id": f.jobType, "job_status_code": "Open"}
		c.Must(201, "POST", "/api/Jobs", body, "Idempotency-Key", "old")
		later := time.Now().Add(25 * time.Hour)
		srv.Service.Now = func() time.Time { return later.UTC() }
		body["name"] = "B"
		r := c.Do("POST", "/api/Jobs", body, "Idempotency-Key", "old")
		if r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" || r.Body["name"] != "B" {
			t.Fatalf("expired key: %d %s", r.Status, r.Raw)
		}
		if again := c.Do("POST", "/api/Jobs", body, "Idempotency-Key", "old"); again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("reused key not stored again: %d", again.Status)
		}
		n, err := srv.DB.PruneIdempotencyKeys(context.Background(), later.Add(time.Hour))
		if err != nil || n != 1 {
			t.Errorf("prune: %d, %v", n, err)
		}
		if n, _ := srv.DB.PruneIdempotencyKeys(context.Background(), later.Add(time.Hour)); n != 0 {
			t.Errorf("second prune: %d", n)
		}
	})
}
