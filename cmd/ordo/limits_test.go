package main

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestServeLimits: the limit flags of ordo serve reach the server: a low
// failed-login limit answers 429 and logs the counter; a tenant rate puts
// RateLimit-* headers on answers.
func TestServeLimits(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		db := "--db=" + dsn
		runCmd(t, "tenant", "add", db, "--domain", "ACME", "--user", "erp", "--password", "p1")
		url, stop := startServe(t, db, "--addr=127.0.0.1:0", "--login-max-failures-user=2", "--login-window=1m",
			"--tenant-rate=100", "--tenant-burst=50", "--tenant-max-inflight=1", "--tenant-max-inflight-alone=2",
			"--tenant-queue=4", "--tenant-queue-wait=1s", "--max-http-conns=8", "--write-timeout=5s", "--login-max-verifications=1")
		do := func(cred string) *http.Response {
			req, _ := http.NewRequest("GET", url+"/api/JobStatus", nil)
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		if r := do("erp:p1@ACME"); r.StatusCode != 200 || r.Header.Get("RateLimit-Limit") != "50" {
			t.Errorf("good request: %d RateLimit-Limit %q", r.StatusCode, r.Header.Get("RateLimit-Limit"))
		}
		var statuses []int
		for i := 0; i < 3; i++ {
			statuses = append(statuses, do("erp:wrong@ACME").StatusCode)
		}
		if statuses[0] != 401 || statuses[1] != 401 || statuses[2] != 429 {
			t.Errorf("wrong passwords with --login-max-failures-user=2: %v", statuses)
		}
		if logs := stop(); !strings.Contains(logs, "login_throttled_total") {
			t.Errorf("no throttling counter in the log:\n%s", logs)
		}
	})
}
