package testenv

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/admin"
	"github.com/ordo-fsm/ordo/auth"
	"github.com/ordo-fsm/ordo/httpapi"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/sqlstore"
	"github.com/ordo-fsm/ordo/webhook"
)

// Server is a real Ordo HTTP server on a real database.
type Server struct {
	URL     string
	DB      *sqlstore.DB
	Service *service.Service
	HTTP    *httptest.Server
	// Webhooks is the server's webhook manager; it accepts private URLs
	// (test receivers listen on loopback) unless a test sets AllowPrivate
	// to false.
	Webhooks *webhook.Manager
}

// Quiet is the tests' logger: silent unless ORDO_TEST_LOG is set, which
// helps when a test fails on a 500 whose cause only the log shows.
var Quiet = func() *slog.Logger {
	if os.Getenv("ORDO_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

// OpenDB opens and migrates dsn, closing it when the test ends.
func OpenDB(t testing.TB, dsn string) *sqlstore.DB {
	t.Helper()
	return OpenDBWith(t, dsn, sqlstore.Options{})
}

// OpenDBWith is OpenDB with options (e.g. a BeforeCommit hook).
func OpenDBWith(t testing.TB, dsn string, opt sqlstore.Options) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	if opt.Logger == nil {
		opt.Logger = Quiet
	}
	db, err := sqlstore.Open(ctx, dsn, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// NewServer starts a server on dsn.
func NewServer(t testing.TB, dsn string) *Server {
	t.Helper()
	return NewServerWith(t, dsn, sqlstore.Options{})
}

// NewServerWith starts a server on dsn opened with opt.
func NewServerWith(t testing.TB, dsn string, opt sqlstore.Options) *Server {
	t.Helper()
	return newServer(t, dsn, opt, nil)
}

// NewServerConfig starts a server on dsn whose configuration configure may
// change first (limits, logger).
func NewServerConfig(t testing.TB, dsn string, configure func(*httpapi.Config)) *Server {
	t.Helper()
	return newServer(t, dsn, sqlstore.Options{}, configure)
}

func newServer(t testing.TB, dsn string, opt sqlstore.Options, configure func(*httpapi.Config)) *Server {
	t.Helper()
	db := OpenDBWith(t, dsn, opt)
	svc := service.New(db, db.Registry())
	hooks := &webhook.Manager{DB: db, Registry: db.Registry(), AllowPrivate: true}
	cfg := httpapi.Config{Service: svc, Auth: auth.New(db), DB: db, Logger: Quiet, MaxBody: 1 << 20, Webhooks: hooks}
	if configure != nil {
		configure(&cfg)
	}
	h := httpapi.New(cfg)
	// Every response of every suite is checked against the OpenAPI document.
	ts := httptest.NewServer(ValidateResponses(t, DefaultContract(t), h))
	t.Cleanup(ts.Close)
	return &Server{URL: ts.URL, DB: db, Service: svc, HTTP: ts, Webhooks: hooks}
}

// Tenant creates a tenant and returns a client authenticated as its API user.
func (s *Server) Tenant(t testing.TB, domain string) *Client {
	t.Helper()
	tn, err := admin.CreateTenant(context.Background(), s.DB, s.Service, domain, domain, "api", "secret")
	if err != nil {
		t.Fatal(err)
	}
	return &Client{t: t, URL: s.URL, Auth: "api:secret@" + domain, Tenant: tn}
}

// Client sends requests as one API user.
type Client struct {
	t      testing.TB
	URL    string
	Auth   string // user:password@domain; "" sends no credentials
	Tenant ordo.Tenant
	Header http.Header // extra headers for every request
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// Do sends a request; body may be nil, a string (sent as is) or a value
// encoded as JSON.
func (c *Client) Do(method, path string, body any, headers ...string) *Response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.Auth != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.Auth)))
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.Body); err != nil {
			c.t.Fatalf("%s %s: undecodable JSON %q: %v", method, path, raw, err)
		}
	}
	return r
}

// Must sends a request and fails the test unless the status is want.
func (c *Client) Must(want int, method, path string, body any, headers ...string) map[string]any {
	c.t.Helper()
	r := c.Do(method, path, body, headers...)
	if r.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r.Body
}

// ErrorCode is the error.code of an error body.
func (r *Response) ErrorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// ErrorMessage is the error.message of an error body.
func (r *Response) ErrorMessage() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// SetT binds the client to another test (a fuzz iteration, a subtest), so
// that its failures are reported there.
func (c *Client) SetT(t testing.TB) { c.t = t }
