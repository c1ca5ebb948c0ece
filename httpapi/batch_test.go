package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

type batchResp struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func doBatch(t *testing.T, c *testenv.Client, reqs ...map[string]any) map[string]batchResp {
	t.Helper()
	r := c.Do("POST", "/api/$batch", map[string]any{"requests": reqs})
	if r.Status != 200 {
		t.Fatalf("$batch: %d %s", r.Status, r.Raw)
	}
	var out struct{ Responses []batchResp }
	if err := json.Unmarshal(r.Raw, &out); err != nil {
		t.Fatalf("$batch answer: %v %s", err, r.Raw)
	}
	if len(out.Responses) != len(reqs) {
		t.Fatalf("%d responses for %d requests", len(out.Responses), len(reqs))
	}
	byID := map[string]batchResp{}
	for _, x := range out.Responses {
		byID[x.ID] = x
	}
	return byID
}

func bodyField(t *testing.T, raw json.RawMessage, path ...string) any {
	t.Helper()
	var v any
	json.Unmarshal(raw, &v)
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

// TestBatchAtomicityGroup: one invalid request in a group leaves the
// database exactly as it was, and every response of the group carries the
// failure; requests outside the group are applied on their own.
func TestBatchAtomicityGroup(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		before := testenv.Dump(t, dsn)
		res := doBatch(t, c,
			map[string]any{"id": "1", "method": "POST", "url": "Skill", "atomicityGroup": "g", "body": map[string]any{"code": "A", "name": "A"}},
			map[string]any{"id": "2", "method": "PATCH", "url": "Jobs(" + f.job + ")", "atomicityGroup": "g", "body": map[string]any{"name": "changed"}},
			map[string]any{"id": "3", "method": "POST", "url": "Jobs", "atomicityGroup": "g", "body": map[string]any{"name": "x", "project_id": "not-a-guid"}},
		)
		for _, id := range []string{"1", "2", "3"} {
			if res[id].Status != 400 || bodyField(t, res[id].Body, "error", "code") != "ValidationFailed" {
				t.Errorf("response %s: %d %s", id, res[id].Status, res[id].Body)
			}
		}
		if after := testenv.Dump(t, dsn); after != before {
			t.Errorf("the failed group changed the database")
		}

		// Mixed: a group that succeeds, a lone failure, a lone success.
		res = doBatch(t, c,
			map[string]any{"id": "a", "method": "POST", "url": "Skill", "atomicityGroup": "ok", "body": map[string]any{"code": "S1", "name": "One"}},
			map[string]any{"id": "b", "method": "POST", "url": "/api/Skill", "atomicityGroup": "ok", "body": map[string]any{"code": "S2", "name": "Two"}},
			map[string]any{"id": "c", "method": "POST", "url": "Skill", "body": map[string]any{"name": strings.Repeat("x", 500)}},
			map[string]any{"id": "d", "method": "GET", "url": srv.URL + "/api/Skill?$filter=code eq 'S2'"},
			map[string]any{"id": "e", "method": "DELETE", "url": "Company(" + f.company + ")"},
		)
		if res["a"].Status != 201 || res["b"].Status != 201 || res["c"].Status != 400 || res["d"].Status != 200 || res["e"].Status != 405 {
			t.Fatalf("mixed: %+v", res)
		}
		if v := bodyField(t, res["d"].Body, "value").([]any); len(v) != 1 {
			t.Errorf("GET in batch: %s", res["d"].Body)
		}
		if res["a"].Headers["location"] == "" || res["a"].Headers["etag"] == "" {
			t.Errorf("headers: %v", res["a"].Headers)
		}
		if n := countRows(t, c, "/api/Skill"); n != 2 {
			t.Errorf("%d skills, want 2", n)
		}
	})
}

