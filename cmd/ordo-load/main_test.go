package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/ordo-fsm/ordo/demo"
	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestScenarios runs each scenario briefly against a real server with demo
// data and checks that requests were made and none failed.
func TestScenarios(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "LOAD")
		if err := demo.Generate(context.Background(), srv.Service, c.Tenant.ID, demo.Options{Jobs: 20}); err != nil {
			t.Fatal(err)
		}
		line := regexp.MustCompile(`^scenario \w+, 4 clients, .*: (\d+) requests, 0 errors, \d+ req/s, latency p50 \S+ p90 \S+ p99 \S+\n$`)
		for _, scenario := range []string{"get", "put", "list"} {
			var out bytes.Buffer
			err := run([]string{"--url", srv.URL, "--auth", "api:secret@LOAD", "--scenario", scenario,
				"--concurrency", "4", "--duration", "300ms"}, &out)
			if err != nil {
				t.Fatalf("%s: %v", scenario, err)
			}
			if m := line.FindStringSubmatch(out.String()); m == nil || m[1] == "0" {
				t.Errorf("%s: %q", scenario, out.String())
			}
		}
		if err := run([]string{"--url", "http://10.0.0.1:8080"}, &bytes.Buffer{}); err == nil {
			t.Error("a non-loopback target was accepted")
		}
	})
}
