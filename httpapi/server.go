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
	"github.com/ordo-fsm/ordo/apidoc"
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
	// Version is the build's version, shown in the OpenAPI document.
	Version string
	// Observer, when set, is told of every answered request (metrics).
	Observer RequestObserver
	// Admission bounds each tenant's requests in flight (admission.go).
	Admission Admission
}

// Server serves the API.
type Server struct {
	svc       *service.Service
	auth      *auth.Authenticator
	db        Pinger
	log       *slog.Logger
	maxBody   int64
	admission *admission
	mux       *http.ServeMux
	hooks     *webhook.Manager

	idempotencyTTL time.Duration
	inFlight       inFlightKeys
	docs           *apidoc.Docs
	observer       RequestObserver
}

// New builds a Server.
func New(cfg Config) *Server {
	s := &Server{svc: cfg.Service, auth: cfg.Auth, db: cfg.DB, log: cfg.Logger, maxBody: cfg.MaxBody, hooks: cfg.Webhooks, observer: cfg.Observer,
		admission: newAdmission(cfg.Admission)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = 4 << 20
	}
	if s.idempotencyTTL = cfg.IdempotencyTTL; s.idempotencyTTL <= 0 {
		s.idempotencyTTL = DefaultIdempotencyTTL
	}
	s.docs = apidoc.New(s.svc.Registry(), cfg.Version)
	s.docs.NotFound = func(w http.ResponseWriter, r *http.Request, message string) {
		s.writeError(w, r, ordo.Errorf(ordo.ENotFound, "%s", message))
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
	s.mux.HandleFunc("GET /help", s.docs.ServeIndex)                 // help pages: no credentials
	s.mux.HandleFunc("GET /help/api/{id}", s.docs.ServeAPI)          // e.g. /help/api/PUT-api-Jobs(id)
	s.mux.HandleFunc("GET /help/type/{name}", s.docs.ServeType)      // an entity's properties
	s.mux.HandleFunc("GET "+apidoc.OpenAPIPath, s.docs.ServeOpenAPI) // OpenAPI 3.1, no credentials
	s.mux.Handle("/api/", s.authenticated(s.idempotent(s.apiRoute)))
	s.mux.Handle("GET /planner/", plannerFiles()) // the planner board (static; it calls /api/ like any client)
	s.mux.Handle("GET /planner", http.RedirectHandler("/planner/", http.StatusMovedPermanently))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, ordo.Errorf(ordo.ENotFound, "no resource at %s; the API lives under /api/", r.URL.Path))
	})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, []byte(`{"status":"up"}`))
}

type principalKey struct{}

func principal(ctx context.Context) ordo.Principal {
	p, _ := ctx.Value(principalKey{}).(ordo.Principal)
	return p
}

// authenticated requires Basic credentials and puts the principal in the context.
func (s *Server) authenticated(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.auth.AuthenticateFrom(r.Context(), r.Header.Get("Authorization"), clientAddr(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		notePrincipal(w, p.Domain, p.Username)
		if err := checkAccept(r); err != nil && !negotiatesItself(r) {
			s.writeError(w, r, err)
			return
		}
		if err := checkURLText(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		release, err := s.admission.admit(r.Context(), w, p.TenantID) // per-tenant fairness (admission.go)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer release()
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
	id, err := parseKey(key, strings.HasSuffix(rest, ")"))
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
		id, err := parseKey(key, true)
		if err != nil {
			s.writeError(w, r, err)
			return true
		}
		a.keyed(s, w, r, id)
		return true
	}
	return false
}
