package httpapi_test

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestFormats covers contract section 3: content types, dates, no nulls,
// gzip, X-Api-Version.
func TestFormats(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		path := "/api/Jobs(" + f.job + ")"

		dates := []struct{ in, want string }{
			{"2026-01-27T12:35:56.5920489+00:00", "2026-01-27T12:35:56.592048Z"},
			{"2026-01-27T13:35:56+01:00", "2026-01-27T12:35:56Z"},
			{"2026-01-27T12:35:56Z", "2026-01-27T12:35:56Z"},
			{"2026-01-27T12:35:56", "2026-01-27T12:35:56Z"}, // no zone = UTC
			{"2026-01-27", "2026-01-27T00:00:00Z"},
			{"", "1980-01-01T00:00:00Z"},
		}
		for _, d := range dates {
			got := c.Must(200, "PUT", path, map[string]any{"due_date": d.in})["due_date"]
			if got != d.want {
				t.Errorf("due_date %q read back as %v, want %s", d.in, got, d.want)
			}
		}
		// null means the default; the API never writes null.
		got := c.Must(200, "PUT", path, map[string]any{"description": nil, "estimated_time": nil, "due_date": nil, "skill_id": nil})
		for k, want := range map[string]any{"description": "", "estimated_time": json.Number("0"), "due_date": "1980-01-01T00:00:00Z",
			"skill_id": "00000000-0000-0000-0000-000000000000"} {
			if got[k] != want {
				t.Errorf("%s = %v after null, want %v", k, got[k], want)
			}
		}
		for _, controller := range []string{"Jobs", "Project", "Company", "JobStatus", "User", "EquipmentModel"} {
			r := c.Do("GET", "/api/"+controller, nil)
			if strings.Contains(string(r.Raw), "null") {
				t.Errorf("%s list contains null: %.300s", controller, r.Raw)
			}
		}
		// Accepted request content types, case-insensitive controllers, the slash key form, old clients' header.
		for _, ct := range []string{"application/json; charset=utf-8", "text/json", ""} {
			r := c.Do("PATCH", "/api/jobs/"+f.job, `{"name":"via `+ct+`"}`, "Content-Type", ct, "X-Api-Version", "1")
			if r.Status != 200 || r.Body["name"] != "via "+ct {
				t.Errorf("Content-Type %q: %d %s", ct, r.Status, r.Raw)
			}
		}
		// gzip when the client accepts it.
		req, _ := http.NewRequest("GET", c.URL+"/api/Jobs", nil)
		req.SetBasicAuth("api", "secret@ACME")
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(zr)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil || len(body["value"].([]any)) != 1 {
			t.Errorf("gzipped list: %v %.200s", err, raw)
		}
	})
}
