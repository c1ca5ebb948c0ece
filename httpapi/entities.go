package httpapi

import (
	"net/http"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/rowjson"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/service"
)

// maxPageSize is the largest page the server returns (contract section 7).
const maxPageSize = 100

// baseURL is the scheme and host the client used, honouring a proxy's
// X-Forwarded-Proto.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

func contextURL(r *http.Request, e *schema.Entity, entity bool) string {
	u := baseURL(r) + "/api/$metadata#" + e.Controller
	if entity {
		u += "/$entity"
	}
	return u
}

func annotation(name, value string) string {
	return string(schema.AppendJSONString(append(schema.AppendJSONString(nil, name), ':'), value))
}

// writeEntity answers with one entity, its ETag in the header and, as
// OData does, in the body.
func (s *Server) writeEntity(w http.ResponseWriter, r *http.Request, status int, e *schema.Entity, rec ordo.Record) {
	etag := service.ETag(e, rec)
	w.Header().Set("ETag", etag)
	if strings.Contains(r.Header.Get("Prefer"), "return=minimal") && r.Method != http.MethodGet {
		w.Header().Set("Preference-Applied", "return=minimal")
		s.writeJSON(w, r, status, []byte(`{"id":"`+rec.ID()+`"}`))
		return
	}
	extra := annotation("@odata.context", contextURL(r, e, true)) + "," + annotation("@odata.etag", etag)
	// Sized for a typical row up front: growing from nothing copies a job's
	// ~9 KB several times.
	s.writeJSON(w, r, status, rowjson.AppendRecord(make([]byte, 0, 64*len(e.Fields)+len(extra)), e, rec, extra))
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, e *schema.Entity, id string) {
	rec, err := s.svc.Get(r.Context(), principal(r.Context()).TenantID, e, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etag := service.ETag(e, rec); service.MatchETag(inm, etag) {
			w.Header().Set("ETag", etag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	s.writeEntity(w, r, http.StatusOK, e, rec)
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, e *schema.Entity) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec, err := s.svc.Create(r.Context(), principal(r.Context()).TenantID, e, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", baseURL(r)+"/api/"+e.Controller+"("+rec.ID()+")")
	s.writeEntity(w, r, http.StatusCreated, e, rec)
}

// handleUpdate: a PUT. The body is decoded only when the service cannot
// answer it as a known re-send of the same bytes (service/resend.go).
func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request, e *schema.Entity, id string) {
	raw, err := s.readJSONText(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := principal(r.Context())
	key := func() service.ResendKey { return service.NewResendKey(p.TenantID, p.CredentialID, fingerprint(r, raw)) }
	rec, err := s.svc.UpdateKeyed(r.Context(), p.TenantID, e, id, key, r.Header.Get("If-Match"),
		func() (map[string]any, error) { return decodeObject(raw) })
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeEntity(w, r, http.StatusOK, e, rec)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, e *schema.Entity, id string) {
	if err := s.svc.Delete(r.Context(), principal(r.Context()).TenantID, e, id, r.Header.Get("If-Match")); err != nil {
		if ordo.IsCode(err, ordo.EMethod) {
			w.Header().Set("Allow", "GET, PUT, PATCH")
		}
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleChangeToVirtualStatus(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var jobID, statusID, statusCode string
	var errs []ordo.Detail
	for k, v := range body {
		str, isStr := v.(string)
		if v != nil && !isStr {
			errs = append(errs, ordo.Detail{Code: "InvalidValue", Target: k, Message: k + " must be a string"})
			continue
		}
		switch k {
		case "jobs_id":
			jobID = str
		case "target_job_status_id":
			statusID = str
		case "target_job_status_code":
			statusCode = str
		default:
			errs = append(errs, ordo.Detail{Code: "UnknownField", Target: k, Message: k + " is not a field of ChangeToVirtualStatus"})
		}
	}
	if len(errs) > 0 {
		s.writeError(w, r, &ordo.Error{Code: ordo.EInvalid, Message: errs[0].Message, Details: errs})
		return
	}
	for _, p := range []*string{&jobID, &statusID} {
		if *p == "" {
			continue
		}
		id, err := schema.ParseGUID(*p)
		if err != nil {
			s.writeError(w, r, ordo.Errorf(ordo.EInvalid, "%s", err.Error()))
			return
		}
		*p = id
	}
	if jobID == "" || jobID == schema.ZeroGUID {
		s.writeError(w, r, ordo.FieldError("Required", "jobs_id", "jobs_id is required"))
		return
	}
	if err := s.svc.ChangeToVirtualStatus(r.Context(), principal(r.Context()).TenantID, jobID, statusID, statusCode); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}
