package metrics_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/admin"
	"github.com/ordo-fsm/ordo/auth"
	"github.com/ordo-fsm/ordo/httpapi"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/metrics"
	"github.com/ordo-fsm/ordo/service"
)

// syncBuffer is a log sink the server writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns what was written so far and empties the buffer.
func (b *syncBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

// server is the API with metrics and a JSON log captured in logs.
func server(t *testing.T, dsn string) (api, scrape string, logs *syncBuffer) {
	db := testenv.OpenDB(t, dsn)
	svc := service.New(db, db.Registry())
	if _, err := admin.CreateTenant(context.Background(), db, svc, "MetCo", "MetCo", "erp", "p"); err != nil {
		t.Fatal(err)
	}
	m := metrics.New(db.Pools())
	logs = &syncBuffer{}
	h := httpapi.New(httpapi.Config{Service: svc, Auth: auth.New(db), DB: db, Observer: m,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	api1 := httptest.NewServer(testenv.ValidateResponses(t, testenv.DefaultContract(t), h))
	t.Cleanup(api1.Close)
	ms := httptest.NewServer(m.Handler())
	t.Cleanup(ms.Close)
	return api1.URL, ms.URL + "/metrics", logs
}

func do(t *testing.T, method, url, cred string, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if cred != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestMetrics: requests are counted by route pattern (never by raw path),
// method and status, with latency histograms, next to the database pools
// and the Go runtime.
func TestMetrics(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		api, scrape, _ := server(t, dsn)
		do(t, "GET", api+"/api/Jobs", "erp:p@MetCo")
		do(t, "GET", api+"/api/jobs(6f0c10c9-1730-4289-8569-ae7f4b8aa4b5)", "erp:p@MetCo")
		do(t, "GET", api+"/api/Jobs(6f0c10c9-1730-4289-8569-ae7f4b8aa4b6)", "erp:p@MetCo")
		do(t, "GET", api+"/api/Jobs", "erp:wrong@MetCo")
		do(t, "GET", api+"/help", "")
		// A request is counted once its handler returns, which may be just
		// after the client has read the answer: scrape until the last shows.
		var text string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			resp, err := http.Get(scrape)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if text = string(body); strings.Contains(text, `route="/help",status="200"`) {
				break
			}
		}
		pool := `db_name="writer"`
		if strings.HasPrefix(dsn, "postgres") {
			pool = `db_name="pool"`
		}
		for _, want := range []string{
			`ordo_http_requests_total{method="GET",route="/api/Jobs",status="200"} 1`,
			`ordo_http_requests_total{method="GET",route="/api/Jobs",status="401"} 1`,
			`ordo_http_requests_total{method="GET",route="/api/Jobs({id})",status="404"} 2`,
			`ordo_http_requests_total{method="GET",route="/help",status="200"} 1`,
			`ordo_http_request_duration_seconds_bucket{method="GET",route="/api/Jobs",le="+Inf"} 2`,
			`go_sql_wait_duration_seconds_total{` + pool + `}`,
			`go_sql_open_connections{` + pool + `}`,
			`go_goroutines `,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(text, "6f0c10c9") {
			t.Errorf("a raw path reached the labels")
		}
	})
}

// TestRequestLog: one JSON line per request with duration_ms as a number,
// the tenant and user (also the one who failed to log in), the error code
// and message on 4xx, ERROR level on 5xx, and an X-Request-Id accepted or
// generated, echoed on the response.
func TestRequestLog(t *testing.T) {
	api, _, logs := server(t, testenv.SQLite(t))
	// lines waits for the request's log line: it is written once the
	// handler returns, which may be just after the client has the answer.
	var raw string // the lines lines() read last
	lines := func() []map[string]any {
		var out []map[string]any
		raw = ""
		for deadline := time.Now().Add(5 * time.Second); len(out) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			text := logs.take()
			raw += text
			for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
				if l == "" {
					continue
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				if m["msg"] == "request" {
					out = append(out, m)
				}
			}
		}
		if len(out) == 0 {
			t.Fatal("no request log line")
		}
		return out
	}

	resp := do(t, "GET", api+"/api/Jobs", "erp:p@METCO", "X-Request-Id", "trace-42")
	if resp.Header.Get("X-Request-Id") != "trace-42" {
		t.Errorf("X-Request-Id not echoed: %q", resp.Header.Get("X-Request-Id"))
	}
	l := lines()[0]
	if _, isNum := l["duration_ms"].(float64); !isNum {
		t.Errorf("duration_ms is %T", l["duration_ms"])
	}
	if l["tenant"] != "metco" && l["tenant"] != "MetCo" || l["user"] != "erp" || l["request_id"] != "trace-42" || l["level"] != "INFO" {
		t.Errorf("200 line: %v", l)
	}

	resp = do(t, "GET", api+"/api/Jobs", "intruder:guess@MetCo")
	l = lines()[0]
	if id := resp.Header.Get("X-Request-Id"); len(id) < 16 || l["request_id"] != id {
		t.Errorf("generated request id %q, logged %v", id, l["request_id"])
	}
	if l["status"] != 401.0 || l["user"] != "intruder" || l["tenant"] != "MetCo" || l["error_code"] != "Unauthorized" {
		t.Errorf("401 line: %v", l)
	}
	if strings.Contains(raw, "guess") {
		t.Errorf("a password reached the log")
	}

	do(t, "GET", api+"/api/Nothing", "erp:p@MetCo")
	l = lines()[0]
	if l["error_code"] != "NotFound" || !strings.Contains(l["error_message"].(string), "Nothing") {
		t.Errorf("404 line: %v", l)
	}

	do(t, "GET", api+"/api/Jobs", "erp:p@MetCo", "X-Request-Id", "bad id with spaces")
	if l = lines()[0]; l["request_id"] == "bad id with spaces" {
		t.Errorf("an unprintable request id was accepted")
	}
}
