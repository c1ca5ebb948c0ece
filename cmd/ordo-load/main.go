// Command ordo-load drives a running Ordo server with concurrent clients for
// a bounded time and reports throughput and latency percentiles.
//
//	ordo-load --url http://127.0.0.1:8080 --auth api:demo@DEMO --scenario get --concurrency 8 --duration 10s
//
// Scenarios: get (GET /api/Jobs(<id>) of jobs read from the server), put
// (PUT each job back as read, as an ERP re-sending its data does), list (a
// delta-sync page, $filter on modified_dateutc ordered by it).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ordo-load:", err)
		os.Exit(1)
	}
}

type config struct {
	base, auth, scenario string
	concurrency          int
	duration             time.Duration
	maxRequests          int
}

func run(args []string, out io.Writer) error {
	var c config
	fs := flag.NewFlagSet("ordo-load", flag.ContinueOnError)
	fs.StringVar(&c.base, "url", "http://127.0.0.1:8080", "server base URL")
	fs.StringVar(&c.auth, "auth", "api:demo@DEMO", "credentials user:password@domain")
	fs.StringVar(&c.scenario, "scenario", "get", "get, put or list")
	fs.IntVar(&c.concurrency, "concurrency", 8, "concurrent clients")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long to run (at most 10m)")
	fs.IntVar(&c.maxRequests, "max-requests", 1_000_000, "stop after this many requests")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.duration <= 0 || c.duration > 10*time.Minute || c.concurrency <= 0 || c.concurrency > 256 {
		return errors.New("--duration must be in (0, 10m] and --concurrency in [1, 256]")
	}
	// Load only this machine's own servers.
	if u, err := url.Parse(c.base); err != nil || !isLoopback(u.Hostname()) {
		return fmt.Errorf("--url %q is not a loopback address", c.base)
	}
	cl := &client{base: strings.TrimSuffix(c.base, "/"), auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(c.auth)),
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency}}}
	jobs, err := cl.jobs(100)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		return errors.New("the server has no jobs to load (try ordo serve --demo)")
	}
	var op func(i int) error
	switch c.scenario {
	case "get":
		op = func(i int) error {
			_, err := cl.do("GET", "/api/Jobs("+jobs[i%len(jobs)]["id"].(string)+")", nil)
			return err
		}
	case "put":
		op = func(i int) error {
			body, _ := json.Marshal(jobs[i%len(jobs)])
			_, err := cl.do("PUT", "/api/Jobs("+jobs[i%len(jobs)]["id"].(string)+")", body)
			return err
		}
	case "list":
		since := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
		op = func(int) error {
			_, err := cl.do("GET", "/api/Jobs?$filter="+url.QueryEscape("modified_dateutc gt "+since)+"&$orderby=modified_dateutc", nil)
			return err
		}
	default:
		return fmt.Errorf("unknown scenario %q", c.scenario)
	}
	res := drive(c, op)
	res.print(out, c)
	if res.errors > 0 {
		return fmt.Errorf("%d requests failed, e.g. %v", res.errors, res.firstErr)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

type client struct {
	base, auth string
	http       *http.Client
}

func (c *client) do(method, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", c.auth)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %d %.200s", method, path, resp.StatusCode, raw)
	}
	return raw, nil
}

// jobs reads up to n whole jobs, without the annotations a PUT would refuse.
func (c *client) jobs(n int) ([]map[string]any, error) {
	raw, err := c.do("GET", fmt.Sprintf("/api/Jobs?$top=%d", n), nil)
	if err != nil {
		return nil, err
	}
	var page struct{ Value []map[string]any }
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, err
	}
	for _, j := range page.Value {
		delete(j, "@odata.etag")
	}
	return page.Value, nil
}

type result struct {
	latencies []time.Duration
	errors    int
	firstErr  error
	elapsed   time.Duration
}

// drive runs op from c.concurrency goroutines until the duration or the
// request bound is reached.
func drive(c config, op func(i int) error) result {
	var mu sync.Mutex
	var res result
	var wg sync.WaitGroup
	deadline := time.Now().Add(c.duration)
	start := time.Now()
	next := 0
	for w := 0; w < c.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			for time.Now().Before(deadline) {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= c.maxRequests {
					break
				}
				t := time.Now()
				err := op(i)
				local = append(local, time.Since(t))
				if err != nil {
					mu.Lock()
					res.errors++
					if res.firstErr == nil {
						res.firstErr = err
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func (r result) print(out io.Writer, c config) {
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[int(float64(len(r.latencies)-1)*p)]
	}
	fmt.Fprintf(out, "scenario %s, %d clients, %v: %d requests, %d errors, %.0f req/s, latency p50 %v p90 %v p99 %v\n",
		c.scenario, c.concurrency, r.elapsed.Round(time.Millisecond), len(r.latencies), r.errors,
		float64(len(r.latencies))/r.elapsed.Seconds(), pct(0.5).Round(10*time.Microsecond),
		pct(0.9).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
}