// TestBatchReferences: $<id> addresses what an earlier request created,
// and dependsOn on a failed request answers 424 without running it.
func TestBatchReferences(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		res := doBatch(t, c,
			map[string]any{"id": "job", "method": "POST", "url": "Jobs", "atomicityGroup": "g1",
				"body": map[string]any{"name": "New", "project_id": f.project, "job_type_id": f.jobType, "job_status_code": "Open"}},
			map[string]any{"id": "rename", "method": "PATCH", "url": "$job", "atomicityGroup": "g1", "dependsOn": []string{"job"},
				"body": map[string]any{"name": "Renamed in the same group"}},
			map[string]any{"id": "read", "method": "GET", "url": "$job", "dependsOn": []string{"g1"}},
			map[string]any{"id": "bad", "method": "POST", "url": "Skill", "body": map[string]any{}},
			map[string]any{"id": "after-bad", "method": "POST", "url": "Skill", "dependsOn": []string{"bad"}, "body": map[string]any{"code": "Z", "name": "Z"}},
			map[string]any{"id": "g2a", "method": "POST", "url": "Skill", "atomicityGroup": "g2", "dependsOn": []string{"bad"}, "body": map[string]any{"code": "Y", "name": "Y"}},
		)
		if res["job"].Status != 201 || res["rename"].Status != 200 || res["read"].Status != 200 {
			t.Fatalf("refs: %+v", res)
		}
		if bodyField(t, res["read"].Body, "name") != "Renamed in the same group" {
			t.Errorf("read: %s", res["read"].Body)
		}
		if res["bad"].Status != 400 || res["after-bad"].Status != 424 || res["g2a"].Status != 424 ||
			bodyField(t, res["after-bad"].Body, "error", "code") != "FailedDependency" {
			t.Errorf("dependsOn failure: %+v", res)
		}
		if n := countRows(t, c, "/api/Skill"); n != 0 {
			t.Errorf("%d skills: a dependent of a failed request ran", n)
		}
	})
}

