package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ordo-fsm/ordo/auth"
	"github.com/ordo-fsm/ordo/httpapi"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// TestFullDiskSQLite fills a small tmpfs under a real SQLite database: writes
// answer 503 StorageFull with Retry-After, reads keep working, /readyz says
// writes are not ready, and freeing space brings everything back without a
// restart.
func TestFullDiskSQLite(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a small tmpfs to fill needs root (run the tests as root to cover the full disk on SQLite)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot mount a tmpfs (%v: %s)", err, out)
	}
	// Registered first, so it runs after the server and the database closed.
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })

	var logs syncBuffer
	c := loggedServer(t, filepath.Join(dir, "ordo.db"), &logs).Tenant(t, "ACME")
	company := c.Must(201, "POST", "/api/Company", map[string]any{"code": "C0", "name": "Before"})["id"].(string)
	c.Must(200, "GET", "/readyz", nil)

	filler := filepath.Join(dir, "filler")
	fillDisk(t, filler)
	notes := strings.Repeat("n", 4000)
	var full *testenv.Response
	for i := 0; i < 500; i++ {
		r := c.Do("POST", "/api/Company", map[string]any{"code": fmt.Sprintf("F%d", i), "name": "Fill", "notes": notes})
		if r.Status == 201 {
			continue
		}
		full = r
		break
	}
	if full == nil {
		t.Fatal("500 writes succeeded on a full disk")
	}
	if full.Status != 503 || full.ErrorCode() != "StorageFull" || full.Header.Get("Retry-After") == "" {
		t.Fatalf("write on a full disk: %d %s Retry-After %q, want 503 StorageFull with Retry-After", full.Status, full.Raw, full.Header.Get("Retry-After"))
	}
	t.Logf("full disk: %d %s (Retry-After %s)", full.Status, full.Raw, full.Header.Get("Retry-After"))
	c.Must(200, "GET", "/api/Company("+company+")", nil) // reads work
	if r := c.Do("GET", "/readyz", nil); r.Status != 503 || r.Body["writes"] != "StorageFull" || r.Body["reads"] != "ok" {
		t.Fatalf("/readyz on a full disk: %d %s", r.Status, r.Raw)
	}
	// A failed write left nothing behind.
	if r := c.Do("PUT", "/api/Company("+company+")", map[string]any{"name": "During", "notes": notes}); r.Status != 503 {
		t.Fatalf("update on a full disk: %d %s", r.Status, r.Raw)
	}
	if got := c.Must(200, "GET", "/api/Company("+company+")", nil)["name"]; got != "Before" {
		t.Fatalf("name after a refused update: %v", got)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if r := c.Do("GET", "/readyz", nil); r.Status != 200 || r.Body["writes"] != "ok" {
		t.Fatalf("/readyz after freeing space: %d %s", r.Status, r.Raw)
	}
	c.Must(201, "POST", "/api/Company", map[string]any{"code": "AFTER", "name": "After"})
	for _, line := range []string{`"level":"ERROR","msg":"database refuses writes","code":"StorageFull"`, `"msg":"database accepts writes again"`} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("log lacks %s:\n%s", line, logs.String())
		}
	}
}

// loggedServer is testenv.NewServer with the database's log (where storage
// failures are reported) going to logs.
func loggedServer(t *testing.T, dsn string, logs *syncBuffer) *testenv.Server {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(logs, nil))
	db, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	svc := service.New(db, db.Registry())
	ts := httptest.NewServer(httpapi.New(httpapi.Config{Service: svc, Auth: auth.New(db), DB: db, Logger: testenv.Quiet}))
	t.Cleanup(ts.Close)
	return &testenv.Server{URL: ts.URL, DB: db, Service: svc, HTTP: ts}
}

// fillDisk writes path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for size := len(buf); size > 0; {
		if _, err := f.Write(buf[:size]); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			size /= 2
		}
	}
}

// TestStorageErrorsPostgres raises PostgreSQL's own disk_full (53100) and
// read_only_sql_transaction (25006) from a trigger, so the real driver
// carries the real error codes: 503 with the specific code and Retry-After,
// /readyz not ready for writes (its probe write fails the same way), and
// recovery once the cause is gone, without a restart.
func TestStorageErrorsPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	var logs syncBuffer
	c := loggedServer(t, dsn, &logs).Tenant(t, "ACME")
	company := c.Must(201, "POST", "/api/Company", map[string]any{"code": "C0", "name": "Before"})["id"].(string)
	raw := testenv.RawDB(t, dsn)
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE IF NOT EXISTS ordo_write_probe (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)`)
	for _, tc := range []struct{ sqlstate, code string }{{"53100", "StorageFull"}, {"25006", "StorageReadOnly"}} {
		t.Run(tc.code, func(t *testing.T) {
			exec(`CREATE OR REPLACE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '` + tc.sqlstate + `'; END $$`)
			for _, table := range []string{"company", "ordo_write_probe"} {
				exec(`CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION refuse_write()`)
			}
			for i := 0; i < 5; i++ {
				r := c.Do("PUT", "/api/Company("+company+")", map[string]any{"name": "During"})
				if r.Status != 503 || r.ErrorCode() != tc.code || r.Header.Get("Retry-After") != "30" {
					t.Fatalf("write: %d %s Retry-After %q", r.Status, r.Raw, r.Header.Get("Retry-After"))
				}
			}
			// Five failures, one ERROR line (rate-limited).
			if n := strings.Count(logs.String(), `"msg":"database refuses writes","code":"`+tc.code+`"`); n != 1 {
				t.Fatalf("%d ERROR lines for 5 failures; log:\n%s", n, logs.String())
			}
			if got := c.Must(200, "GET", "/api/Company("+company+")", nil)["name"]; got != "Before" {
				t.Fatalf("name after a refused update: %v", got)
			}
			if r := c.Do("GET", "/readyz", nil); r.Status != 503 || r.Body["writes"] != tc.code {
				t.Fatalf("/readyz: %d %s", r.Status, r.Raw)
			}
			for _, table := range []string{"company", "ordo_write_probe"} {
				exec(`DROP TRIGGER refuse ON ` + table)
			}
			if r := c.Do("GET", "/readyz", nil); r.Status != 200 {
				t.Fatalf("/readyz after recovery: %d %s", r.Status, r.Raw)
			}
			if !strings.Contains(logs.String(), `"database accepts writes again","after":"`+tc.code+`"`) {
				t.Fatalf("recovery not logged:\n%s", logs.String())
			}
			c.Must(200, "PUT", "/api/Company("+company+")", map[string]any{"name": "Before"})
		})
	}
}
