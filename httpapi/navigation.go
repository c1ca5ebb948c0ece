package httpapi

import (
	"net/http"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/schema"
)

// handleNavigation serves a navigation property of one entity as a
// resource: GET /api/Projects(<id>)/jobs and /api/Jobs(<id>)/job_planning
// are the collections (with every list option, paging and $count like
// /api/Jobs), .../$count their number, /api/Jobs(<id>)/project the
// referenced entity (as /api/Projects(<project_id>) would answer it; 204
// when the reference is unset). The parent must exist in the caller's
// tenant, else 404, like the entity itself.
func (s *Server) handleNavigation(w http.ResponseWriter, r *http.Request, e *schema.Entity, key, path string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.methodNotAllowed(w, r, "GET")
		return
	}
	id, err := parseKey(key, true) // a navigation path always has its key in parentheses
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name, rest, _ := strings.Cut(path, "/")
	nav, ok := odata.NavigationOf(e, name)
	if !ok {
		s.writeError(w, r, ordo.Errorf(ordo.ENotFound, "%s has no navigation property %q (see /api/$metadata)", e.Controller, name))
		return
	}
	if nav.Target.Controller == "" {
		s.writeError(w, r, ordo.Errorf(ordo.ENotFound, "%s is written inside %s (an owned list): read it with the entity", name, e.Controller))
		return
	}
	count := false
	switch {
	case rest == "$count" && nav.Many:
		count = true
	case rest == "$count":
		s.writeError(w, r, ordo.Errorf(ordo.ENotFound, "%s is a single navigation; $count applies to collections", name))
		return
	case rest != "":
		s.writeError(w, r, ordo.Errorf(ordo.ENotFound, "no resource %s(%s)/%s: a navigation path has one navigation, optionally followed by /$count", e.Controller, key, path))
		return
	}
	parent, err := s.svc.Get(r.Context(), principal(r.Context()).TenantID, e, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !nav.Many {
		target := parent.String(nav.Ref.IDField)
		if schema.IsZero(schema.KindGUID, target) {
			if rq := s.getQuery(w, r); rq != nil {
				w.WriteHeader(http.StatusNoContent) // OData: a single navigation without an entity
			}
			return
		}
		s.handleGetEntity(w, r, nav.Target, target)
		return
	}
	within := func(q *odata.Query) error { return q.Within(nav.Ref.IDField, parent.ID()) }
	if count {
		s.handleCount(w, r, nav.Target, within)
		return
	}
	s.handleList(w, r, nav.Target, within)
}
