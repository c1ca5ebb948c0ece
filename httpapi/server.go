// Package httpapi is Ordo's REST API over net/http: routing, authentication,
// content negotiation and the JSON shapes of the API contract.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/auth"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/webhook"
)

// Pinger reports whether the database answers (readiness).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config configures a Server.
type Config struct {
	Service *service.Service
	Auth    *auth.Authenticator
	DB      Pinger
	Logger  *slog.Logger
	// MaxBody bounds request bodies (default 4 MiB).
	MaxBody int64
	// Webhooks serves WebhookSubscriptions and WebhookDeliveries (absent
	// when nil).
	Webhooks *webhook.Manager
	// IdempotencyTTL is how long an Idempotency-Key's response is replayed
	// (default 24 h).
	IdempotencyTTL time.Duration
}

// Server serves the API.
type Server struct {
	svc     *service.Service
	auth    *auth.Authenticator
	db      Pinger
	log     *slog.Logger
	maxBody int64
	mux     *http.ServeMux
	hooks   *webhook.Manager

	idempotencyTTL time.Duration
	inFlight       inFlightKeys
}

// New builds a Server.
func New(cfg Config) *Server {
	s := &Server{svc: cfg.Service, auth: cfg.Auth, db: cfg.DB, log: cfg.Logger, maxBody: cfg.MaxBody, hooks: cfg.Webhooks}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = 4 << 20
	}
	if s.idempotencyTTL = cfg.IdempotencyTTL; s.idempotencyTTL <= 0 {
		s.idempotencyTTL = DefaultIdempotencyTTL
	}
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

// routes lists every route of the API in one place. Entity routes take the
// OData forms /api/Jobs, /api/Jobs(<guid>), /api/Jobs/<guid>, which a
// ServeMux pattern cannot express, so /api/ is dispatched by apiRoute.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	s.mux.Handle("/api/", s.authenticated(s.idempotent(s.apiRoute)))
	s.mux.Handle("GET /planner/", plannerFiles()) // the planner board (static; it calls /api/ like any client)
	s.mux.Handle("GET /planner", http.RedirectHandler("/planner/", http.StatusMovedPermanently))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, ordo.Errorf(ordo.ENotFound, "no resource at %s; the API lives under /api/", r.URL.Path))
	})
}

// ServeHTTP logs one line per request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("query", r.URL.RawQuery),
		slog.Int("status", rec.status), slog.Int("bytes", rec.bytes),
		slog.Duration("duration", time.Since(start)), slog.String("tenant", rec.tenant))
}

type statusRecorder struct {
	http.ResponseWriter
	status, bytes int
	tenant        string
}

func (r *statusRecorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }
func (r *statusRecorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, []byte(`{"status":"up"}`))
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.writeError(w, r, ordo.Errorf(ordo.EUnavailable, "the database is unavailable"))
		return
	}
	s.writeJSON(w, r, http.StatusOK, []byte(`{"status":"ready"}`))
}

type principalKey struct{}

func principal(ctx context.Context) ordo.Principal {
	p, _ := ctx.Value(principalKey{}).(ordo.Principal)
	return p
}

