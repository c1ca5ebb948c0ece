package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

func runCmd(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("ordo %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

func get(t *testing.T, url, cred string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// TestAdminCommands: tenant add, user add, tenant list and migrate on a real
// database, then the credentials work against a served API.
func TestAdminCommands(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		db := "--db=" + dsn
		runCmd(t, "tenant", "add", db, "--domain", "ACME", "--user", "erp", "--password", "p1", "--name", "Acme Lifts")
		runCmd(t, "user", "add", db, "--domain", "acme", "--user", "planner@acme.example", "--password", "p2")
		if out := runCmd(t, "tenant", "list", db); !strings.Contains(out, "ACME\tAcme Lifts") {
			t.Errorf("tenant list: %q", out)
		}
		if out := runCmd(t, "migrate", db); !strings.Contains(out, "schema is at version ") {
			t.Errorf("migrate: %q", out)
		}
		var errOut bytes.Buffer
		if err := run(context.Background(), []string{"tenant", "add", db, "--domain", "acme", "--user", "x", "--password", "y"}, io.Discard, &errOut); err == nil {
			t.Error("a second tenant with the same domain was accepted")
		}

		url, stop := startServe(t, db, "--addr=127.0.0.1:0")
		defer stop()
		for _, cred := range []string{"erp:p1@ACME", "planner@acme.example:p2@acme"} {
			if status, body := get(t, url+"/api/JobStatus", cred); status != 200 || len(body["value"].([]any)) != 15 {
				t.Errorf("%s: status %d, %v", cred, status, body)
			}
		}
	})
}

// startServe runs `ordo serve` in-process and returns its URL and a stop
// function that cancels it like SIGTERM and waits for a clean exit.
func startServe(t *testing.T, args ...string) (string, func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), pw, &logs)
		pw.Close()
	}()
	var out strings.Builder
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if m := regexp.MustCompile(`on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case url := <-urlc:
		return url, func() string {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve exited with %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop")
			}
			return out.String() + logs.String()
		}
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	return "", nil
}

// TestServeDemo: `ordo serve --demo` on an empty database creates the demo
// tenant, prints how to use it, serves its data, and shuts down gracefully:
// a request in flight when the signal comes still gets its answer.
func TestServeDemo(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		url, stop := startServe(t, "--db="+dsn, "--addr=127.0.0.1:0", "--demo")
		status, body := get(t, url+"/api/Jobs?$top=5", "api:demo@DEMO")
		if status != 200 || len(body["value"].([]any)) != 5 {
			t.Fatalf("demo jobs: %d %v", status, body)
		}
		status, body = get(t, url+"/api/Jobs?$skip=295", "api:demo@DEMO")
		if status != 200 || len(body["value"].([]any)) != 5 {
			t.Errorf("demo has not 300 jobs: %d, %d on the last page", status, len(body["value"].([]any)))
		}

		// A request whose body is still arriving when shutdown starts.
		pr, pw := io.Pipe()
		req, _ := http.NewRequest("POST", url+"/api/Skill", pr)
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("api:demo@DEMO")))
		req.Header.Set("Content-Type", "application/json")
		respc := make(chan *http.Response, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("in-flight request failed: %v", err)
				respc <- nil
				return
			}
			respc <- resp
		}()
		fmt.Fprint(pw, `{"code": "LATE", `)
		time.Sleep(200 * time.Millisecond)
		stopped := make(chan string, 1)
		go func() { stopped <- stop() }()
		time.Sleep(200 * time.Millisecond)
		fmt.Fprint(pw, `"name": "Arrived during shutdown"}`)
		pw.Close()
		if resp := <-respc; resp == nil || resp.StatusCode != 201 {
			t.Errorf("in-flight request: %v", resp)
		}
		out := <-stopped
		for _, want := range []string{"api", "demo", "DEMO", "curl -u", `"msg":"request"`, `"msg":"stopped"`} {
			if !strings.Contains(out, want) {
				t.Errorf("serve output lacks %q:\n%s", want, out)
			}
		}

		// A second start on the same database keeps the data and does not duplicate it.
		url, stop = startServe(t, "--db="+dsn, "--addr=127.0.0.1:0", "--demo")
		defer stop()
		if status, body := get(t, url+"/api/Skill?$top=100", "api:demo@DEMO"); status != 200 || len(body["value"].([]any)) != 6 {
			t.Errorf("skills after restart: %d, %d rows, want 6", status, len(body["value"].([]any)))
		}
	})
}

// TestDatabaseFromEnvironment: without --db, every command uses ORDO_DB.
func TestDatabaseFromEnvironment(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		t.Setenv("ORDO_DB", dsn)
		runCmd(t, "tenant", "add", "--domain", "ENVCO", "--user", "u", "--password", "p")
		if out := runCmd(t, "tenant", "list", "--db", dsn); !strings.Contains(out, "ENVCO") {
			t.Errorf("the tenant created through ORDO_DB is not in %s: %q", dsn, out)
		}
		t.Setenv("ORDO_ADDR", "127.0.0.1:0")
		url, stop := startServe(t)
		defer stop()
		if status, _ := get(t, url+"/api/Jobs", "u:p@ENVCO"); status != 200 {
			t.Errorf("serve on ORDO_DB/ORDO_ADDR: %d", status)
		}
	})
}
