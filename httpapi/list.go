package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// handleList serves a page. $top and $skip page by hand; without them the
// server pages at maxPageSize and links the next page.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, e *schema.Entity) {
	params := r.URL.Query()
	for k := range params {
		switch k {
		case "$top", "$skip":
		default:
			if strings.HasPrefix(k, "$") {
				s.writeError(w, r, ordo.Errorf(ordo.EInvalid, "query option %s is not supported", k))
				return
			}
		}
	}
	top, err := intParam(params, "$top", -1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	skip, err := intParam(params, "$skip", 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pageSize := maxPageSize
	if top >= 0 && top < pageSize {
		pageSize = top
	}
	page, err := s.svc.List(r.Context(), principal(r.Context()).TenantID, e, ordo.Query{
		OrderBy: []ordo.Order{{Field: "id"}}, Limit: pageSize + 1, Offset: skip,
	}, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rows := page.Rows
	more := len(rows) > pageSize
	if more {
		rows = rows[:pageSize]
	}
	b := []byte(`{` + annotation("@odata.context", contextURL(r, e, false)) + `,"value":[`)
	for i, rec := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRecord(b, e, rec, "")
	}
	b = append(b, ']')
	if more && (top < 0 || top > pageSize) {
		next := url.Values{}
		for k, v := range params {
			next[k] = v
		}
		next.Set("$skip", strconv.Itoa(skip+pageSize))
		if top > 0 {
			next.Set("$top", strconv.Itoa(top-pageSize))
		}
		b = append(b, ',')
		b = append(b, annotation("@odata.nextLink", baseURL(r)+"/api/"+e.Controller+"?"+next.Encode())...)
	}
	b = append(b, '}')
	s.writeJSON(w, r, http.StatusOK, b)
}

func intParam(params url.Values, name string, def int) (int, error) {
	v := params.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, ordo.Errorf(ordo.EInvalid, "%s must be a non-negative integer, got %q", name, v)
	}
	return n, nil
}
