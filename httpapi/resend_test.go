package httpapi_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ordo-fsm/ordo/admin"
	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestResentPut: a PUT re-sent with the same bytes is answered as a touch of
// its row only while everything its full run read is unchanged
// (service/resend.go). Each case changes something between two re-sends and
// checks that the re-send then does what the full path does: restore the
// body's values, recreate what the rules create, refuse what they refuse.
func TestResentPut(t *testing.T) {
	type env struct {
		c          *testenv.Client
		srv        *testenv.Server
		body       map[string]any
		path       string
		last       map[string]any // the previous PUT's response
		statements *int
	}
	project := func(e *env) map[string]any { return e.body["project"].(map[string]any) }
	cases := []struct {
		name     string
		change   func(t *testing.T, e *env) // between the remembered re-send and the next one
		want     int                        // the next re-send's status
		shortcut bool                       // answered as a touch (few statements)
		check    func(t *testing.T, e *env, got map[string]any)
	}{
		{name: "nothing changed", want: 200, shortcut: true,
			check: func(t *testing.T, e *env, got map[string]any) {
				for k, v := range e.last {
					if k == "modified_dateutc" || k == "@odata.etag" {
						continue
					}
					if !sameJSONValue(v, got[k]) {
						t.Errorf("%s: %v, the full path answered %v", k, got[k], v)
					}
				}
				if got["@odata.etag"] == e.last["@odata.etag"] {
					t.Error("the ETag did not change: the row was not touched")
				}
			}},
		{name: "embedded project renamed", want: 200,
			change: func(t *testing.T, e *env) {
				e.c.Must(200, "PATCH", "/api/Project("+project(e)["id"].(string)+")", map[string]any{"name": "Renamed elsewhere"})
			},
			check: func(t *testing.T, e *env, _ map[string]any) {
				got := e.c.Must(200, "GET", "/api/Project("+project(e)["id"].(string)+")", nil)
				if got["name"] != project(e)["name"] {
					t.Errorf("project name %v, the body gives %v", got["name"], project(e)["name"])
				}
			}},
		{name: "job field changed", want: 200,
			change: func(t *testing.T, e *env) {
				e.c.Must(200, "PATCH", e.path, map[string]any{"description": "Changed elsewhere"})
			},
			check: func(t *testing.T, e *env, got map[string]any) {
				if got["description"] != e.body["description"] {
					t.Errorf("description %v, the body gives %v", got["description"], e.body["description"])
				}
			}},
		{name: "suggested planning deleted", want: 200,
			change: func(t *testing.T, e *env) {
				list := e.c.Must(200, "GET", "/api/JobPlanning?$filter=jobs_id%20eq%20"+e.body["id"].(string), nil)
				rows := list["value"].([]any)
				if len(rows) != 1 {
					t.Fatalf("%d plannings before the change, want the suggested one", len(rows))
				}
				e.c.Must(204, "DELETE", "/api/JobPlanning("+rows[0].(map[string]any)["id"].(string)+")", nil)
			},
			check: func(t *testing.T, e *env, _ map[string]any) {
				list := e.c.Must(200, "GET", "/api/JobPlanning?$filter=jobs_id%20eq%20"+e.body["id"].(string), nil)
				if n := len(list["value"].([]any)); n != 1 {
					t.Errorf("%d plannings after the re-send, want the suggested one recreated", n)
				}
			}},
		{name: "job deleted", want: 404,
			change: func(t *testing.T, e *env) { e.c.Must(204, "DELETE", e.path, nil) }},
		{name: "another user sends the same bytes", want: 200,
			change: func(t *testing.T, e *env) {
				if _, err := admin.SetPassword(context.Background(), e.srv.DB, e.c.Tenant.Domain, "erp2", "secret2"); err != nil {
					t.Fatal(err)
				}
				e.c = &testenv.Client{URL: e.c.URL, Auth: "erp2:secret2@" + e.c.Tenant.Domain, Tenant: e.c.Tenant}
				e.c.SetT(t)
			}},
	}
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c, body, path := seededJob(t, srv, fmt.Sprintf("T%d", i))
				e := &env{c: c, srv: srv, body: body, path: path}
				c.Must(200, "PUT", e.path, body)          // inserts the graph
				e.last = c.Must(200, "PUT", e.path, body) // full path, only a touch: remembered
				if tc.change != nil {
					tc.change(t, e)
				}
				var r *testenv.Response
				n := statementsOf(srv, func() { r = e.c.Do("PUT", e.path, body) })
				if r.Status != tc.want {
					t.Fatalf("re-send: %d %s, want %d", r.Status, r.Raw, tc.want)
				}
				if took := n <= 4; r.Status == 200 && took != tc.shortcut {
					t.Errorf("re-send ran %d statements: shortcut %v, want %v", n, took, tc.shortcut)
				}
				if tc.check != nil {
					tc.check(t, e, r.Body)
				}
				if r.Status == 200 && !tc.shortcut {
					// The next re-send runs the full path, which now only
					// touches the row and is remembered; the one after that
					// takes the shortcut.
					e.c.Must(200, "PUT", e.path, body)
					if n := statementsOf(srv, func() { e.c.Must(200, "PUT", e.path, body) }); n > 4 {
						t.Errorf("the re-send after the next ran %d statements, want the shortcut", n)
					}
				}
			})
		}
	})
}

