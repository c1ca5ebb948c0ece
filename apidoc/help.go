package apidoc

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/ordo-fsm/ordo/schema"
)

//go:embed help.tmpl
var helpTemplates string

var pages = template.Must(template.New("help").Funcs(template.FuncMap{
	"openapi": func() string { return OpenAPIPath },
	// wbr lets long snake_case names wrap after an underscore on narrow screens.
	"wbr": func(name string) template.HTML {
		return template.HTML(strings.ReplaceAll(template.HTMLEscapeString(name), "_", "_<wbr>"))
	},
}).Parse(helpTemplates))

// Docs serves the help pages and the OpenAPI document of a registry. The
// server lists its routes (httpapi/server.go); these are their handlers.
type Docs struct {
	reg     *schema.Registry
	version string
	apis    []API
	byID    map[string]API

	openapiOnce sync.Once
	openapi     []byte

	// NotFound answers an unknown page; the server sets it to its error body.
	NotFound func(w http.ResponseWriter, r *http.Request, message string)
}

// New builds the documentation of reg; version is the build's.
func New(reg *schema.Registry, version string) *Docs {
	d := &Docs{reg: reg, version: version, apis: APIs(reg), byID: map[string]API{}}
	d.NotFound = func(w http.ResponseWriter, r *http.Request, message string) {
		http.Error(w, message, http.StatusNotFound)
	}
	for _, a := range d.apis {
		d.byID[a.ID()] = a
	}
	return d
}

// APIs lists what the index shows.
func (d *Docs) APIs() []API { return d.apis }

// OpenAPIDocument is the OpenAPI 3.1 document, built once.
func (d *Docs) OpenAPIDocument() []byte {
	d.openapiOnce.Do(func() { d.openapi = OpenAPI(d.reg, d.version) })
	return d.openapi
}

// ServeOpenAPI answers GET /api/openapi.json.
func (d *Docs) ServeOpenAPI(w http.ResponseWriter, r *http.Request) {
	body := d.OpenAPIDocument()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "public, max-age=300")
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

type controllerGroup struct {
	Controller string
	Entity     *schema.Entity
	APIs       []API
}

// ServeIndex answers GET /help: every API grouped by controller.
func (d *Docs) ServeIndex(w http.ResponseWriter, r *http.Request) {
	var groups []controllerGroup
	for _, a := range d.apis {
		if n := len(groups); n == 0 || groups[n-1].Controller != a.Controller {
			groups = append(groups, controllerGroup{Controller: a.Controller, Entity: a.Entity})
		}
		groups[len(groups)-1].APIs = append(groups[len(groups)-1].APIs, a)
	}
	render(w, r, "index", groups)
}

// uriParam is a row of the URI parameter table.
type uriParam struct{ Name, Description, Type string }

func (uriParam) AdditionalInfo() []string { return []string{"Required"} }

type apiPage struct {
	Title          string
	API            API
	URIParams      []uriParam
	BodyName       string
	Body           []Param
	ActionBody     []Param
	RequestSample  string
	ResponseText   string
	ResponseType   string
	ResponseFormat string
	ResponseSample string
}

// ServeAPI answers GET /help/api/{id}, e.g. /help/api/PUT-api-Jobs(id).
func (d *Docs) ServeAPI(w http.ResponseWriter, r *http.Request) {
	a, ok := d.byID[r.PathValue("id")]
	if !ok {
		d.NotFound(w, r, "no API "+r.PathValue("id")+"; see /help for the list")
		return
	}
	e := a.Entity
	p := apiPage{Title: a.Method + " " + a.URI, API: a, ResponseFormat: "application/json, text/json"}
	if a.HasKey() {
		p.URIParams = []uriParam{{Name: "id", Description: "The key of the " + e.Noun(), Type: "globally unique identifier"}}
	}
	switch a.Op {
	case OpCreate, OpUpdate, OpPatch:
		p.BodyName, p.Body, p.RequestSample = e.Name, Params(e), Sample(e)
		p.ResponseText, p.ResponseType, p.ResponseSample = "The "+e.Noun()+" as stored:", e.Name, Sample(e)
	case OpAction:
		p.ActionBody = []Param{
			{Name: "jobs_id", Description: "The job to move", Type: KindType(schema.KindGUID), Required: true},
			{Name: "target_job_status_id", Description: "The tenant status to move it to", Type: KindType(schema.KindGUID),
				Group: []string{"target_job_status_id", "target_job_status_code"}},
			{Name: "target_job_status_code", Description: "The tenant status to move it to, by code", Type: "string",
				Group: []string{"target_job_status_id", "target_job_status_code"}},
		}
		p.RequestSample = "{\n  \"jobs_id\": \"" + sampleGUID("jobs.id") + "\",\n  \"target_job_status_code\": \"sample string 2\"\n}"
		p.ResponseText = "None: 200 with an empty body."
	case OpList:
		p.ResponseText, p.ResponseType = "A page of rows, {\"value\": [...], \"@odata.nextLink\": ...}, each a", e.Name
		p.ResponseSample = "{\n  \"@odata.context\": \"/api/$metadata#" + e.Controller + "\",\n  \"value\": [\n" + indent(Sample(e), "    ") + "\n  ]\n}"
	case OpCount:
		p.ResponseText, p.ResponseFormat, p.ResponseSample = "The number of matching rows.", "text/plain", "42"
	case OpGet:
		p.ResponseText, p.ResponseType, p.ResponseSample = "The row, a", e.Name, Sample(e)
	case OpDelete:
		p.ResponseText = "None: 204."
	}
	render(w, r, "api", p)
}

type typePage struct {
	Entity *schema.Entity
	Params []Param
	Sample string
}

// ServeType answers GET /help/type/{name}: an entity's properties.
func (d *Docs) ServeType(w http.ResponseWriter, r *http.Request) {
	e, ok := d.reg.Entity(r.PathValue("name"))
	if !ok {
		d.NotFound(w, r, "no type "+r.PathValue("name")+"; see /help for the list")
		return
	}
	render(w, r, "type", typePage{Entity: e, Params: Params(e), Sample: Sample(e)})
}

func render(w http.ResponseWriter, r *http.Request, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "the help page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

func indent(s, prefix string) string {
	var b bytes.Buffer
	b.WriteString(prefix)
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '\n' {
			b.WriteString(prefix)
		}
	}
	return b.String()
}
