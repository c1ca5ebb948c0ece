package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// maxBatchRequests bounds the requests of one $batch.
const maxBatchRequests = 1000

// batchRequest is one request of an OData 4.01 JSON batch.
type batchRequest struct {
	ID             string            `json:"id"`
	Method         string            `json:"method"`
	URL            string            `json:"url"`
	Headers        map[string]string `json:"headers"`
	Body           json.RawMessage   `json:"body"`
	AtomicityGroup string            `json:"atomicityGroup"`
	DependsOn      []string          `json:"dependsOn"`
}

// batchResponse is one response of the batch.
type batchResponse struct {
	status int
	header http.Header
	body   []byte
}

var errGroupFailed = errors.New("batch: a request of the atomicity group failed")

// handleBatch serves POST /api/$batch in the OData 4.01 JSON format. The
// requests run in order, each through the same routes as a request of its
// own and authorised as the batch. The requests of an atomicity group run
// in one transaction (Service.Atomic): when one fails, none is applied and
// every response of the group carries that failure. A request whose
// dependency failed is answered 424 without running.
func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) {
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/mixed" {
		s.handleMultipartBatch(w, r, params["boundary"])
		return
	}
	reqs, err := s.readBatch(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	results := s.runBatch(r, reqs)
	b := []byte(`{"responses":[`)
	for i, q := range reqs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendBatchResponse(b, q, results[q.ID])
	}
	b = append(b, "]}"...)
	if strings.Contains(r.Header.Get("Prefer"), "continue-on-error") {
		w.Header().Set("Preference-Applied", "odata.continue-on-error")
	}
	s.writeJSON(w, r, http.StatusOK, b)
}

// runBatch runs checked requests in order and returns their responses by id.
func (s *Server) runBatch(r *http.Request, reqs []batchRequest) map[string]*batchResponse {
	results := make(map[string]*batchResponse, len(reqs))
	failed := map[string]bool{} // request ids and group names that failed
	for i := 0; i < len(reqs); {
		j := i + 1
		for g := reqs[i].AtomicityGroup; g != "" && j < len(reqs) && reqs[j].AtomicityGroup == g; j++ {
		}
		seg := reqs[i:j]
		i = j
		if dep := failedDependency(seg, failed); dep != "" {
			for _, q := range seg {
				results[q.ID] = s.renderError(r, ordo.Errorf(ordo.EDependency, "request %s depends on %s, which failed", q.ID, dep))
				failed[q.ID] = true
			}
			if g := seg[0].AtomicityGroup; g != "" {
				failed[g] = true
			}
			continue
		}
		if seg[0].AtomicityGroup == "" {
			res := s.runInner(r.Context(), r, seg[0], results)
			results[seg[0].ID] = res
			failed[seg[0].ID] = res.status >= 400
			continue
		}
		var group []*batchResponse
		var failure *batchResponse
		err := s.svc.Atomic(r.Context(), principal(r.Context()).TenantID, func(ctx context.Context, tx ordo.Tx) error {
			group, failure = group[:0], nil
			done := make(map[string]*batchResponse, len(results)+len(seg))
			for k, v := range results {
				done[k] = v
			}
			for _, q := range seg {
				res := s.runInner(ctx, r, q, done)
				done[q.ID] = res
				group = append(group, res)
				if res.status >= 400 {
					failure = res
					return errGroupFailed
				}
			}
			return nil
		})
		if err != nil && failure == nil {
			failure = s.renderError(r, err)
		}
		for k, q := range seg {
			if failure != nil {
				results[q.ID] = failure
				failed[q.ID] = true
				continue
			}
			results[q.ID] = group[k]
		}
		if failure != nil {
			failed[seg[0].AtomicityGroup] = true
		}
	}
	return results
}

// failedDependency returns the first failed request or group a segment
// depends on ("" when none).
// Requests of the segment's own group have not run yet, so are not in failed.
func failedDependency(seg []batchRequest, failed map[string]bool) string {
	for _, q := range seg {
		for _, d := range q.DependsOn {
			if failed[d] {
				return d
			}
		}
	}
	return ""
}

