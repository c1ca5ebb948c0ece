package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/service"
)

// OData change tracking (OData v4 Part 1 §11.3, JSON format §15). A list
// request with Prefer: odata.track-changes is a full load whose last page
// carries an @odata.deltaLink; following it returns what changed since, and
// its last page carries the next delta link. Both walk the change log
// (sqlstore/changelog.go) through a $deltatoken that records the window.

// deltaTokenKey keys the MAC of delta tokens; the same on every node.
var deltaTokenKey = []byte("ordo odata $deltatoken v1")

// deltaToken is the state a $deltatoken carries. Kind "L" continues a
// track-changes full load that started when the change log's head was
// From; kind "D" is a delta: the changes in (From, Upto] after Cursor,
// Upto being 0 until the link is first followed.
type deltaToken struct {
	Kind   string `json:"k"`
	Tenant int64  `json:"t"`
	From   int64  `json:"f"`
	Upto   int64  `json:"u,omitempty"`
	Cursor int64  `json:"c,omitempty"`
	Issued int64  `json:"i"`
}

func deltaMAC(q *odata.Query, payload []byte) []byte {
	m := hmac.New(sha256.New, deltaTokenKey)
	m.Write([]byte(trackedFingerprint(q)))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:12]
}

// trackedFingerprint identifies what a delta token's changes mean: the
// entity, the filter and the selected shape.
func trackedFingerprint(q *odata.Query) string {
	var b strings.Builder
	b.WriteString(q.Entity.Name)
	b.WriteByte(0)
	if q.Filter != nil {
		b.WriteString(q.Filter.String())
	}
	b.WriteByte(0)
	b.WriteString(selectList(q.Select, q.Expand))
	for _, x := range q.Expand {
		b.WriteString("," + x.Nav.Name)
	}
	return b.String()
}

func encodeDeltaToken(q *odata.Query, t deltaToken) string {
	payload, _ := json.Marshal(t)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(deltaMAC(q, payload))
}

func decodeDeltaToken(q *odata.Query, token string, tenant int64) (deltaToken, error) {
	var t deltaToken
	enc := base64.RawURLEncoding
	p, m, ok := strings.Cut(token, ".")
	payload, err1 := enc.DecodeString(p)
	mac, err2 := enc.DecodeString(m)
	if !ok || err1 != nil || err2 != nil || json.Unmarshal(payload, &t) != nil || (t.Kind != "L" && t.Kind != "D") {
		return t, ordo.Errorf(ordo.EInvalid, "$deltatoken: malformed token; use the @odata.deltaLink or @odata.nextLink as it is")
	}
	if t.Tenant != tenant {
		return t, ordo.Errorf(ordo.EInvalid, "$deltatoken: the token belongs to another tenant")
	}
	if !hmac.Equal(mac, deltaMAC(q, payload)) {
		return t, ordo.Errorf(ordo.EInvalid, "$deltatoken: the token was altered or belongs to another query: it is only valid with the $filter, $select and $expand of the request that returned it")
	}
	return t, nil
}

// prefersTrackChanges reports Prefer: odata.track-changes (or track-changes).
func prefersTrackChanges(r *http.Request) bool {
	for _, h := range r.Header.Values("Prefer") {
		for _, pref := range strings.Split(h, ",") {
			pref, _, _ = strings.Cut(pref, ";")
			switch strings.ToLower(strings.TrimSpace(pref)) {
			case "odata.track-changes", "track-changes":
				return true
			}
		}
	}
	return false
}

// checkTrackable refuses the options change tracking cannot honour: the
// order of a delta is the change log's, and a delta holds rows, not counts.
func checkTrackable(q *odata.Query) error {
	for _, c := range []struct {
		name string
		set  bool
	}{{"$orderby", len(q.OrderBy) > 0}, {"$top", q.HasTop}, {"$skip", q.Skip > 0}, {"$count", q.Count}} {
		if c.set {
			return ordo.Errorf(ordo.EInvalid, "%s cannot be used with change tracking (Prefer: odata.track-changes or $deltatoken); $filter, $select and $expand of to-one references can", c.name)
		}
	}
	for _, x := range q.Expand {
		if x.Nav.Many {
			return ordo.Errorf(ordo.EInvalid, "$expand=%s: change tracking allows only to-one expansions", x.Nav.Name)
		}
	}
	return nil
}

