package httpapi_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/admin"
	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestETags: reads carry an ETag, If-None-Match answers 304, a write with a
// stale If-Match answers 412 and changes nothing, and writes without
// If-Match keep working.
func TestETags(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		path := "/api/Jobs(" + f.job + ")"
		r := c.Do("GET", path, nil)
		etag := r.Header.Get("ETag")
		if etag == "" || r.Body["@odata.etag"] != etag {
			t.Fatalf("ETag %q, @odata.etag %v", etag, r.Body["@odata.etag"])
		}
		if r := c.Do("GET", path, nil, "If-None-Match", etag); r.Status != 304 || len(r.Raw) != 0 {
			t.Errorf("If-None-Match current: %d %s, want 304", r.Status, r.Raw)
		}
		if r := c.Do("GET", path, nil, "If-None-Match", `"other"`); r.Status != 200 {
			t.Errorf("If-None-Match other: %d, want 200", r.Status)
		}
		updated := c.Do("PUT", path, map[string]any{"name": "v2"}, "If-Match", etag)
		if updated.Status != 200 || updated.Header.Get("ETag") == etag {
			t.Fatalf("PUT with the current If-Match: %d, ETag %q", updated.Status, updated.Header.Get("ETag"))
		}
		for _, method := range []string{"PUT", "PATCH", "DELETE"} {
			r := c.Do(method, path, map[string]any{"name": "lost update"}, "If-Match", etag)
			if r.Status != 412 || r.ErrorCode() != "PreconditionFailed" {
				t.Errorf("%s with a stale If-Match: %d %s, want 412", method, r.Status, r.Raw)
			}
		}
		if got := c.Must(200, "GET", path, nil)["name"]; got != "v2" {
			t.Errorf("name = %v after refused writes, want v2", got)
		}
		// Whole rows in lists carry the same ETag as the entity.
		current := c.Do("GET", path, nil).Header.Get("ETag")
		row := c.Must(200, "GET", "/api/Jobs?$filter=id%20eq%20"+f.job, nil)["value"].([]any)[0].(map[string]any)
		if row["@odata.etag"] != current {
			t.Errorf("list row @odata.etag %v, entity ETag %s", row["@odata.etag"], current)
		}
		model := c.Must(201, "POST", "/api/EquipmentModel", map[string]any{"code": "M1", "name": "Model",
			"translations": []any{map[string]any{"field_name": "name", "language_code": "fr", "value_translated": "Modèle"}}})
		listed := c.Must(200, "GET", "/api/EquipmentModel", nil)["value"].([]any)[0].(map[string]any)
		if listed["@odata.etag"] != model["@odata.etag"] {
			t.Errorf("model list row @odata.etag %v, entity %v", listed["@odata.etag"], model["@odata.etag"])
		}
		c.Must(200, "PUT", path, map[string]any{"name": "v3"}) // last writer wins without If-Match
		c.Must(200, "PUT", path, map[string]any{"name": "v4"}, "If-Match", "*")
		c.Must(204, "DELETE", path, nil, "If-Match", c.Do("GET", path, nil).Header.Get("ETag"))
	})
}

