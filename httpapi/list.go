package httpapi

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/rowjson"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/service"
)

// queryLimits bound what one OData request may ask for (see odata.Limits;
// zero fields take odata.DefaultLimits).
var queryLimits = odata.Limits{}

// rawQuery is a request's query string split into its pairs. $skiptoken
// and $format are taken out: they are this layer's business, not the
// query's.
type rawQuery struct {
	pairs     []rawPair // the other pairs, in order, as sent
	skipToken string
	format    string
	hasFormat bool

	// deltaToken is a $deltatoken: a delta link, or the continuation of a
	// track-changes load (delta.go).
	deltaToken string
}

type rawPair struct {
	key  string // decoded
	name string // the system query option's canonical name (odata.CanonicalOption), else key
	raw  string // as sent
}

// splitQuery splits a raw query string on '&' only (';' belongs to $expand).
func splitQuery(raw string) (*rawQuery, error) {
	out := &rawQuery{}
	seenToken := false
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, ordo.Errorf(ordo.EInvalid, "malformed query string: bad percent-encoding in %q", rawKey)
		}
		name := key
		if canon, ok := odata.CanonicalOption(key); ok {
			name = canon
		}
		switch name {
		case "$deltatoken":
			if out.deltaToken != "" {
				return nil, ordo.Errorf(ordo.EInvalid, "$deltatoken: the option is given more than once")
			}
			if out.deltaToken, err = url.QueryUnescape(rawVal); err != nil || out.deltaToken == "" {
				return nil, ordo.Errorf(ordo.EInvalid, "$deltatoken: malformed; use the @odata.deltaLink as it is")
			}
		case "$skiptoken", "$format":
			val, err := url.QueryUnescape(rawVal)
			if err != nil {
				return nil, ordo.Errorf(ordo.EInvalid, "%s: bad percent-encoding in the value", key)
			}
			if name == "$format" {
				if out.hasFormat {
					return nil, ordo.Errorf(ordo.EInvalid, "$format: the option is given more than once")
				}
				out.format, out.hasFormat = val, true
				continue
			}
			if seenToken {
				return nil, ordo.Errorf(ordo.EInvalid, "$skiptoken: the option is given more than once")
			}
			out.skipToken, seenToken = val, true
			if val == "" {
				return nil, ordo.Errorf(ordo.EInvalid, "$skiptoken: empty token; use the @odata.nextLink of the previous page as it is")
			}
		default:
			out.pairs = append(out.pairs, rawPair{key: key, name: name, raw: pair})
		}
	}
	return out, nil
}

// options is the query string for odata.ParseRawQuery.
func (q *rawQuery) options() string {
	parts := make([]string, len(q.pairs))
	for i, p := range q.pairs {
		parts[i] = p.raw
	}
	return strings.Join(parts, "&")
}

// hasOptions reports system query options other than $format.
func (q *rawQuery) hasOptions() bool {
	return len(q.pairs) > 0 || q.skipToken != "" || q.deltaToken != ""
}