// readBatch reads and checks the whole batch before anything runs.
func (s *Server) readBatch(w http.ResponseWriter, r *http.Request) ([]batchRequest, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, ordo.Errorf(ordo.EUnsupported, "malformed Content-Type %q", ct)
		}
		if mt != "application/json" {
			return nil, ordo.Errorf(ordo.EUnsupported, "Content-Type %s is not supported for $batch; send application/json", mt)
		}
	}
	raw, err := s.readLimited(w, r, "the batch")
	if err != nil {
		return nil, err
	}
	var batch struct {
		Requests *[]batchRequest `json:"requests"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&batch); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, ordo.Errorf(ordo.EInvalid, "malformed batch: %s must be %s, not %s", te.Field, te.Type, te.Value)
		}
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return nil, ordo.Errorf(ordo.EInvalid, "malformed batch: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return nil, jsonError(err, raw)
	}
	if dec.More() {
		return nil, ordo.Errorf(ordo.EInvalid, "malformed JSON: unexpected data after the batch object")
	}
	if batch.Requests == nil {
		return nil, ordo.Errorf(ordo.EInvalid, `a batch is an object {"requests": [...]}`)
	}
	reqs := *batch.Requests
	if len(reqs) > maxBatchRequests {
		return nil, ordo.Errorf(ordo.ETooLarge, "the batch holds %d requests; at most %d are allowed", len(reqs), maxBatchRequests)
	}
	return reqs, checkBatch(reqs)
}

// checkBatch enforces the format's rules: unique ids, known methods,
// contiguous atomicity groups and dependencies on earlier requests only.
func checkBatch(reqs []batchRequest) error {
	seen := map[string]bool{}
	groups := map[string]bool{}
	for i, q := range reqs {
		where := fmt.Sprintf("requests[%d]", i)
		switch {
		case q.ID == "":
			return ordo.Errorf(ordo.EInvalid, "%s has no id", where)
		case seen[q.ID] || groups[q.ID]:
			return ordo.Errorf(ordo.EInvalid, "%s: id %q is used twice", where, q.ID)
		case q.URL == "":
			return ordo.Errorf(ordo.EInvalid, "%s (id %s) has no url", where, q.ID)
		}
		switch q.Method = strings.ToUpper(q.Method); q.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			return ordo.Errorf(ordo.EInvalid, "%s (id %s): method %q is not one of GET, POST, PUT, PATCH, DELETE", where, q.ID, q.Method)
		}
		reqs[i].Method = q.Method
		if g := q.AtomicityGroup; g != "" {
			if seen[g] {
				return ordo.Errorf(ordo.EInvalid, "%s: atomicity group %q has the name of a request", where, g)
			}
			if groups[g] && reqs[i-1].AtomicityGroup != g {
				return ordo.Errorf(ordo.EInvalid, "%s: the requests of atomicity group %q must be adjacent", where, g)
			}
			groups[g] = true
		}
		for _, d := range q.DependsOn {
			if !seen[d] && !(groups[d] && d != q.AtomicityGroup) {
				return ordo.Errorf(ordo.EInvalid, "%s (id %s) depends on %q, which is not an earlier request or group", where, q.ID, d)
			}
		}
		if id, ok := referencedID(q.URL); ok {
			if !seen[id] {
				return ordo.Errorf(ordo.EInvalid, "%s (id %s): url %q refers to no earlier request", where, q.ID, q.URL)
			}
		}
		seen[q.ID] = true
	}
	return nil
}

// runInner runs one request of a batch through the API's routes, with the
// batch's principal and ctx (which may carry the group's transaction).
func (s *Server) runInner(ctx context.Context, outer *http.Request, q batchRequest, done map[string]*batchResponse) *batchResponse {
	target, err := innerURL(q.URL, done)
	if err != nil {
		return s.renderError(outer, err)
	}
	var body io.Reader
	if len(q.Body) > 0 && string(q.Body) != "null" {
		body = bytes.NewReader(q.Body)
	}
	inner, err := http.NewRequestWithContext(ctx, q.Method, target, body)
	if err != nil {
		return s.renderError(outer, ordo.Errorf(ordo.EInvalid, "request %s: malformed url %q", q.ID, q.URL))
	}
	if inner.Body == nil {
		inner.Body = http.NoBody // as a server request has
	}
	inner.Host, inner.TLS = outer.Host, outer.TLS
	if p := outer.Header.Get("X-Forwarded-Proto"); p != "" {
		inner.Header.Set("X-Forwarded-Proto", p)
	}
	for k, v := range q.Headers {
		if strings.EqualFold(k, "Authorization") {
			continue // every inner request is authorised as the batch
		}
		inner.Header.Set(k, v)
	}
	if body != nil && inner.Header.Get("Content-Type") == "" {
		inner.Header.Set("Content-Type", "application/json")
	}
	rec := newBufferedResponse()
	if !strings.HasPrefix(inner.URL.Path, "/api/") || strings.TrimSuffix(inner.URL.Path, "/") == "/api/$batch" {
		s.writeError(rec, inner, ordo.Errorf(ordo.ENotFound, "request %s: %s is not a resource a batch can address", q.ID, q.URL))
	} else if err := checkAccept(inner); err != nil {
		s.writeError(rec, inner, err)
	} else {
		s.apiRoute(rec, inner)
	}
	return &batchResponse{status: rec.status, header: rec.storedHeader(), body: rec.body.Bytes()}
}

// referencedID returns <id> of a url "$<id>[/...][?...]"; $batch and
// $metadata are the service's own resources, not references.
func referencedID(raw string) (string, bool) {
	ref, ok := strings.CutPrefix(raw, "$")
	if !ok {
		return "", false
	}
	if k := strings.IndexAny(ref, "/?"); k >= 0 {
		ref = ref[:k]
	}
	if ref == "batch" || ref == "metadata" {
		return "", false
	}
	return ref, true
}

// innerURL makes a request's url an absolute path: relative to /api/,
// starting with /, absolute, or $<id> for what request <id> created.
func innerURL(raw string, done map[string]*batchResponse) (string, error) {
	if id, ok := referencedID(raw); ok {
		rest := raw[1+len(id):]
		res := done[id]
		loc := ""
		if res != nil {
			loc = res.header.Get("Location")
		}
		if loc == "" {
			return "", ordo.Errorf(ordo.EDependency, "url %q refers to request %s, which created no entity", raw, id)
		}
		u, err := url.Parse(loc)
		if err != nil {
			return "", err
		}
		return u.EscapedPath() + rest, nil
	}
	if strings.HasPrefix(raw, "http://") || strings.HasPrefix(raw, "https://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", ordo.Errorf(ordo.EInvalid, "malformed url %q", raw)
		}
		return u.RequestURI(), nil
	}
	if strings.HasPrefix(raw, "/") {
		return raw, nil
	}
	return "/api/" + raw, nil
}

// renderError renders an error as a response of the batch.
func (s *Server) renderError(r *http.Request, err error) *batchResponse {
	rec := newBufferedResponse()
	plain := r.Clone(r.Context())
	plain.Header.Del("Accept-Encoding")
	s.writeError(rec, plain, err)
	return &batchResponse{status: rec.status, header: rec.storedHeader(), body: rec.body.Bytes()}
}

func appendBatchResponse(b []byte, q batchRequest, res *batchResponse) []byte {
	b = append(b, `{"id":`...)
	b = schema.AppendJSONString(b, q.ID)
	if q.AtomicityGroup != "" {
		b = append(b, `,"atomicityGroup":`...)
		b = schema.AppendJSONString(b, q.AtomicityGroup)
	}
	b = append(b, `,"status":`...)
	b = append(b, fmt.Sprint(res.status)...)
	b = append(b, `,"headers":{`...)
	first := true
	for _, k := range []string{"Content-Type", "Location", "ETag", "OData-Version", "Preference-Applied", "Allow", "Retry-After"} {
		if v := res.header.Get(k); v != "" {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = schema.AppendJSONString(b, strings.ToLower(k))
			b = append(b, ':')
			b = schema.AppendJSONString(b, v)
		}
	}
	b = append(b, '}')
	if len(res.body) > 0 {
		b = append(b, `,"body":`...)
		if strings.HasPrefix(res.header.Get("Content-Type"), "application/json") && json.Valid(res.body) {
			b = append(b, res.body...)
		} else {
			b = schema.AppendJSONString(b, string(res.body))
		}
	}
	return append(b, '}')
}
