package service

import (
	"fmt"
	"maps"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// Owned lists (an equipment model's translations) are written with their
// owner, as part of its body.

// saveLists replaces owned lists sent in the body (an equipment model's
// translations); an identical list writes nothing.
func (w *writer) saveLists(e *schema.Entity, id string, body map[string]any, path string) error {
	for _, l := range e.Lists {
		raw, ok := body[l.Name]
		if !ok || raw == nil {
			continue
		}
		items, isList := raw.([]any)
		if !isList {
			return ordo.FieldError("InvalidValue", path+l.Name, "%s%s must be an array", path, l.Name)
		}
		parsed := make([]ordo.Record, len(items))
		for i, it := range items {
			obj, isObj := it.(map[string]any)
			itemPath := fmt.Sprintf("%s%s[%d].", path, l.Name, i)
			if !isObj {
				return ordo.FieldError("InvalidValue", strings.TrimSuffix(itemPath, "."), "%s must be an object", strings.TrimSuffix(itemPath, "."))
			}
			rec, err := parseBody(l.Child, obj, itemPath)
			if err != nil {
				return err
			}
			parsed[i] = rec
		}
		items, parsed, err := dedupeList(l, items, parsed, path)
		if err != nil {
			return err
		}
		existing, err := w.tx.List(w.ctx, l.Child, ordo.Query{Conds: []ordo.Cond{{Field: l.Ref.IDField, Value: id}}})
		if err != nil {
			return err
		}
		if sameList(l.Child, existing, parsed) {
			continue
		}
		if _, err := w.tx.DeleteWhere(w.ctx, l.Child, ordo.Cond{Field: l.Ref.IDField, Value: id}); err != nil {
			return err
		}
		// The list is part of the owner's representation: the owner gets a
		// new ETag and shows in delta syncs.
		touched := ordo.Record{"modified_dateutc": w.now}
		if err := w.tx.Update(w.ctx, e, id, touched); err != nil {
			return err
		}
		if cached, ok := w.rows.get(e, "id", id); ok && cached != nil {
			rec := maps.Clone(cached)
			rec["modified_dateutc"], rec[ordo.ETagKey] = w.now, touched[ordo.ETagKey]
			w.remember(e, cached, rec)
		}
		for i, obj := range items {
			child := map[string]any{}
			for k, v := range obj.(map[string]any) {
				child[k] = v
			}
			child[l.Ref.IDField] = id
			if _, err := w.save(l.Child, child, modeInsert, "", fmt.Sprintf("%s%s[%d].", path, l.Name, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// dedupeList drops repeated items of a list (the seed's own sample repeats a
// translation); two items with the same unique key but different values are
// an error, since one would silently lose.
func dedupeList(l *schema.OwnedList, items []any, parsed []ordo.Record, path string) ([]any, []ordo.Record, error) {
	if len(l.Child.Uniques) == 0 {
		return items, parsed, nil
	}
	var keyFields []string
	for _, f := range l.Child.Uniques[0] {
		if f != l.Ref.IDField {
			keyFields = append(keyFields, f)
		}
	}
	seen := map[string]int{}
	var outItems []any
	var outParsed []ordo.Record
	for i, rec := range parsed {
		var k strings.Builder
		for _, f := range keyFields {
			k.WriteString(rec.String(f) + "\x00")
		}
		if j, dup := seen[k.String()]; dup {
			if !sameList(l.Child, []ordo.Record{outParsed[j]}, []ordo.Record{rec}) {
				return nil, nil, ordo.FieldError("Duplicate", fmt.Sprintf("%s%s[%d]", path, l.Name, i),
					"%s%s[%d] repeats %s with another value", path, l.Name, i, strings.Join(keyFields, "/"))
			}
			continue
		}
		seen[k.String()] = len(outParsed)
		outItems = append(outItems, items[i])
		outParsed = append(outParsed, rec)
	}
	return outItems, outParsed, nil
}

// sameList compares stored children with parsed ones on their writable fields.
func sameList(e *schema.Entity, existing, parsed []ordo.Record) bool {
	if len(existing) != len(parsed) {
		return false
	}
	key := func(r ordo.Record) string {
		var b strings.Builder
		for _, f := range e.Fields {
			if f.ReadOnly || f.RefID != nil || f.RefCode != nil || f.Name == "id" {
				continue
			}
			v, ok := r[f.Name]
			if !ok {
				v = f.Zero()
			}
			b.WriteString(schema.FormatValue(f.Kind, v) + "\x00")
		}
		return b.String()
	}
	count := map[string]int{}
	for _, r := range existing {
		count[key(r)]++
	}
	for _, r := range parsed {
		count[key(r)]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}