// TestBatchMalformed: malformed batches and broken rules are 400 with a
// message (413 past the limits), never 500, and change nothing.
func TestBatchMalformed(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		before := testenv.Dump(t, dsn)
		skill := func(id string) map[string]any {
			return map[string]any{"id": id, "method": "POST", "url": "Skill", "body": map[string]any{"code": id, "name": id}}
		}
		many := make([]any, 1001)
		for i := range many {
			many[i] = skill(fmt.Sprint(i))
		}
		cases := []struct {
			name   string
			body   any
			status int
			msg    string
		}{
			{"not JSON", `{"requests": [`, 400, "malformed JSON"},
			{"array", `[]`, 400, "must be"},
			{"no requests", `{}`, 400, `"requests"`},
			{"unknown field", `{"requests": [], "extra": 1}`, 400, "unknown field"},
			{"request not object", `{"requests": [1]}`, 400, "must be"},
			{"no id", map[string]any{"requests": []any{map[string]any{"method": "GET", "url": "Skill"}}}, 400, "no id"},
			{"duplicate id", map[string]any{"requests": []any{skill("1"), skill("1")}}, 400, "used twice"},
			{"bad method", map[string]any{"requests": []any{map[string]any{"id": "1", "method": "TRACE", "url": "Skill"}}}, 400, "TRACE"},
			{"no url", map[string]any{"requests": []any{map[string]any{"id": "1", "method": "GET"}}}, 400, "no url"},
			{"later dependency", map[string]any{"requests": []any{map[string]any{"id": "1", "method": "GET", "url": "Skill", "dependsOn": []string{"2"}}, skill("2")}}, 400, "earlier"},
			{"unknown reference", map[string]any{"requests": []any{map[string]any{"id": "1", "method": "GET", "url": "$9"}}}, 400, "no earlier request"},
			{"split group", map[string]any{"requests": []any{
				map[string]any{"id": "1", "method": "GET", "url": "Skill", "atomicityGroup": "g"}, skill("2"),
				map[string]any{"id": "3", "method": "GET", "url": "Skill", "atomicityGroup": "g"}}}, 400, "adjacent"},
			{"headers not strings", map[string]any{"requests": []any{map[string]any{"id": "1", "method": "GET", "url": "Skill", "headers": map[string]any{"a": 1}}}}, 400, "must be"},
			{"too many", map[string]any{"requests": many}, 413, "at most 1000"},
			{"too large", `{"requests": [` + strings.Repeat(" ", 1<<20) + `]}`, 413, "larger than"},
		}
		for _, tc := range cases {
			r := c.Do("POST", "/api/$batch", tc.body)
			if r.Status != tc.status || !strings.Contains(r.ErrorMessage(), tc.msg) {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Raw)
			}
		}
		if r := c.Do("POST", "/api/$batch", "--batch\r\n", "Content-Type", "multipart/mixed; boundary=batch"); r.Status != 400 || !strings.Contains(r.ErrorMessage(), "closing boundary") {
			t.Errorf("truncated multipart: %d %s", r.Status, r.Raw)
		}
		if r := c.Do("POST", "/api/$batch", "<batch/>", "Content-Type", "application/xml"); r.Status != 415 {
			t.Errorf("XML batch: %d %s", r.Status, r.Raw)
		}
		if r := c.Do("GET", "/api/$batch", nil); r.Status != 405 {
			t.Errorf("GET $batch: %d", r.Status)
		}
		// Inner requests that cannot run are answered in place, not 500.
		res := doBatch(t, c,
			map[string]any{"id": "1", "method": "POST", "url": "$batch", "body": map[string]any{"requests": []any{}}},
			map[string]any{"id": "2", "method": "GET", "url": "/healthz"},
			map[string]any{"id": "3", "method": "POST", "url": "Skill", "body": "a string"},
			map[string]any{"id": "4", "method": "GET", "url": "Nope"},
			map[string]any{"id": "5", "method": "GET", "url": "Skill", "headers": map[string]string{"Accept": "application/xml"}},
		)
		for id, want := range map[string]int{"1": 404, "2": 404, "3": 400, "4": 404, "5": 406} {
			if res[id].Status != want {
				t.Errorf("inner %s: %d %s, want %d", id, res[id].Status, res[id].Body, want)
			}
		}
		if after := testenv.Dump(t, dsn); after != before {
			t.Errorf("malformed batches changed the database")
		}
		// Inner requests are authorised as the batch: an inner Authorization
		// naming another tenant is ignored.
		other := srv.Tenant(t, "OTHER")
		other.Must(201, "POST", "/api/Skill", map[string]any{"code": "THEIRS", "name": "Theirs"})
		res = doBatch(t, c, map[string]any{"id": "1", "method": "GET", "url": "Skill",
			"headers": map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("api:secret@OTHER"))}})
		if res["1"].Status != 200 || strings.Contains(string(res["1"].Body), "THEIRS") {
			t.Errorf("inner Authorization: %d %s", res["1"].Status, res["1"].Body)
		}
		// Unauthenticated: the batch is refused as a whole.
		anon := *c
		anon.Auth = ""
		if r := anon.Do("POST", "/api/$batch", map[string]any{"requests": []any{skill("1")}}); r.Status != 401 {
			t.Errorf("anonymous batch: %d", r.Status)
		}
	})
}

// TestBatchIdempotencyKey: a batch sent again with its key is replayed.
func TestBatchIdempotencyKey(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		body := map[string]any{"requests": []any{
			map[string]any{"id": "1", "method": "POST", "url": "Skill", "body": map[string]any{"code": "A", "name": "A"}},
			map[string]any{"id": "2", "method": "POST", "url": "Skill", "atomicityGroup": "g", "body": map[string]any{"code": "B", "name": "B"}},
			map[string]any{"id": "3", "method": "POST", "url": "Skill", "body": map[string]any{"code": "C", "name": strings.Repeat("x", 500)}},
		}}
		r1 := c.Do("POST", "/api/$batch", body, "Idempotency-Key", "b1")
		r2 := c.Do("POST", "/api/$batch", body, "Idempotency-Key", "b1")
		if r1.Status != 200 || string(r1.Raw) != string(r2.Raw) || r2.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("batch replay: %d %s / %s", r1.Status, r1.Raw, r2.Raw)
		}
		if n := countRows(t, c, "/api/Skill"); n != 2 {
			t.Errorf("%d skills, want 2", n)
		}
	})
}
