package service

import (
	"fmt"
	"sort"

	"github.com/ordo-fsm/ordo/schema"
)

// validateTree checks a whole request body against the registry before any
// of it is resolved or written, so that one answer lists every problem of
// the body, top level and nested, each with its path ("project.name",
// "translations[1].label"): unknown properties, values of the wrong kind or
// length, refused text, embedded objects that are not objects, lists that
// are not arrays of objects.
//
// Required fields are added to that list where the body alone decides them:
// the top level of a POST and the items of an owned list (always new rows).
// They are only added when the body has other problems too; a body whose
// only fault is a missing field is reported by the write itself, after
// references resolved, as before. An embedded object may name an existing
// row, so its required fields are checked when it is resolved.
func validateTree(e *schema.Entity, body map[string]any, m mode) error {
	var v treeValidation
	v.object(e, body, "", 0)
	if len(v.errs) == 0 {
		return nil
	}
	if m == modeInsert {
		requiredInBody(&v.errs, e, body, "", nil)
	}
	errs := append(v.errs, v.required...)
	sortDetails(errs)
	return errs.err()
}

// treeValidation collects the problems of a body; required fields of list
// items are kept apart, as they only count alongside other problems.
type treeValidation struct {
	errs, required fieldErrors
}

func (v *treeValidation) object(e *schema.Entity, body map[string]any, path string, depth int) {
	errs := &v.errs
	if depth >= maxEmbedDepth {
		return // save reports the depth
	}
	for name, raw := range body {
		if f, isField := e.Field(name); isField {
			// parseBody's checks, without building the record.
			if f.ReadOnly {
				continue
			}
			if _, err := f.Parse(raw); err != nil {
				code := "InvalidValue"
				if _, tooLong := err.(*schema.LengthError); tooLong {
					code = "MaxLength"
				}
				errs.add(code, path+name, "%s%s", path, err.Error())
			}
			continue
		}
		if raw == nil {
			if _, ok := e.EmbeddedRef(name); !ok {
				if _, ok := e.List(name); !ok {
					errs.add("UnknownField", path+name, "%s%s is not a field of %s", path, name, e.Name)
				}
			}
			continue
		}
		if ref, ok := e.EmbeddedRef(name); ok {
			obj, isObj := raw.(map[string]any)
			if !isObj {
				errs.add("InvalidValue", path+name, "%s%s must be an object", path, name)
				continue
			}
			v.object(ref.TargetEntity(), obj, path+name+".", depth+1)
			continue
		}
		l, ok := e.List(name)
		if !ok {
			errs.add("UnknownField", path+name, "%s%s is not a field of %s", path, name, e.Name)
			continue
		}
		items, isList := raw.([]any)
		if !isList {
			errs.add("InvalidValue", path+name, "%s%s must be an array", path, name)
			continue
		}
		for i, it := range items {
			itemPath := fmt.Sprintf("%s%s[%d]", path, name, i)
			obj, isObj := it.(map[string]any)
			if !isObj {
				errs.add("InvalidValue", itemPath, "%s must be an object", itemPath)
				continue
			}
			v.object(l.Child, obj, itemPath+".", depth+1)
			requiredInBody(&v.required, l.Child, obj, itemPath+".", l.Ref)
		}
	}
}

// requiredInBody adds the required fields and references a new row made
// from body would lack. parent is the reference the server sets itself (a
// list item's owner).
func requiredInBody(errs *fieldErrors, e *schema.Entity, body map[string]any, path string, parent *schema.Reference) {
	given := func(name string, k schema.Kind) bool {
		v, ok := body[name]
		if !ok || v == nil {
			return false
		}
		if s, isString := v.(string); isString && (k == schema.KindString || k == schema.KindGUID || k == schema.KindDate) {
			return !schema.IsZero(k, s) && s != ""
		}
		return true
	}
	for _, f := range e.Fields {
		if !f.Required || f.ReadOnly || f.Default != nil || f.RefID != nil || f.RefCode != nil || given(f.Name, f.Kind) {
			continue
		}
		errs.add("Required", path+f.Name, "%s%s is required", path, f.Name)
	}
	for _, ref := range e.Refs {
		if !ref.Required || ref.UseDefault || ref.Derived || ref == parent {
			continue
		}
		if given(ref.IDField, schema.KindGUID) || (ref.CodeField != "" && given(ref.CodeField, schema.KindString)) ||
			(ref.Embedded != "" && body[ref.Embedded] != nil) {
			continue
		}
		errs.add("Required", path+ref.IDField, "%s%s is required: give %s", path, ref.Name, refForms(ref))
	}
}

// sortDetails orders details by path, so that answers are stable; missing
// fields come last, so the message leads with what the client sent wrong.
func sortDetails(errs fieldErrors) {
	sort.SliceStable(errs, func(i, j int) bool {
		ri, rj := errs[i].Code == "Required", errs[j].Code == "Required"
		if ri != rj {
			return rj
		}
		return errs[i].Target < errs[j].Target
	})
}
