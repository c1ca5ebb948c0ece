package httpapi_test

import (
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// BenchmarkChangeLogSeedPut: the seed-shaped PUT without and with the
// change log, in the same run (docs/performance.md).
func BenchmarkChangeLogSeedPut(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		for _, c := range []struct {
			name string
			off  bool
		}{{"without change log", true}, {"with change log", false}} {
			b.Run(c.name, func(b *testing.B) {
				d := dsn
				if !sqlstore.IsPostgres(dsn) {
					d = testenv.SQLite(b) // a fresh file per variant
				} else {
					d = testenv.Postgres(b)
				}
				srv := testenv.NewServerWith(b, d, sqlstore.Options{NoChangeLog: c.off})
				cl := srv.Tenant(b, "BENCH")
				body := preparedSeedBody(b)
				seedFixture(b, cl, body)
				id := body["id"].(string)
				cl.Must(200, "PUT", "/api/Jobs("+id+")", body)
				before := srv.DB.Statements()
				parallelRequests(b, cl, "PUT", "/api/Jobs("+id+")", body)
				b.ReportMetric(float64(srv.DB.Statements()-before)/float64(b.N), "stmts/op")
			})
		}
	})
}

// BenchmarkDeltaPage: a delta page of 100 changed jobs against the list
// page of the same 100 rows.
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
		page := func(path string, headers ...string) func(b *testing.B) {
			return func(b *testing.B) {
				for b.Loop() {
					r := c.Do("GET", path, nil, headers...)
					if r.Status != 200 || len(r.Body["value"].([]any)) != 100 {
						b.Fatalf("GET %s: %d, %d rows", path, r.Status, len(r.Body["value"].([]any)))
					}
				}
			}
		}
		b.Run("list page", page("/api/Jobs"))
		b.Run("delta page", page(link))
	})
}
