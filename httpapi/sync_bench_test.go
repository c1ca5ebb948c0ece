package httpapi_test

import (
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// BenchmarkChangeLogSeedPut: the seed-shaped PUT on two servers of the same
// run, one without the change log and one with it, their requests
// alternated so that both see the same machine load; reports both times,
// the overhead and the statements per PUT (docs/performance.md).
func BenchmarkChangeLogSeedPut(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		type side struct {
			srv  *testenv.Server
			c    *testenv.Client
			path string
			body map[string]any
			took time.Duration
			stmt int64
		}
		var sides [2]*side
		for i, off := range []bool{true, false} {
			d := testenv.SQLite(b)
			if sqlstore.IsPostgres(dsn) {
				d = testenv.Postgres(b)
			}
			srv := testenv.NewServerWith(b, d, sqlstore.Options{NoChangeLog: off})
			c := srv.Tenant(b, "BENCH")
			body := preparedSeedBody(b)
			seedFixture(b, c, body)
			path := "/api/Jobs(" + body["id"].(string) + ")"
			c.Must(200, "PUT", path, body)
			sides[i] = &side{srv: srv, c: c, path: path, body: body}
		}
		put := func(s *side) {
			before, start := s.srv.DB.Statements(), time.Now()
			if r := s.c.Do("PUT", s.path, s.body); r.Status != 200 {
				b.Fatalf("PUT: %d %s", r.Status, r.Raw)
			}
			s.took += time.Since(start)
			s.stmt += s.srv.DB.Statements() - before
		}
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			put(sides[i%2])
			put(sides[1-i%2])
		}
		n := float64(b.N)
		without, with := float64(sides[0].took)/n, float64(sides[1].took)/n
		b.ReportMetric(without/1e6, "ms/put-without-log")
		b.ReportMetric(with/1e6, "ms/put-with-log")
		b.ReportMetric((with/without-1)*100, "%overhead")
		b.ReportMetric(float64(sides[0].stmt)/n, "stmts/put-without-log")
		b.ReportMetric(float64(sides[1].stmt)/n, "stmts/put-with-log")
	})
}

// BenchmarkDeltaPage: a delta page of 100 changed jobs against the list
// page of the same 100 rows, requests alternated.
func BenchmarkDeltaPage(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		srv := testenv.NewServer(b, dsn)
		c := srv.Tenant(b, "BENCH")
		c.Must(201, "POST", "/api/ProjectStatus", rlObj{"code": "ACTIVE", "name": "Active", "is_default": true})
		company := c.Must(201, "POST", "/api/Company", rlObj{"code": "C1", "name": "One"})["id"].(string)
		project := c.Must(201, "POST", "/api/Project", rlObj{"reference_back_office": "P1", "name": "P", "company_id": company})["id"].(string)
		jt := c.Must(201, "POST", "/api/JobType", rlObj{"code": "JT", "name": "Repair"})["id"].(string)
		load := c.Must(200, "GET", "/api/Jobs", nil, "Prefer", "odata.track-changes")
		link := load["@odata.deltaLink"].(string)
		link = link[len(srv.URL):]
		for i := 0; i < 100; i++ {
			c.Must(201, "POST", "/api/Jobs", rlObj{"name": "job", "project_id": project, "job_type_id": jt, "job_status_code": "Open"})
		}
		get := func(path string) time.Duration {
			start := time.Now()
			r := c.Do("GET", path, nil)
			if r.Status != 200 || len(r.Body["value"].([]any)) != 100 {
				b.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
			}
			return time.Since(start)
		}
		// Requests alternate so that both see the same machine load.
		var list, delta time.Duration
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				list += get("/api/Jobs")
				delta += get(link)
			} else {
				delta += get(link)
				list += get("/api/Jobs")
			}
		}
		n := float64(b.N)
		b.ReportMetric(float64(list)/n/1e6, "ms/list-page")
		b.ReportMetric(float64(delta)/n/1e6, "ms/delta-page")
		b.ReportMetric(float64(delta)/float64(list), "delta/list")
	})
}