// handleTracked serves a track-changes full load (Prefer, or its
// continuation) and delta links.
func (s *Server) handleTracked(w http.ResponseWriter, r *http.Request, e *schema.Entity, rq *rawQuery) {
	q, err := parseQuery(e, rq)
	if err == nil {
		err = checkTrackable(q)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tenant := principal(r.Context()).TenantID
	size, _ := preferredPageSize(r)
	var tok deltaToken
	if rq.deltaToken != "" {
		if tok, err = decodeDeltaToken(q, rq.deltaToken, tenant); err != nil {
			s.writeError(w, r, err)
			return
		}
	} else if rq.skipToken != "" {
		s.writeError(w, r, ordo.Errorf(ordo.EInvalid, "$skiptoken: a track-changes load continues with its @odata.nextLink as it is"))
		return
	}
	gone := ordo.Errorf(ordo.EGone, "this delta link is older than the change log's retention: start a full sync again (GET the collection with Prefer: odata.track-changes)")
	if tok.Kind == "L" || rq.deltaToken == "" {
		head, pruned, err := s.svc.ChangeHead(r.Context())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if rq.deltaToken != "" && tok.From < pruned {
			s.writeError(w, r, gone)
			return
		}
		if rq.deltaToken == "" {
			tok = deltaToken{Kind: "L", Tenant: tenant, From: head}
		}
		w.Header().Set("Preference-Applied", "odata.track-changes")
		s.writeTrackedLoad(w, r, e, rq, q, tok, size)
		return
	}
	page, err := s.svc.Delta(r.Context(), tenant, service.DeltaRequest{
		Query: q, From: tok.From, Upto: tok.Upto, Cursor: tok.Cursor, Size: size, Limits: queryLimits,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if tok.From < page.Pruned {
		s.writeError(w, r, gone)
		return
	}
	tok.Upto = page.Upto
	w.Header().Set("Preference-Applied", "odata.track-changes")
	b := []byte(`{` + annotation("@odata.context", contextURL(r, e, false)+selectList(q.Select, q.Expand)+"/$delta"))
	b = append(b, `,"value":[`...)
	for i, it := range page.Items {
		if i > 0 {
			b = append(b, ',')
		}
		if it.Row != nil {
			b = appendEntity(b, e, q.Select, q.Expand, it.Row, rowETag(e, q.Select, it.Row))
			continue
		}
		b = append(b, '{')
		b = append(b, annotation("@odata.context", baseURL(r)+"/api/$metadata#"+e.Controller+"/$deletedEntity")...)
		b = append(b, `,"@removed":{"reason":`...)
		b = schema.AppendJSONString(b, it.Reason)
		b = append(b, "},"...)
		b = append(b, annotation("@odata.id", baseURL(r)+"/api/"+e.Controller+"("+it.RemovedID+")")...)
		b = append(b, ',')
		b = append(b, annotation("id", it.RemovedID)...)
		b = append(b, '}')
	}
	b = append(b, ']', ',')
	next := deltaToken{Kind: "D", Tenant: tenant, From: tok.Upto, Issued: time.Now().Unix()}
	link := "@odata.deltaLink"
	if page.More {
		next = deltaToken{Kind: "D", Tenant: tenant, From: tok.From, Upto: tok.Upto, Cursor: page.Cursor, Issued: tok.Issued}
		link = "@odata.nextLink"
	}
	b = append(b, annotation(link, trackedLink(r, e, rq, q, "", next))...)
	b = append(b, '}')
	s.writeJSON(w, r, http.StatusOK, b)
}

// writeTrackedLoad serves a page of a track-changes full load: a list page
// in id order; the last one carries the delta link from the change log's
// head at the start of the load, so nothing committed after the first page
// began is missed.
func (s *Server) writeTrackedLoad(w http.ResponseWriter, r *http.Request, e *schema.Entity, rq *rawQuery, q *odata.Query, tok deltaToken, size int) {
	var after []any
	if rq.skipToken != "" {
		var err error
		if after, err = q.DecodeSkipToken(rq.skipToken, tokenBinding(r)); err != nil {
			s.writeError(w, r, ordo.Errorf(ordo.EInvalid, "%s", err.Error()))
			return
		}
	}
	page, err := s.svc.Query(r.Context(), tok.Tenant, service.QueryRequest{Query: q, Size: size, After: after, Limits: queryLimits})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b := []byte(`{` + annotation("@odata.context", contextURL(r, e, false)+selectList(q.Select, q.Expand)))
	b = append(b, `,"value":[`...)
	for i, rec := range page.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendEntity(b, e, q.Select, q.Expand, rec, rowETag(e, q.Select, rec))
	}
	b = append(b, ']', ',')
	if page.More {
		b = append(b, annotation("@odata.nextLink", trackedLink(r, e, rq, q, q.EncodeSkipToken(page.Last, tokenBinding(r)), tok))...)
	} else {
		next := deltaToken{Kind: "D", Tenant: tok.Tenant, From: tok.From, Issued: time.Now().Unix()}
		b = append(b, annotation("@odata.deltaLink", trackedLink(r, e, rq, q, "", next))...)
	}
	b = append(b, '}')
	s.writeJSON(w, r, http.StatusOK, b)
}

// trackedLink is the request's URL with its $filter, $select and $expand,
// an optional $skiptoken and the $deltatoken of tok.
func trackedLink(r *http.Request, e *schema.Entity, rq *rawQuery, q *odata.Query, skipToken string, tok deltaToken) string {
	var parts []string
	for _, p := range rq.pairs {
		parts = append(parts, p.raw)
	}
	if rq.hasFormat {
		parts = append(parts, "$format="+url.QueryEscape(rq.format))
	}
	if skipToken != "" {
		parts = append(parts, "$skiptoken="+skipToken)
	}
	parts = append(parts, "$deltatoken="+encodeDeltaToken(q, tok))
	return baseURL(r) + "/api/" + e.Controller + "?" + strings.Join(parts, "&")
}
