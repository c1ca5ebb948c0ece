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

// suggest returns the name among e's fields and navigations (fields only when
// fieldsOnly) closest to name, for "did you mean" hints; "" when none is close.
func suggest(e *schema.Entity, name string, fieldsOnly bool) string {
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Name)
	}
	if !fieldsOnly {
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

// editDistance is the Levenshtein distance of a and b, or limit when it is at
// least limit (so names of very different lengths are not compared for nothing).
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c = 1 + min(prev[j-1], prev[j], cur[j-1])
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
