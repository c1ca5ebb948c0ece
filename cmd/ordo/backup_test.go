package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestBackupWhileWriting: `ordo backup` taken while writers keep creating
// rows through a running server gives a file that opens cleanly, passes
// SQLite's integrity check and holds every write acknowledged before the
// backup started. On PostgreSQL the command points to pg_dump.
func TestBackupWhileWriting(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		db := "--db=" + dsn
		runCmd(t, "tenant", "add", db, "--domain", "BK", "--user", "erp", "--password", "p")
		out := filepath.Join(t.TempDir(), "backup.db")
		if strings.HasPrefix(dsn, "postgres") {
			var errOut bytes.Buffer
			err := run(context.Background(), []string{"backup", db, "--to", out}, &errOut, &errOut)
			if err == nil || !strings.Contains(err.Error(), "pg_dump") {
				t.Fatalf("backup of PostgreSQL: %v", err)
			}
			return
		}
		url, stop := startServe(t, db, "--addr=127.0.0.1:0")
		defer stop()

		var (
			mu      sync.Mutex
			acked   []string // codes whose POST answered 201, in order
			running atomic.Bool
			wg      sync.WaitGroup
		)
		running.Store(true)
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("erp:p@BK"))
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; running.Load() && i < 2000; i++ {
					code := fmt.Sprintf("W%d-%d", w, i)
					req, _ := http.NewRequest("POST", url+"/api/Skill", strings.NewReader(`{"code":"`+code+`","name":"n"}`))
					req.Header.Set("Authorization", auth)
					req.Header.Set("Content-Type", "application/json")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != 201 {
						t.Errorf("POST %s: %d", code, resp.StatusCode)
						return
					}
					mu.Lock()
					acked = append(acked, code)
					mu.Unlock()
				}
			}()
		}
		for { // let the writers get going
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= 50 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		mu.Lock()
		before := append([]string(nil), acked...)
		mu.Unlock()
		msg := runCmd(t, "backup", db, "--to", out)
		mu.Lock()
		after := len(acked)
		mu.Unlock()
		running.Store(false)
		wg.Wait()
		if !strings.Contains(msg, "written to "+out) {
			t.Errorf("backup said %q", msg)
		}
		if after == len(before) {
			t.Logf("no write was acknowledged during the backup")
		}

		copyDB := testenv.RawDB(t, out)
		var check string
		if err := copyDB.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("integrity_check: %q %v", check, err)
		}
		have := map[string]bool{}
		rows, err := copyDB.Query("SELECT code FROM skill")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			rows.Scan(&c)
			have[c] = true
		}
		rows.Close()
		for _, c := range before {
			if !have[c] {
				t.Errorf("skill %s, acknowledged before the backup started, is not in the copy", c)
			}
		}
		t.Logf("%d writes acknowledged before the backup, %d during it; the copy holds %d skills", len(before), after-len(before), len(have))

		// The copy is a working database: the CLI lists its tenant.
		if out := runCmd(t, "tenant", "list", "--db", out); !strings.Contains(strings.ToLower(out), "bk") {
			t.Errorf("tenant list on the copy: %q", out)
		}
	})
}