// TestTwoNodes: two API nodes on one database serve the same tenants
// consistently: a write through one is read through the other at once, an
// ETag from one is valid on the other, and a password changed while the
// other node has it cached stops working there on the next request.
func TestTwoNodes(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		nodeA := testenv.NewServer(t, dsn)
		nodeB := testenv.NewServer(t, dsn)
		a := nodeA.Tenant(t, "ACME")
		b := *a
		b.URL = nodeB.URL
		f := newFixture(t, a)
		path := "/api/Jobs(" + f.job + ")"
		for i := 0; i < 20; i++ {
			name := "name " + string(rune('a'+i))
			writer, reader := a, &b
			if i%2 == 1 {
				writer, reader = &b, a
			}
			etag := writer.Do("PUT", path, map[string]any{"name": name}).Header.Get("ETag")
			r := reader.Do("GET", path, nil)
			if r.Body["name"] != name || r.Header.Get("ETag") != etag {
				t.Fatalf("write %d: the other node reads %v / %s, want %s / %s", i, r.Body["name"], r.Header.Get("ETag"), name, etag)
			}
		}
		b.Must(200, "GET", "/api/Jobs", nil) // node B has the credential cached
		if _, err := admin.SetPassword(context.Background(), nodeA.DB, "ACME", "api", "changed"); err != nil {
			t.Fatal(err)
		}
		// Node B learns of the change by the credential table's notification
		// (sqlstore/credwatch.go): within milliseconds, not at once.
		changed := time.Now()
		for r := b.Do("GET", "/api/Jobs", nil); r.Status != 401; r = b.Do("GET", "/api/Jobs", nil) {
			if r.Status != 200 || time.Since(changed) > 2*time.Second {
				t.Fatalf("old password on node B %v after the change: %d, want 401", time.Since(changed), r.Status)
			}
			time.Sleep(time.Millisecond)
		}
		t.Logf("node B refused the old password %v after the change", time.Since(changed).Round(time.Millisecond))
		b.Auth = "api:changed@ACME"
		b.Must(200, "GET", "/api/Jobs", nil)
	})
}

// proxy is a TCP relay to PostgreSQL that a test can cut, as if the database
// restarted or the network failed, and then restore.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", p.target)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, server)
			p.mu.Unlock()
			go func() { io.Copy(server, client); server.Close() }()
			go func() { io.Copy(client, server); client.Close() }()
		}
	}()
}

// cut drops every connection and refuses new ones.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// TestDatabaseOutage runs writes and reads while the connection to
// PostgreSQL is cut and restored: during the outage requests fail with 503
// and a clear message, never 500; every acknowledged write is there
// afterwards; the node recovers without a restart.
func TestDatabaseOutage(t *testing.T) {
	base := testenv.Postgres(t)
	u, _ := url.Parse(base)
	px := newProxy(t, u.Host)
	u.Host = px.addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	srv := testenv.NewServer(t, u.String())
	c := srv.Tenant(t, "ACME")
	f := newFixture(t, c)

	var acknowledged sync.Map // skill code → id, for every 201
	var ok, unavailable atomic.Int64
	var other sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code := "SK-" + string(rune('A'+w)) + "-" + strconv.Itoa(i)
				r := c.Do("POST", "/api/Skill", map[string]any{"code": code, "name": "Skill " + code})
				switch r.Status {
				case 201:
					acknowledged.Store(code, r.Body["id"])
					ok.Add(1)
				case 503:
					unavailable.Add(1)
					if !strings.Contains(r.ErrorMessage(), "unavailable") {
						other.Store("503 message", r.ErrorMessage())
					}
					if r.Header.Get("Retry-After") == "" {
						other.Store("503 without Retry-After", string(r.Raw))
					}
				default:
					other.Store(r.Status, string(r.Raw))
				}
				if g := c.Do("GET", "/api/Jobs("+f.job+")", nil); g.Status != 200 && g.Status != 503 {
					other.Store(g.Status, string(g.Raw))
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	px.cut()
	time.Sleep(1500 * time.Millisecond)
	if r := c.Do("GET", "/readyz", nil); r.Status != 503 {
		t.Errorf("/readyz during the outage: %d, want 503", r.Status)
	}
	during := unavailable.Load()
	px.restore(t)
	deadline := time.Now().Add(15 * time.Second)
	for c.Do("GET", "/readyz", nil).Status != 200 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	okBefore := ok.Load()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	other.Range(func(k, v any) bool {
		t.Errorf("unexpected answer %v: %v", k, v)
		return true
	})
	if during == 0 {
		t.Error("no request saw the outage as a 503")
	}
	if ok.Load() <= okBefore {
		t.Error("no write succeeded after the database came back")
	}
	acknowledged.Range(func(code, id any) bool {
		if r := c.Do("GET", "/api/Skill("+id.(string)+")", nil); r.Status != 200 || r.Body["code"] != code {
			t.Errorf("acknowledged skill %v is missing: %d", code, r.Status)
		}
		return true
	})
	t.Logf("%d writes acknowledged, %d requests answered 503 during the outage", ok.Load(), unavailable.Load())
}
