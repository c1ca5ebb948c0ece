package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/service"
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
	_, c, body, _ := storedSeedJob(b, dsn)
	return c, body["id"].(string), body
}

// storedSeedJob is seedServer that also returns the server and the path.
func storedSeedJob(b *testing.B, dsn string) (*testenv.Server, *testenv.Client, map[string]any, string) {
	srv := testenv.NewServer(b, dsn)
	c, body, path := seededJob(b, srv, "BENCH")
	c.Must(200, "PUT", path, body)
	return srv, c, body, path
}

// parallelRequests sends the same request from parallel clients for b.N
// requests and reports the rate. The body is encoded once and responses are
// read but not decoded, so the clients' own work stays small next to the
// server's.
func parallelRequests(b *testing.B, c *testenv.Client, method, path string, body any) {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	parallelTargets(b, c, method, []benchTarget{{path, raw}})
}

// benchTarget is a request a benchmark's client sends again and again.
type benchTarget struct {
	path string
	body []byte // encoded; nil for none
}

// parallelTargets is parallelRequests where each client has a target of
// its own (clients take targets in turn).
func parallelTargets(b *testing.B, c *testenv.Client, method string, targets []benchTarget) {
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.Auth))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	var clients atomic.Int32
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		t := targets[int(clients.Add(1)-1)%len(targets)]
		for pb.Next() {
			req, _ := http.NewRequest(method, c.URL+t.path, bytes.NewReader(t.body))
			req.Header.Set("Authorization", auth)
			if t.body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("%s %s: status %d", method, t.path, resp.StatusCode)
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

// BenchmarkSeedPutFull: BenchmarkSeedPut with the resend memory off, so
// every request takes the full path (decode, prefetch, resolution).
func BenchmarkSeedPutFull(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		srv, c, body, path := storedSeedJob(b, dsn)
		srv.Service.SetResendMemory(0)
		parallelRequests(b, c, "PUT", path, body)
	})
}

// BenchmarkSeedPut8: the seed-shaped PUT re-sent by 8 concurrent clients
// (the load: 4 goroutines per core on this 2-core machine).
func BenchmarkSeedPut8(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		c, id, body := seedServer(b, dsn)
		b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
		parallelRequests(b, c, "PUT", "/api/Jobs("+id+")", body)
	})
}

// BenchmarkSeedPutMany: 8 clients each re-sending its own seed-shaped job
// (one job apiece, the embedded objects shared): an ERP's full re-sync,
// where BenchmarkSeedPut8 has every client on one row.
func BenchmarkSeedPutMany(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		_, c, body, _ := storedSeedJob(b, dsn)
		const clients = 8
		targets := make([]benchTarget, clients)
		for i := range targets {
			job := maps.Clone(body)
			job["id"] = uuid.NewString()
			job["reference_back_office"] = fmt.Sprintf("re-sync %d", i)
			delete(job, "id2") // numbered by the server
			c.Must(201, "POST", "/api/Jobs", job)
			targets[i].path = "/api/Jobs(" + job["id"].(string) + ")"
			c.Must(200, "PUT", targets[i].path, job) // the re-send remembered from now on
			targets[i].body, _ = json.Marshal(job)
		}
		b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
		parallelTargets(b, c, "PUT", targets)
	})
}

// BenchmarkSeedPutCPU: the CPU time of one seed-shaped PUT, one request at a
// time: the process's user+system time over the run divided by the requests.
//   - resent: the same body again, answered as a remembered touch
//     (service/resend.go);
//   - resent-full: the same body with that memory off, so the full path runs
//     (decode, prefetch, resolution, comparison);
//   - changed: one field alternates, so every request changes the job.
//
// These call the server's handler in-process: the figure is the server's own
// work (routing, middleware, service, storage), without a client or sockets.
// resent-loopback sends the resent case over loopback HTTP with a client in
// the same process, so it includes both sides of the connection.
func BenchmarkSeedPutCPU(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		srv, c, body, path := storedSeedJob(b, dsn)
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.Auth))
		raw, _ := json.Marshal(body)
		changed := map[string]any{}
		for k, v := range body {
			changed[k] = v
		}
		changed["description"] = "changed by the benchmark"
		rawChanged, _ := json.Marshal(changed)
		handler := srv.HTTP.Config.Handler
		inProcess := func(bodies ...[]byte) func(b *testing.B, n int) {
			return func(b *testing.B, n int) {
				for i := 0; i < n; i++ {
					req := httptest.NewRequest("PUT", path, bytes.NewReader(bodies[i%len(bodies)]))
					req.Header.Set("Authorization", auth)
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					handler.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Fatalf("PUT: %d %s", rec.Code, rec.Body)
					}
				}
			}
		}
		client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		loopback := func(b *testing.B, n int) {
			for i := 0; i < n; i++ {
				req, _ := http.NewRequest("PUT", c.URL+path, bytes.NewReader(raw))
				req.Header.Set("Authorization", auth)
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
		}
		measure := func(name string, memory int, run func(b *testing.B, n int)) {
			b.Run(name, func(b *testing.B) {
				srv.Service.SetResendMemory(memory)
				run(b, 3) // warm: the first re-send is remembered
				cpu0 := processCPU()
				b.ResetTimer()
				run(b, b.N)
				b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/req")
			})
		}
		measure("resent", service.DefaultResendMemory, inProcess(raw))
		measure("resent-full", 0, inProcess(raw))
		measure("changed", service.DefaultResendMemory, inProcess(rawChanged, raw))
		measure("resent-loopback", service.DefaultResendMemory, loopback)
	})
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
