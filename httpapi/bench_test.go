package httpapi_test

import (
	"os"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// benchDatabases runs a benchmark on SQLite and, when configured, PostgreSQL,
// so their figures come from the same run.
func benchDatabases(b *testing.B, fn func(b *testing.B, dsn string)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, testenv.SQLite(b)) })
	if os.Getenv(testenv.PostgresEnv) != "" {
		b.Run("postgres", func(b *testing.B) { fn(b, testenv.Postgres(b)) })
	}
}

// seedServer prepares a server with the seed sample's job stored once.
func seedServer(b *testing.B, dsn string) (*testenv.Client, string, map[string]any) {
	srv := testenv.NewServer(b, dsn)
	c := srv.Tenant(b, "BENCH")
	body := preparedSeedBody(b)
	seedFixture(b, c, body)
	id := body["id"].(string)
	c.Must(200, "PUT", "/api/Jobs("+id+")", body)
	return c, id, body
}

// parallelRequests sends the same request from parallel clients for b.N
// requests and reports the rate.
func parallelRequests(b *testing.B, c *testenv.Client, method, path string, body any) {
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := c.Do(method, path, body); r.Status != 200 {
				b.Errorf("%s %s: status %d: %s", method, path, r.Status, r.Raw)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkGetJob: GET /api/Jobs(<id>) over real HTTP, clients in parallel.
func BenchmarkGetJob(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		c, id, _ := seedServer(b, dsn)
		parallelRequests(b, c, "GET", "/api/Jobs("+id+")", nil)
	})
}

// BenchmarkSeedPut: the seed-shaped PUT (a job with its project, family,
// model, brand, statuses, sales organisations, user, skill and type embedded).
func BenchmarkSeedPut(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		c, id, body := seedServer(b, dsn)
		parallelRequests(b, c, "PUT", "/api/Jobs("+id+")", body)
	})
}
