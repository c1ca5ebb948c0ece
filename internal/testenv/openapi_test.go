package testenv

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestContractCatchesDrift: the check every test server applies refuses
// responses the document does not describe, and accepts those it does.
func TestContractCatchesDrift(t *testing.T) {
	c := DefaultContract(t)
	json := http.Header{"Content-Type": {"application/json; odata.metadata=minimal; charset=utf-8"}}
	const id = "6f0c10c9-1730-4289-8569-ae7f4b8aa4b5"
	cases := []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		wantErr            string // "" when the response conforms
	}{
		{"entity", "GET", "/api/Jobs(" + id + ")", 200, json, `{"id":"` + id + `","name":"x","estimated_time":5}`, ""},
		{"controller case-insensitive", "GET", "/api/jobs/" + id, 200, json, `{"id":"` + id + `"}`, ""},
		{"list", "GET", "/api/Skill", 200, json, `{"value":[{"name":"a"}],"@odata.nextLink":"x"}`, ""},
		{"count", "GET", "/api/Skill/$count", 200, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, "12", ""},
		{"error", "PUT", "/api/Jobs(" + id + ")", 409, json, `{"error":{"code":"Conflict","message":"m"}}`, ""},
		{"undocumented path refused with an error body", "GET", "/nowhere", 404, json, `{"error":{"code":"NotFound","message":"m"}}`, ""},
		{"string too long", "GET", "/api/Jobs(" + id + ")", 200, json, `{"name":"` + strings.Repeat("x", 256) + `"}`, "maximum string length"},
		{"wrong type", "GET", "/api/Jobs(" + id + ")", 200, json, `{"estimated_time":"5"}`, "integer"},
		{"not a GUID", "GET", "/api/Jobs(" + id + ")", 200, json, `{"id":"nope"}`, "uuid"},
		{"list without value", "GET", "/api/Skill", 200, json, `{"items":[]}`, "value"},
		{"error without code", "GET", "/api/Skill", 400, json, `{"error":{"message":"m"}}`, "code"},
		{"undocumented success", "GET", "/api/Jobs(" + id + ")/nowhere", 200, json, `{}`, "lists no such operation"},
		{"undocumented method", "DELETE", "/api/Company(" + id + ")", 204, nil, ``, "lists no such operation"},
		{"wrong content type", "GET", "/api/Skill", 200, http.Header{"Content-Type": {"text/csv"}}, `a,b`, "Content-Type"},
		{"malformed XML metadata", "GET", "/api/$metadata", 200, http.Header{"Content-Type": {"application/xml"}}, `<a><b></a>`, "XML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			err := c.Check(httptest.NewRequest(tc.method, tc.path, nil), tc.status, h, []byte(tc.body))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("refused a conforming response: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("accepted a response that does not conform")
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("error %q does not mention %q", err, tc.wantErr)
			}
		})
	}
}
