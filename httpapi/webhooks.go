package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/ordo-fsm/ordo"
)

// handleWebhookSubscriptions serves /api/WebhookSubscriptions[(<id>)]:
// POST creates, GET reads, PUT and PATCH change the fields sent, DELETE
// removes. The secret is accepted and never returned.
func (s *Server) handleWebhookSubscriptions(w http.ResponseWriter, r *http.Request, key string, hasKey bool) {
	ctx, tenant := r.Context(), principal(r.Context()).TenantID
	if !hasKey {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			subs, err := s.hooks.List(ctx, tenant)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			views := make([]map[string]any, len(subs))
			for i, sub := range subs {
				views[i] = s.hooks.View(sub)
			}
			s.writeValue(w, r, http.StatusOK, map[string]any{
				"@odata.context": baseURL(r) + "/api/$metadata#WebhookSubscriptions", "value": views})
		case http.MethodPost:
			body, err := s.readBody(w, r)
			if err == nil {
				var sub ordo.WebhookSubscription
				if sub, err = s.hooks.Create(ctx, tenant, body); err == nil {
					w.Header().Set("Location", baseURL(r)+"/api/WebhookSubscriptions("+sub.ID+")")
					s.writeValue(w, r, http.StatusCreated, s.hooks.View(sub))
					return
				}
			}
			s.writeError(w, r, err)
		default:
			s.methodNotAllowed(w, r, "GET, POST")
		}
		return
	}
	id, err := parseKey(key, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		sub, err := s.hooks.Get(ctx, tenant, id)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeValue(w, r, http.StatusOK, s.hooks.View(sub))
	case http.MethodPut, http.MethodPatch:
		body, err := s.readBody(w, r)
		if err == nil {
			var sub ordo.WebhookSubscription
			if sub, err = s.hooks.Update(ctx, tenant, id, body); err == nil {
				s.writeValue(w, r, http.StatusOK, s.hooks.View(sub))
				return
			}
		}
		s.writeError(w, r, err)
	case http.MethodDelete:
		if err := s.hooks.Delete(ctx, tenant, id); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		s.methodNotAllowed(w, r, "GET, PUT, PATCH, DELETE")
	}
}

// handleWebhookDeliveries serves GET /api/WebhookDeliveries: the latest
// delivery attempts of the tenant's subscriptions, newest first;
// ?subscription_id=<id> narrows to one, ?limit=N (at most 1000, default 100).
func (s *Server) handleWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.methodNotAllowed(w, r, "GET")
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 1000 {
			s.writeError(w, r, ordo.Errorf(ordo.EInvalid, "limit must be a number from 1 to 1000"))
			return
		}
		limit = n
	}
	sub := r.URL.Query().Get("subscription_id")
	if sub != "" {
		if _, err := parseKey(sub, true); err != nil {
			s.writeError(w, r, ordo.Errorf(ordo.EInvalid, "subscription_id must be a GUID"))
			return
		}
	}
	list, err := s.hooks.Deliveries(r.Context(), principal(r.Context()).TenantID, sub, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeValue(w, r, http.StatusOK, map[string]any{
		"@odata.context": baseURL(r) + "/api/$metadata#WebhookDeliveries", "value": list})
}

// writeValue answers with v encoded as JSON.
func (s *Server) writeValue(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, status, b)
}
