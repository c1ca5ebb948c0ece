package main

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/demo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/service"
)

// fetch answers a GET as raw bytes, with the server's own address replaced
// so that two servers' answers compare.
func fetch(t *testing.T, base, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("api:demo@DEMO")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.ReplaceAll(string(raw), base, "BASE")
}

// TestCopySQLiteToPostgres: the demo data set copied from SQLite to
// PostgreSQL verifies, and the API then answers a sample of reads byte for
// byte as on SQLite. A second copy into the non-empty target is refused
// unless --force.
func TestCopySQLiteToPostgres(t *testing.T) {
	if os.Getenv(testenv.PostgresEnv) == "" {
		t.Skip(testenv.PostgresEnv + " not set")
	}
	ctx := context.Background()
	from, to := testenv.SQLite(t), testenv.Postgres(t)
	db := testenv.OpenDB(t, from)
	if _, err := demo.Ensure(ctx, db, service.New(db, db.Registry())); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out := runCmd(t, "copy", "--from", from, "--to", to)
	if !strings.Contains(out, "counts and checksums match") || !strings.Contains(out, "jobs") {
		t.Errorf("copy output: %s", out)
	}

	a, b := testenv.NewServer(t, from), testenv.NewServer(t, to)
	paths := []string{
		"/api/Jobs?$top=100", "/api/Jobs?$skip=250", "/api/Jobs?$count=true&$top=3",
		"/api/Project?$top=100&$orderby=reference_back_office%20desc", "/api/Company", "/api/User?$expand=user_skill",
		"/api/Jobs?$filter=" + url.QueryEscape("job_status_code eq 'Planned' and estimated_time gt 60") + "&$select=id,name,date_create",
		"/api/Jobs?$expand=project($select=name),job_planning&$top=20", "/api/JobPlanning?$orderby=date_from&$top=50",
		"/api/JobStatus", "/api/EquipmentModel", "/api/Jobs/$count",
	}
	_, first := fetch(t, a.URL, "/api/Jobs?$top=5&$select=id")
	for _, id := range strings.Split(first, `"id":"`)[1:] {
		paths = append(paths, "/api/Jobs("+id[:36]+")")
	}
	for _, p := range paths {
		sa, ba := fetch(t, a.URL, p)
		sb, bb := fetch(t, b.URL, p)
		if sa != 200 || sa != sb || ba != bb {
			t.Errorf("GET %s: SQLite %d, PostgreSQL %d\n%.300s\n%.300s", p, sa, sb, ba, bb)
		}
	}

	var errOut strings.Builder
	if err := run(ctx, []string{"copy", "--from", from, "--to", to}, io.Discard, &errOut); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("copy into a non-empty target: %v", err)
	}
	if out := runCmd(t, "copy", "--from", from, "--to", to, "--force"); !strings.Contains(out, "match") {
		t.Errorf("copy --force: %s", out)
	}
}
