package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/schema"
)

// handleApply answers a list request with $apply: the aggregated rows, a
// grouping property through navigations nested as OData writes it
// ({"project":{"company":{"code":"C1"}}}), aggregates under their aliases.
// Pages hold maxPageSize rows (less with $top or odata.maxpagesize); the
// nextLink continues with $skip, the result being ordered by its grouping
// properties.
func (s *Server) handleApply(w http.ResponseWriter, r *http.Request, e *schema.Entity, rq *rawQuery, q *odata.Query) {
	if rq.skipToken != "" {
		s.writeError(w, r, ordo.Errorf(ordo.EInvalid, "$skiptoken: a $apply result is paged with $skip; follow its @odata.nextLink"))
		return
	}
	size, applied := pageSize(r, q)
	page, err := s.svc.Apply(r.Context(), principal(r.Context()).TenantID, q, size, q.Skip, q.Count)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if applied != "" {
		w.Header().Set("Preference-Applied", applied)
	}
	cols := q.Apply.Columns()
	tree := applyTree(cols)
	b := []byte(`{` + annotation("@odata.context", contextURL(r, e, false)+"("+tree.contextList()+")"))
	if q.Count {
		b = append(b, `,"@odata.count":`...)
		b = strconv.AppendInt(b, page.Count, 10)
	}
	b = append(b, `,"value":[`...)
	for i, row := range page.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = tree.appendRow(b, cols, row)
	}
	b = append(b, ']')
	if page.More && (!q.HasTop || q.Top > len(page.Rows)) {
		var parts []string
		for _, p := range rq.pairs {
			if p.name != "$top" && p.name != "$skip" {
				parts = append(parts, p.raw)
			}
		}
		if rq.hasFormat {
			parts = append(parts, "$format="+url.QueryEscape(rq.format))
		}
		if q.HasTop {
			parts = append(parts, "$top="+strconv.Itoa(q.Top-len(page.Rows)))
		}
		parts = append(parts, "$skip="+strconv.Itoa(q.Skip+len(page.Rows)))
		b = append(b, ',')
		b = append(b, annotation("@odata.nextLink", baseURL(r)+r.URL.EscapedPath()+"?"+strings.Join(parts, "&"))...)
	}
	b = append(b, '}')
	s.writeJSON(w, r, http.StatusOK, b)
}

// applyNode is a member of a result row: a column (col >= 0) or an object
// holding the members of the grouping paths that go through it.
type applyNode struct {
	name     string
	col      int
	children []*applyNode
}

// applyTree arranges the result columns as the members of a row.
func applyTree(cols []odata.ApplyColumn) *applyNode {
	root := &applyNode{col: -1}
	for i, c := range cols {
		cur := root
		segs := strings.Split(c.Name, "/")
		for _, s := range segs[:len(segs)-1] {
			var next *applyNode
			for _, ch := range cur.children {
				if ch.name == s && ch.col < 0 {
					next = ch
				}
			}
			if next == nil {
				next = &applyNode{name: s, col: -1}
				cur.children = append(cur.children, next)
			}
			cur = next
		}
		cur.children = append(cur.children, &applyNode{name: segs[len(segs)-1], col: i})
	}
	return root
}

// contextList is the context URL's list of the result's members:
// job_status_code,project(company(code)),jobs.
func (n *applyNode) contextList() string {
	parts := make([]string, len(n.children))
	for i, ch := range n.children {
		parts[i] = ch.name
		if ch.col < 0 {
			parts[i] += "(" + ch.contextList() + ")"
		}
	}
	return strings.Join(parts, ",")
}

// appendRow writes one result row as a JSON object; a NULL aggregate (an
// average, minimum or maximum of no rows) is left out, as the API writes no nulls.
func (n *applyNode) appendRow(b []byte, cols []odata.ApplyColumn, row []any) []byte {
	b = append(b, '{')
	first := true
	for _, ch := range n.children {
		if ch.col >= 0 && row[ch.col] == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = schema.AppendJSONString(b, ch.name)
		b = append(b, ':')
		if ch.col < 0 {
			b = ch.appendRow(b, cols, row)
			continue
		}
		b = schema.AppendJSON(b, cols[ch.col].Kind, row[ch.col])
	}
	return append(b, '}')
}
