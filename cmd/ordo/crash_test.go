package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// buildOrdo builds the ordo binary into a temporary directory.
func buildOrdo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ordo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary runs `ordo serve` as a child process and returns its URL.
func startBinary(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr=127.0.0.1:0"}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case u := <-urlc:
		return cmd, u
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	return nil, ""
}

type keyedPost struct {
	key, name string
	answered  int    // status of the answer before the crash (0: none)
	id        string // the id it answered
}

func postJob(base, key string, body map[string]any) (int, map[string]any, http.Header, error) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+"/api/Jobs", bytes.NewReader(raw))
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("api:demo@DEMO")))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header, nil
}

// TestKilledServerRetryIsReplayed: 8 clients write jobs without ERP keys
// (a duplicate would be a second job) with an Idempotency-Key each; the
// server is SIGKILLed while they write, restarted, and every request is sent
// again with its key. Each job then exists exactly once, and a request that
// had been answered is answered the same (replayed).
func TestKilledServerRetryIsReplayed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := buildOrdo(t)
	testenv.Each(t, func(t *testing.T, dsn string) {
		cmd, base := startBinary(t, bin, "--db="+dsn, "--demo")
		project := firstID(t, base, "/api/Project?$top=1")
		jobType := firstID(t, base, "/api/JobType?$top=1")
		body := func(name string) map[string]any {
			return map[string]any{"name": name, "project_id": project, "job_type_id": jobType, "job_status_code": "Open"}
		}
		var mu sync.Mutex
		var posts []*keyedPost
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					p := &keyedPost{key: fmt.Sprintf("crash-%d-%d", w, i), name: fmt.Sprintf("crash-%d-%d", w, i)}
					mu.Lock()
					posts = append(posts, p)
					mu.Unlock()
					status, out, _, err := postJob(base, p.key, body(p.name))
					if err != nil {
						return
					}
					p.answered = status
					p.id, _ = out["id"].(string)
				}
			}()
		}
		time.Sleep(1500 * time.Millisecond)
		cmd.Process.Kill() // SIGKILL: no graceful shutdown
		cmd.Wait()
		wg.Wait()

		_, base = startBinary(t, bin, "--db="+dsn)
		unanswered, replayed := 0, 0
		for _, p := range posts {
			status, out, h, err := postJob(base, p.key, body(p.name))
			if err != nil || status != 201 {
				t.Fatalf("retry %s: %d %v %v", p.key, status, out, err)
			}
			if p.answered == 0 {
				unanswered++
			} else {
				if h.Get("Idempotent-Replayed") != "true" || out["id"] != p.id {
					t.Errorf("retry of answered %s: replayed=%q id %v, first %s", p.key, h.Get("Idempotent-Replayed"), out["id"], p.id)
				}
				replayed++
			}
		}
		counts := map[string]int{}
		for page := 0; ; page++ {
			q := url.Values{"$filter": {"startswith(name,'crash-')"}, "$select": {"name"}, "$orderby": {"id"}, "$top": {"100"}, "$skip": {fmt.Sprint(page * 100)}}
			status, out := get(t, base+"/api/Jobs?"+q.Encode(), "api:demo@DEMO")
			rows, _ := out["value"].([]any)
			if status != 200 {
				t.Fatalf("list: %d %v", status, out)
			}
			for _, r := range rows {
				counts[r.(map[string]any)["name"].(string)]++
			}
			if len(rows) < 100 {
				break
			}
		}
		for _, p := range posts {
			if counts[p.name] != 1 {
				t.Errorf("%s written %d times", p.name, counts[p.name])
			}
		}
		if len(counts) != len(posts) {
			t.Errorf("%d jobs for %d requests", len(counts), len(posts))
		}
		t.Logf("%d requests: %d answered before the kill and replayed, %d unanswered and retried", len(posts), replayed, unanswered)
	})
}

func firstID(t *testing.T, base, path string) string {
	t.Helper()
	status, out := get(t, base+path, "api:demo@DEMO")
	rows, _ := out["value"].([]any)
	if status != 200 || len(rows) == 0 {
		t.Fatalf("%s: %d %v", path, status, out)
	}
	return rows[0].(map[string]any)["id"].(string)
}