// authenticated requires Basic credentials and puts the principal in the context.
func (s *Server) authenticated(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if rec, ok := w.(*statusRecorder); ok {
			rec.tenant = p.Domain
		}
		if err := checkAccept(r); err != nil && !negotiatesItself(r) {
			s.writeError(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// apiRoute dispatches /api/<Controller>[(<key>) | /<key> | /<Action>]
// and the navigation paths /api/<Controller>(<key>)/<navigation>[/$count].
func (s *Server) apiRoute(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/api/")
	rest = strings.TrimSuffix(rest, "/")
	name, key, hasKey := rest, "", false
	nav := ""
	if i, j := strings.IndexByte(rest, '('), strings.Index(rest, ")/"); i >= 0 && j > i {
		// a navigation path: /api/Projects(<id>)/jobs[/$count]
		name, key, hasKey, nav = rest[:i], rest[i+1:j], true, rest[j+2:]
	} else if i := strings.IndexByte(rest, '('); i >= 0 && strings.HasSuffix(rest, ")") {
		name, key, hasKey = rest[:i], rest[i+1:len(rest)-1], true
	} else if i := strings.IndexByte(rest, '/'); i >= 0 {
		name, key, hasKey = rest[:i], rest[i+1:], true
	}
	switch {
	case rest == "":
		s.handleServiceDocument(w, r)
		return
	case rest == "$metadata":
		s.handleMetadata(w, r)
		return
	case strings.EqualFold(name, "WebhookSubscriptions") && s.hooks != nil:
		s.handleWebhookSubscriptions(w, r, key, hasKey)
		return
	case strings.EqualFold(name, "WebhookDeliveries") && s.hooks != nil && !hasKey:
		s.handleWebhookDeliveries(w, r)
		return
	case rest == "$batch":
		if r.Method != http.MethodPost {
			s.methodNotAllowed(w, r, "POST")
			return
		}
		s.handleBatch(w, r)
		return
	}
	if s.routeAction(w, r, rest) {
		return
	}
	e, ok := s.svc.Registry().ByController(name)
	if !ok {
		s.writeError(w, r, ordo.Errorf(ordo.ENotFound, "no resource %s", name))
		return
	}
	if !hasKey {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			s.handleList(w, r, e)
		case http.MethodPost:
			s.handleCreate(w, r, e)
		default:
			s.methodNotAllowed(w, r, "GET, POST")
		}
		return
	}
	if nav != "" {
		s.handleNavigation(w, r, e, key, nav)
		return
	}
	if key == "$count" && !strings.HasSuffix(rest, ")") {
		s.handleCount(w, r, e)
		return
	}
	if e.Name == "jobs" && strings.EqualFold(key, "ChangeToVirtualStatus") {
		if r.Method != http.MethodPut && r.Method != http.MethodPost {
			s.methodNotAllowed(w, r, "PUT")
			return
		}
		s.handleChangeToVirtualStatus(w, r)
		return
	}
	id, err := parseKey(key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.handleGetEntity(w, r, e, id)
	case http.MethodPut, http.MethodPatch:
		s.handleUpdate(w, r, e, id)
	case http.MethodDelete:
		s.handleDelete(w, r, e, id)
	default:
		s.methodNotAllowed(w, r, "GET, PUT, PATCH, DELETE")
	}
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	s.writeError(w, r, ordo.Errorf(ordo.EMethod, "%s is not allowed here; allowed: %s", r.Method, allow))
}

// action is an operation outside the entity routes:
// /api/<Controller>(<id>)/<Name> when Controller is set, else /api/<Name>.
type action struct {
	method, controller, name string
	keyed                    func(s *Server, w http.ResponseWriter, r *http.Request, id string)
	plain                    func(s *Server, w http.ResponseWriter, r *http.Request)
}

// actions lists the planning operations (docs/planning.md).
var actions = []action{
	{method: http.MethodGet, controller: "Jobs", name: "AvailableSlots", keyed: (*Server).handleSlots},
	{method: http.MethodPost, controller: "Jobs", name: "Plan", keyed: (*Server).handlePlan},
	{method: http.MethodPost, name: "AvailableSlots", plain: (*Server).handleSlotsForBody},
	{method: http.MethodGet, name: "PlanningSetting/Effective", plain: (*Server).handleEffectiveSettings},
}

// routeAction serves rest when it names an action; it reports whether it did.
func (s *Server) routeAction(w http.ResponseWriter, r *http.Request, rest string) bool {
	for _, a := range actions {
		var key string
		switch {
		case a.controller == "" && strings.EqualFold(rest, a.name):
		case a.controller != "" && len(rest) > len(a.controller)+len(a.name)+3 &&
			strings.EqualFold(rest[:len(a.controller)+1], a.controller+"(") &&
			strings.EqualFold(rest[len(rest)-len(a.name)-2:], ")/"+a.name):
			key = rest[len(a.controller)+1 : len(rest)-len(a.name)-2]
		default:
			continue
		}
		if r.Method != a.method && !(a.method == http.MethodGet && r.Method == http.MethodHead) {
			s.methodNotAllowed(w, r, a.method)
			return true
		}
		if a.plain != nil {
			a.plain(s, w, r)
			return true
		}
		id, err := parseKey(key)
		if err != nil {
			s.writeError(w, r, err)
			return true
		}
		a.keyed(s, w, r, id)
		return true
	}
	return false
}
