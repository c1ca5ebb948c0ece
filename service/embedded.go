package service

import (
	"encoding/json"

	"github.com/ordo-fsm/ordo"
)

// resolvedObject is an embedded object a request already resolved, and the
// row it resolved to: the same object sent again (the seed repeats its sales
// organisation seven times) resolves once, without touching the database.
type resolvedObject struct {
	body  map[string]any
	saved ordo.Record
}

// sameJSON reports whether two decoded JSON values are equal.
func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false // bodies come from encoding/json: no other type reaches here
}
