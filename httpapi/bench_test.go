package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

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

// BenchmarkSeedPutCPU: the CPU time of one seed-shaped PUT, re-sent
// unchanged, one request at a time: the process's user+system time over the
// run divided by the requests. The figure includes the client's side of the
// loopback HTTP (the body is encoded once), so the server's share is lower.
func BenchmarkSeedPutCPU(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		c, id, body := seedServer(b, dsn)
		raw, _ := json.Marshal(body)
		client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		send := func() {
			req, _ := http.NewRequest("PUT", c.URL+"/api/Jobs("+id+")", bytes.NewReader(raw))
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.Auth)))
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("PUT: %d", resp.StatusCode)
			}
		}
		send()
		cpu0 := processCPU()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			send()
		}
		b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/req")
	})
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
