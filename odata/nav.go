package odata

import (
	"sort"

	"github.com/ordo-fsm/ordo/schema"
)

// Navigation is a navigation property of an entity.
//
// A to-one navigation (Many false) follows one of the entity's own
// references: it is named by the reference's embedded name when it has one
// ("_parent_job"), else by the reference's name ("job_status"). Its rows are
// Target rows whose id equals the entity's Ref.IDField column.
//
// A to-many navigation (Many true) is a collection or an owned list of the
// entity: Target rows whose Ref.IDField column equals the entity's id.
type Navigation struct {
	Name   string
	Many   bool
	Ref    *schema.Reference // to-one: the entity's reference; to-many: the child's reference to the entity
	Target *schema.Entity
	Owned  bool // an owned list (written inside the parent's body)
}

// NavigationOf returns the navigation property of e called name.
func NavigationOf(e *schema.Entity, name string) (*Navigation, bool) {
	for _, r := range e.Refs {
		if navName(r) == name {
			return &Navigation{Name: name, Ref: r, Target: r.TargetEntity()}, true
		}
	}
	for _, c := range e.Collections {
		if c.Name == name {
			return &Navigation{Name: name, Many: true, Ref: c.Ref, Target: c.Child}, true
		}
	}
	for _, l := range e.Lists {
		if l.Name == name {
			return &Navigation{Name: name, Many: true, Ref: l.Ref, Target: l.Child, Owned: true}, true
		}
	}
	return nil, false
}

// Navigations lists e's navigation properties: to-one first, in declaration
// order, then to-many.
func Navigations(e *schema.Entity) []*Navigation {
	var out []*Navigation
	for _, r := range e.Refs {
		out = append(out, &Navigation{Name: navName(r), Ref: r, Target: r.TargetEntity()})
	}
	for _, c := range e.Collections {
		out = append(out, &Navigation{Name: c.Name, Many: true, Ref: c.Ref, Target: c.Child})
	}
	for _, l := range e.Lists {
		out = append(out, &Navigation{Name: l.Name, Many: true, Ref: l.Ref, Target: l.Child, Owned: true})
	}
	return out
}

func navName(r *schema.Reference) string {
	if r.Embedded != "" {
		return r.Embedded
	}
	return r.Name
}

// suggest returns the name among e's fields and navigations closest to
// name, for "did you mean" hints; "" when none is close.
func suggest(e *schema.Entity, name string, fields, navs bool) string {
	var names []string
	if fields {
		for _, f := range e.Fields {
			names = append(names, f.Name)
		}
	}
	if navs {
		for _, n := range Navigations(e) {
			names = append(names, n.Name)
		}
	}
	sort.Strings(names)
	best, bestD := "", len(name)/3+1
	for _, n := range names {
		if d := editDistance(name, n, bestD); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance of a and b (a swap
// of two neighbouring letters counts as one edit), or limit when it is at
// least limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	rows := make([][]int, len(a)+1)
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return min(rows[len(a)][len(b)], limit)
}
