package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// RequestObserver receives every answered request, e.g. for metrics.
type RequestObserver interface {
	ObserveRequest(route, method string, status int, d time.Duration)
}

// requestIDHeader is accepted from the client (or a proxy) when sane, else
// generated, and echoed on the response and in the log line.
const requestIDHeader = "X-Request-Id"

func requestID(r *http.Request) string {
	if id := r.Header.Get(requestIDHeader); id != "" && len(id) <= 128 && printable(id) {
		return id
	}
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// statusRecorder keeps what the log line tells about a request.
type statusRecorder struct {
	http.ResponseWriter
	status, bytes  int
	tenant, user   string
	errCode, errMs string
	writeErr       error // the first failed write: a slow reader past the write deadline, or a client gone
}

func (r *statusRecorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }
func (r *statusRecorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	if err != nil && r.writeErr == nil {
		r.writeErr = err
	}
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// noteError records the error a response carries, for the log line.
func noteError(w http.ResponseWriter, code, message string) {
	if rec, ok := w.(*statusRecorder); ok {
		rec.errCode, rec.errMs = code, message
	}
}

// notePrincipal records who made the request.
func notePrincipal(w http.ResponseWriter, tenant, user string) {
	if rec, ok := w.(*statusRecorder); ok {
		rec.tenant, rec.user = tenant, user
	}
}

// ServeHTTP is the one middleware around every route: request id, one JSON
// log line per request, metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID(r)
	w.Header().Set(requestIDHeader, id)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	d := time.Since(start)
	route := s.routeOf(r)
	if s.observer != nil {
		s.observer.ObserveRequest(route, r.Method, rec.status, d)
	}
	if rec.writeErr != nil {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "response cut",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("tenant", rec.tenant),
			slog.String("client", r.RemoteAddr), slog.Int("bytes", rec.bytes), slog.String("request_id", id), slog.Any("err", rec.writeErr))
	}
	if rec.tenant == "" && rec.user == "" {
		rec.user, rec.tenant = claimedLogin(r) // who tried, on a 401
	}
	level := slog.LevelInfo
	if rec.status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("query", r.URL.RawQuery),
		slog.String("route", route), slog.Int("status", rec.status), slog.Int("bytes", rec.bytes),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("request_id", id),
		slog.String("tenant", rec.tenant), slog.String("user", rec.user),
	}
	if rec.status >= 400 && rec.errCode != "" {
		attrs = append(attrs, slog.String("error_code", rec.errCode), slog.String("error_message", rec.errMs))
	}
	s.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// claimedLogin is the user and domain a Basic header names, never the password.
func claimedLogin(r *http.Request) (user, domain string) {
	h := r.Header.Get("Authorization")
	if len(h) < 6 || !strings.EqualFold(h[:6], "basic ") {
		return "", ""
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[6:]))
	if err != nil {
		return "", ""
	}
	// user:password@domain; the domain follows the password's last '@'.
	user, rest, _ := strings.Cut(string(raw), ":")
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		domain = rest[i+1:]
	}
	return user, domain
}

// routeOf is the route pattern of a request, for metrics: bounded in number
// whatever the paths requested.
func (s *Server) routeOf(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == "/healthz" || p == "/readyz" || p == "/help" || p == "/api/" || p == "/api/$metadata" || p == "/api/openapi.json":
		return p
	case strings.HasPrefix(p, "/help/api/"):
		return "/help/api/{id}"
	case strings.HasPrefix(p, "/help/type/"):
		return "/help/type/{name}"
	case !strings.HasPrefix(p, "/api/"):
		return "other"
	}
	rest := strings.TrimSuffix(strings.TrimPrefix(p, "/api/"), "/")
	name, tail := rest, ""
	if i := strings.IndexAny(rest, "(/"); i >= 0 {
		name, tail = rest[:i], rest[i:]
	}
	e, ok := s.svc.Registry().ByController(name)
	if !ok {
		return "/api/{unknown}"
	}
	base := "/api/" + e.Controller
	switch {
	case tail == "":
		return base
	case tail == "/$count" || strings.EqualFold(tail, "/ChangeToVirtualStatus"):
		return base + tail
	case strings.HasPrefix(tail, "(") && strings.HasSuffix(tail, ")") && !strings.Contains(tail, "/"):
		return base + "({id})"
	case strings.HasPrefix(tail, "/") && strings.Count(tail, "/") == 1:
		return base + "/{id}"
	}
	return base + "/{other}"
}
