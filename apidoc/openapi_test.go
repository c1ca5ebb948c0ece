package apidoc_test

import (
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestOpenAPIDocumentIsValid loads the generated document with kin-openapi
// and checks what the issue asks of it.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	c := testenv.DefaultContract(t)
	doc := c.Doc
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	put := doc.Paths.Find("/api/Jobs({id})")
	if put == nil || put.Put == nil || put.Patch == nil || put.Get == nil || put.Delete == nil {
		t.Fatalf("/api/Jobs({id}) lacks an operation: %+v", put)
	}
	if doc.Paths.Find("/api/Company({id})").Delete != nil {
		t.Errorf("DELETE documented on archive-only Company")
	}
	jobs := doc.Components.Schemas["jobs"].Value
	check := func(name string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("jobs.%s is not described as expected: %+v", name, jobs.Properties[name].Value)
		}
	}
	check("name", jobs.Properties["name"].Value.MaxLength != nil && *jobs.Properties["name"].Value.MaxLength == 255)
	check("id", jobs.Properties["id"].Value.Format == "uuid")
	check("due_date", jobs.Properties["due_date"].Value.Format == "date-time")
	check("date_closed", jobs.Properties["date_closed"].Value.ReadOnly)
	check("project", jobs.Properties["project"].Ref == "#/components/schemas/project")
	if jobs.Extensions["x-ordo-reference-groups"] == nil {
		t.Errorf("jobs has no reference groups")
	}
	list := doc.Paths.Find("/api/Jobs").Get
	names := map[string]bool{}
	for _, p := range list.Parameters {
		names[p.Value.Name] = true
	}
	for _, n := range []string{"$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$count", "$skiptoken"} {
		if !names[n] {
			t.Errorf("GET /api/Jobs lacks the %s parameter", n)
		}
	}
	if doc.Components.SecuritySchemes["basicAuth"].Value.Scheme != "basic" {
		t.Errorf("no Basic security scheme")
	}
	if doc.Components.Schemas["Error"] == nil {
		t.Errorf("no Error schema")
	}
	post := doc.Paths.Find("/api/Jobs").Post.RequestBody.Value.Content["application/json"].Schema.Value
	if len(post.AllOf) < 3 {
		t.Errorf("POST /api/Jobs body does not require name and the reference groups: %+v", post.AllOf)
	}
}
