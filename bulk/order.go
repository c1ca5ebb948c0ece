package bulk

import "github.com/ordo-fsm/ordo/schema"

// DependencyOrder lists the entities of reg so that every entity comes
// after the entities it references (self-references aside): the order in
// which exported files import without unresolved references.
func DependencyOrder(reg *schema.Registry) []*schema.Entity {
	var out []*schema.Entity
	done := map[*schema.Entity]bool{}
	var visit func(e *schema.Entity)
	visit = func(e *schema.Entity) {
		if done[e] {
			return
		}
		done[e] = true // marked first: a cycle is broken where it is met
		for _, ref := range e.Refs {
			if t := ref.TargetEntity(); t != nil && t != e && !ref.Derived {
				visit(t)
			}
		}
		out = append(out, e)
	}
	for _, e := range reg.Entities {
		visit(e)
	}
	return out
}