// TestResentPutIfMatch: the shortcut applies If-Match like the full path.
func TestResentPutIfMatch(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c, body, path := seededJob(t, srv, "ACME")
		first := c.Must(200, "PUT", path, body)
		stale := first["@odata.etag"].(string)
		current := c.Must(200, "PUT", path, body)["@odata.etag"].(string)
		r := c.Do("PUT", path, body, "If-Match", stale)
		if r.Status != 412 || !strings.Contains(string(r.Raw), "If-Match") {
			t.Fatalf("stale If-Match: %d %s", r.Status, r.Raw)
		}
		c.Must(200, "PUT", path, body, "If-Match", current)
	})
}

func sameJSONValue(a, b any) bool { return reflect.DeepEqual(a, b) }

// TestResentPutConcurrent: clients re-sending one job while another patches
// it: every request succeeds, and a last re-send restores the body's values,
// whether it took the shortcut or the full path.
func TestResentPutConcurrent(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c, body, path := seededJob(t, srv, "ACME")
		c.Must(200, "PUT", path, body)
		c.Must(200, "PUT", path, body)
		var wg sync.WaitGroup
		errs := make(chan string, 100)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 15; i++ {
					if r := c.Do("PUT", path, body); r.Status != 200 {
						errs <- fmt.Sprintf("PUT: %d %s", r.Status, r.Raw)
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if r := c.Do("PATCH", path, map[string]any{"description": fmt.Sprintf("patched %d", i)}); r.Status != 200 {
					errs <- fmt.Sprintf("PATCH: %d %s", r.Status, r.Raw)
				}
			}
		}()
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		got := c.Must(200, "PUT", path, body)
		if got["description"] != body["description"] {
			t.Errorf("description after the last re-send: %v, want the body's %v", got["description"], body["description"])
		}
		if stored := c.Must(200, "GET", path, nil); stored["description"] != body["description"] || stored["@odata.etag"] != got["@odata.etag"] {
			t.Errorf("stored %v / %v, the last PUT answered %v / %v", stored["description"], stored["@odata.etag"], got["description"], got["@odata.etag"])
		}
	})
}

// TestResentPutMemoryOff: with the memory off (serve --resend-memory 0) every
// re-send runs the full path, with the same answer.
func TestResentPutMemoryOff(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		srv.Service.SetResendMemory(0)
		c, body, path := seededJob(t, srv, "ACME")
		c.Must(200, "PUT", path, body)
		for i := 0; i < 3; i++ {
			var got map[string]any
			if n := statementsOf(srv, func() { got = c.Must(200, "PUT", path, body) }); n <= 4 {
				t.Errorf("re-send %d ran %d statements: the shortcut, with the memory off", i, n)
			}
			if got["description"] != body["description"] {
				t.Errorf("re-send %d: description %v", i, got["description"])
			}
		}
	})
}

// TestResentPutOwnedList: a re-sent PUT of an entity that owns a list
// (EquipmentModel's translations) is answered as a touch too, with its list
// read in the touch's transaction: the answer is the full path's.
func TestResentPutOwnedList(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "LISTS")
		body := map[string]any{"code": "M1", "name": "Model", "translations": []any{
			map[string]any{"field_name": "name", "language_code": "fr", "value_translated": "Modèle"},
			map[string]any{"field_name": "name", "language_code": "nl", "value_translated": "Model"}}}
		created := c.Must(201, "POST", "/api/EquipmentModel", body)
		path := "/api/EquipmentModel(" + created["id"].(string) + ")"
		full := c.Must(200, "PUT", path, body) // the full path, remembered
		var touched map[string]any
		n := statementsOf(srv, func() { touched = c.Must(200, "PUT", path, body) })
		if n > 4 {
			t.Errorf("the re-send ran %d statements: not answered as a touch", n)
		}
		for k, v := range full {
			if k == "modified_dateutc" || k == "@odata.etag" {
				continue
			}
			if !sameJSONValue(v, touched[k]) {
				t.Errorf("%s: %v, the full path answered %v", k, touched[k], v)
			}
		}
		if touched["@odata.etag"] == full["@odata.etag"] {
			t.Error("the ETag did not change: the row was not touched")
		}
		if got := c.Must(200, "GET", path, nil); !sameJSONValue(got["translations"], full["translations"]) {
			t.Errorf("stored translations %v, want %v", got["translations"], full["translations"])
		}
	})
}
