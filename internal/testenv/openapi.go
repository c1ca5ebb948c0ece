package testenv

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/ordo-fsm/ordo/apidoc"
	"github.com/ordo-fsm/ordo/schema"
)

// Contract is the API's OpenAPI document, loaded and validated by a
// maintained OpenAPI library; every test server checks each response it
// sends against it (see ValidateResponses), so the document and the server
// cannot drift apart.
type Contract struct {
	Doc    *openapi3.T
	Raw    []byte
	routes []contractRoute
	errors *routers.Route // for what the document does not list: it must be an error
}

type contractRoute struct {
	re   *regexp.Regexp
	path string
	item *openapi3.PathItem
}

func init() {
	// The server writes GUIDs in canonical lower case; any version.
	openapi3.DefineStringFormatValidator("uuid",
		openapi3.NewRegexpFormatValidator(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`))
}

var loadContract = sync.OnceValues(func() (*Contract, error) {
	return LoadContract(apidoc.OpenAPI(schema.Default, "test"))
})

// DefaultContract is the document the server generates from schema.Default.
func DefaultContract(t testing.TB) *Contract {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	return c
}

// LoadContract parses and validates an OpenAPI document.
func LoadContract(raw []byte) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	c := &Contract{Doc: doc, Raw: raw}
	param := regexp.MustCompile(`\\\{[^}]+\\\}`)
	for path, item := range doc.Paths.Map() {
		re := "(?i)^" + param.ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$"
		c.routes = append(c.routes, contractRoute{re: regexp.MustCompile(re), path: path, item: item})
	}
	// Paths without templates first: /api/Jobs/$count before /api/Jobs/{id}.
	sort.SliceStable(c.routes, func(i, j int) bool {
		return !strings.Contains(c.routes[i].path, "{") && strings.Contains(c.routes[j].path, "{")
	})
	errResp := doc.Components.Responses["Error"]
	if errResp == nil || errResp.Value == nil {
		return nil, fmt.Errorf("the document has no Error response")
	}
	c.errors = &routers.Route{Spec: doc, Path: "(undocumented)", Method: "*",
		Operation: &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithName("default", errResp.Value))}}
	return c, nil
}

// route finds the documented operation of a request; nil when the document
// lists none (HEAD is checked as the GET it mirrors).
func (c *Contract) route(r *http.Request) *routers.Route {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	for _, rt := range c.routes {
		if !rt.re.MatchString(r.URL.Path) {
			continue
		}
		if op := rt.item.GetOperation(method); op != nil {
			return &routers.Route{Spec: c.Doc, Path: rt.path, PathItem: rt.item, Method: method, Operation: op}
		}
		return nil
	}
	return nil
}

// Check validates one response to r against the document. A request the
// document does not list must have been refused with the error body.
func (c *Contract) Check(r *http.Request, status int, header http.Header, body []byte) error {
	route := c.route(r)
	if route == nil {
		if status < 400 {
			return fmt.Errorf("%s %s answered %d, but the OpenAPI document lists no such operation: "+
				"describe the route in apidoc (entity APIs in model.go, other paths in openapi.go)", r.Method, r.URL.Path, status)
		}
		route = c.errors
	}
	if header.Get("Content-Encoding") == "gzip" && len(body) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("gzip body: %w", err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			return fmt.Errorf("gzip body: %w", err)
		}
	}
	// The library checks the status and the headers; the body is checked
	// below with its schema visitor directly, which is what ValidateResponse
	// ends up doing for this document after compiling a JSON Schema 2020
	// validator per call — compiling that tripled the suites' time.
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: true},
	}
	in.SetBodyBytes(body)
	fail := func(err error) error {
		return fmt.Errorf("%s %s → %d does not match the OpenAPI document (%s): %v", r.Method, r.URL.String(), status, route.Path, err)
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fail(err)
	}
	if r.Method == http.MethodHead || status == http.StatusNotModified {
		return nil
	}
	resp := route.Operation.Responses.Status(status)
	if resp == nil {
		resp = route.Operation.Responses.Default()
	}
	if resp == nil || resp.Value == nil || len(resp.Value.Content) == 0 {
		if len(body) > 0 {
			return fail(fmt.Errorf("a body of %d bytes where the document describes none", len(body)))
		}
		return nil
	}
	ct := header.Get("Content-Type")
	media := resp.Value.Content.Get(ct)
	if media == nil {
		return fail(fmt.Errorf("Content-Type %q is not one the document lists", ct))
	}
	if media.Schema == nil || media.Schema.Value == nil {
		return nil
	}
	value, err := decodeBody(ct, body)
	if err != nil {
		return fail(err)
	}
	if err := media.Schema.Value.VisitJSON(value, openapi3.MultiErrors()); err != nil {
		return fail(err)
	}
	return nil
}

// decodeBody turns a body into the value its schema describes: JSON is
// decoded, XML is proved well-formed and checked as text, the rest is text.
func decodeBody(contentType string, body []byte) (any, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, fmt.Errorf("malformed JSON body: %w", err)
		}
		return v, nil
	case mt == "application/xml":
		dec := xml.NewDecoder(bytes.NewReader(body))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				return nil, fmt.Errorf("malformed XML body: %w", err)
			}
		}
	}
	return string(body), nil
}

// ValidateResponses wraps a handler so that every response it sends is
// checked against the contract; a mismatch fails t. Responses still stream:
// the body is copied as it is written.
func ValidateResponses(t testing.TB, c *Contract, h http.Handler) http.Handler {
	if _, isBenchmark := t.(*testing.B); isBenchmark {
		return h // a benchmark measures the server, not the check
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if err := c.Check(r, rec.status, w.Header(), rec.body.Bytes()); err != nil {
			body := string(rec.plainBody())
			if len(body) > 600 {
				body = body[:600] + "…"
			}
			t.Errorf("%v\nbody: %s", err, body)
		}
	})
}

type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

// plainBody is the body as sent, un-gzipped.
func (w *teeWriter) plainBody() []byte {
	if w.Header().Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(bytes.NewReader(w.body.Bytes())); err == nil {
			if b, err := io.ReadAll(zr); err == nil {
				return b
			}
		}
	}
	return w.body.Bytes()
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