// checkJSONFormat accepts a $format asking for JSON (the only data format).
func (q *rawQuery) checkJSONFormat() error {
	if !q.hasFormat {
		return nil
	}
	f := strings.ToLower(strings.TrimSpace(q.format))
	if f == "json" {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(f); err == nil && mt == "application/json" {
		return nil
	}
	return ordo.Errorf(ordo.ENotAcceptable, "$format=%s is not supported; this API answers JSON ($format=json)", q.format)
}

// parseQuery parses the OData options of a request against e.
func parseQuery(e *schema.Entity, rq *rawQuery, narrow ...func(*odata.Query) error) (*odata.Query, error) {
	q, err := odata.ParseRawQuery(e, rq.options(), queryLimits)
	if err != nil {
		return nil, ordo.Errorf(ordo.EInvalid, "%s", err.Error())
	}
	for _, f := range narrow {
		if err := f(q); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// preferredPageSize is maxPageSize, or less when the client prefers
// odata.maxpagesize; applied is then the Preference-Applied value.
func preferredPageSize(r *http.Request) (size int, applied string) {
	if n, ok := preferMaxPageSize(r); ok && n <= maxPageSize {
		return n, "odata.maxpagesize=" + strconv.Itoa(n)
	}
	return maxPageSize, ""
}

// pageSize is preferredPageSize, less when $top asks for fewer rows.
func pageSize(r *http.Request, q *odata.Query) (size int, applied string) {
	size, applied = preferredPageSize(r)
	if q.HasTop && q.Top < size {
		size = q.Top
	}
	return size, applied
}

// preferMaxPageSize reads odata.maxpagesize (or maxpagesize) from Prefer.
func preferMaxPageSize(r *http.Request) (int, bool) {
	for _, h := range r.Header.Values("Prefer") {
		for _, pref := range strings.Split(h, ",") {
			pref, _, _ = strings.Cut(pref, ";")
			name, val, ok := strings.Cut(strings.TrimSpace(pref), "=")
			name = strings.ToLower(strings.TrimSpace(name))
			if !ok || (name != "odata.maxpagesize" && name != "maxpagesize") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`))
			if err == nil && n > 0 {
				return n, true
			}
		}
	}
	return 0, false
}

// tokenBinding ties $skiptoken values to the tenant that received them.
func tokenBinding(r *http.Request) string {
	return strconv.FormatInt(principal(r.Context()).TenantID, 10)
}

// getQuery checks that r is a GET (or HEAD) and splits its query options;
// when it returns nil it has already answered.
func (s *Server) getQuery(w http.ResponseWriter, r *http.Request) *rawQuery {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.methodNotAllowed(w, r, "GET")
		return nil
	}
	rq, err := splitQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	return rq
}

// handleList serves a page of GET /api/<Controller> with the OData options.
// The server pages at maxPageSize rows ($top and Prefer:
// odata.maxpagesize lower it); @odata.nextLink continues after the last
// row sent with a keyset $skiptoken and the request's other options.
// narrow, when given, confines the query (a navigation path: see
// handleNavigation).
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, e *schema.Entity, narrow ...func(*odata.Query) error) {
	rq, err := splitQuery(r.URL.RawQuery)
	if err == nil {
		err = rq.checkJSONFormat()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(narrow) == 0 && (rq.deltaToken != "" || prefersTrackChanges(r)) {
		s.handleTracked(w, r, e, rq)
		return
	}
	if rq.deltaToken != "" { // a navigation path: change tracking is on entity sets
		s.writeError(w, r, ordo.Errorf(ordo.EInvalid, "$deltatoken: change tracking is available on entity sets, not on navigation paths"))
		return
	}
	q, err := parseQuery(e, rq, narrow...)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if q.Apply != nil {
		s.handleApply(w, r, e, rq, q)
		return
	}
	size, applied := pageSize(r, q)
	var after []any
	if rq.skipToken != "" {
		if after, err = q.DecodeSkipToken(rq.skipToken, tokenBinding(r)); err != nil {
			s.writeError(w, r, ordo.Errorf(ordo.EInvalid, "%s", err.Error()))
			return
		}
	}
	page, err := s.svc.Query(r.Context(), principal(r.Context()).TenantID, service.QueryRequest{
		Query: q, Size: size, Skip: q.Skip, After: after, Count: q.Count, Limits: queryLimits,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if applied != "" {
		w.Header().Set("Preference-Applied", applied)
	}
	b := []byte(`{` + annotation("@odata.context", contextURL(r, e, false)+selectList(q.Select, q.Expand)))
	if q.Count {
		b = append(b, `,"@odata.count":`...)
		b = strconv.AppendInt(b, page.Count, 10)
	}
	b = append(b, `,"value":[`...)
	for i, rec := range page.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendEntity(b, e, q.Select, q.Expand, rec, rowETag(e, q.Select, rec))
	}
	b = append(b, ']')
	if page.More && (!q.HasTop || q.Top > len(page.Rows)) {
		b = append(b, ',')
		b = append(b, annotation("@odata.nextLink", nextLink(r, e, rq, q, page))...)
	}
	b = append(b, '}')
	s.writeJSON(w, r, http.StatusOK, b)
}

// nextLink is the request's URL with the same options, except $skip
// (consumed by the first page), the $top still to send, and the position of
// the page's last row as $skiptoken.
func nextLink(r *http.Request, e *schema.Entity, rq *rawQuery, q *odata.Query, page service.Page) string {
	var parts []string
	for _, p := range rq.pairs {
		switch p.name {
		case "$top", "$skip":
			continue
		}
		parts = append(parts, p.raw)
	}
	if rq.hasFormat {
		parts = append(parts, "$format="+url.QueryEscape(rq.format))
	}
	if q.HasTop {
		parts = append(parts, "$top="+strconv.Itoa(q.Top-len(page.Rows)))
	}
	parts = append(parts, "$skiptoken="+q.EncodeSkipToken(page.Last, tokenBinding(r)))
	return baseURL(r) + r.URL.EscapedPath() + "?" + strings.Join(parts, "&")
}

// handleCount serves GET /api/<Controller>/$count: the number of rows that
// match $filter, as plain text. Other options are accepted and ignored.
func (s *Server) handleCount(w http.ResponseWriter, r *http.Request, e *schema.Entity, narrow ...func(*odata.Query) error) {
	rq := s.getQuery(w, r)
	if rq == nil {
		return
	}
	q, err := parseQuery(e, rq, narrow...)
	if err == nil && q.Apply != nil {
		err = ordo.Errorf(ordo.EInvalid, "$apply: /$count does not take $apply; ask for the list with $apply and $count=true")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.svc.Count(r.Context(), principal(r.Context()).TenantID, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeBody(w, r, http.StatusOK, "text/plain; charset=utf-8", []byte(strconv.FormatInt(n, 10)))
}

// handleGetEntity serves GET /api/<Controller>(<id>): with $select or
// $expand it writes the selection and the expansions, else it is handleGet.
func (s *Server) handleGetEntity(w http.ResponseWriter, r *http.Request, e *schema.Entity, id string) {
	rq, err := splitQuery(r.URL.RawQuery)
	if err == nil {
		err = rq.checkJSONFormat()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !rq.hasOptions() {
		s.handleGet(w, r, e, id)
		return
	}
	if rq.skipToken != "" {
		s.writeError(w, r, ordo.Errorf(ordo.EInvalid, "$skiptoken applies to collections; %s(%s) is a single entity", e.Controller, id))
		return
	}
	q, err := parseQuery(e, rq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, c := range []struct {
		name string
		set  bool
	}{{"$filter", q.Filter != nil}, {"$orderby", len(q.OrderBy) > 0}, {"$top", q.HasTop}, {"$skip", q.Skip > 0}, {"$count", q.Count}, {"$apply", q.Apply != nil}} {
		if c.set {
			s.writeError(w, r, ordo.Errorf(ordo.EInvalid, "%s applies to collections; %s(%s) is a single entity (use $select and $expand)", c.name, e.Controller, id))
			return
		}
	}
	rec, etag, err := s.svc.GetQuery(r.Context(), principal(r.Context()).TenantID, q, id, queryLimits)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && service.MatchETag(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	extra := annotation("@odata.context", contextURL(r, e, false)+selectList(q.Select, q.Expand)+"/$entity") +
		"," + annotation("@odata.etag", etag)
	s.writeJSON(w, r, http.StatusOK, appendEntity(nil, e, q.Select, q.Expand, rec, extra))
}

// selectList is the context URL's list of selected properties: the $select
// (id always), and the expanded navigations that have a nested $select,
// each with its own list, as OData 4.0 writes it. "" when nothing is
// projected.
func selectList(sel []*schema.Field, xs []*odata.Expand) string {
	var parts []string
	if sel != nil {
		parts = append(parts, "id")
		for _, f := range sel {
			if f.Name != "id" {
				parts = append(parts, f.Name)
			}
		}
	}
	var navs []string
	for _, x := range xs {
		if inner := selectList(x.Select, x.Expand); inner != "" {
			navs = append(navs, x.Nav.Name+inner)
		}
	}
	if len(navs) > 0 && sel == nil {
		parts = append(parts, "*")
	}
	parts = append(parts, navs...)
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ",") + ")"
}

// rowETag is the @odata.etag annotation of a row in a list or an expansion.
// An ETag covers all of a row's fields, so only whole rows carry it.
func rowETag(e *schema.Entity, sel []*schema.Field, rec ordo.Record) string {
	if sel != nil {
		return ""
	}
	return annotation("@odata.etag", service.ETag(e, rec))
}

// appendEntity writes rec, a row of e, as a JSON object with the fields of
// sel (every field and owned list when nil; id always) and the expansions
// xs attached by service.Query. extra goes first, without braces.
func appendEntity(b []byte, e *schema.Entity, sel []*schema.Field, xs []*odata.Expand, rec ordo.Record, extra string) []byte {
	if sel == nil && len(xs) == 0 {
		return rowjson.AppendRecord(b, e, rec, extra)
	}
	b = append(b, '{')
	n := 0
	sep := func() {
		if n > 0 {
			b = append(b, ',')
		}
		n++
	}
	if extra != "" {
		sep()
		b = append(b, extra...)
	}
	field := func(f *schema.Field) {
		sep()
		b = rowjson.AppendField(b, f, rec)
	}
	if sel == nil {
		for _, f := range e.Fields {
			field(f)
		}
	} else {
		field(e.MustField("id"))
		for _, f := range sel {
			if f.Name != "id" {
				field(f)
			}
		}
	}
	expanded := func(name string) bool {
		for _, x := range xs {
			if x.Nav.Name == name {
				return true
			}
		}
		return false
	}
	if sel == nil {
		for _, l := range e.Lists {
			if expanded(l.Name) {
				continue
			}
			sep()
			b = rowjson.AppendList(b, l, rec)
		}
	}
	for _, x := range xs {
		name := x.Nav.Name
		if !x.Nav.Many {
			// An unset reference is left out: the API never writes null.
			if t, _ := rec[name].(ordo.Record); t != nil {
				sep()
				b = schema.AppendJSONString(b, name)
				b = append(b, ':')
				b = appendEntity(b, x.Nav.Target, x.Select, x.Expand, t, rowETag(x.Nav.Target, x.Select, t))
			}
			continue
		}
		if x.Count {
			sep()
			b = schema.AppendJSONString(b, name+"@odata.count")
			b = append(b, ':')
			c, _ := rec[name+"@odata.count"].(int64)
			b = strconv.AppendInt(b, c, 10)
		}
		sep()
		b = schema.AppendJSONString(b, name)
		b = append(b, ":["...)
		children, _ := rec[name].([]ordo.Record)
		for i, c := range children {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendEntity(b, x.Nav.Target, x.Select, x.Expand, c, rowETag(x.Nav.Target, x.Select, c))
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
