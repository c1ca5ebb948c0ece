package service

import (
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// A write request resolves many rows: every embedded object, x_id and x_code
// of its body (the seed's PUT names sixteen tables). Instead of one query per
// reference, prefetch walks the body once and reads every row it names by id
// or ERP key, of every table, in one statement; lookups during the write are
// then answered from the request's row cache. Rows the request writes are
// put back into the cache, and an entity whose rows a statement changed in
// bulk (a cascade) is dropped from it, so the cache never serves a row older
// than the transaction's own view.

// rowCache holds rows by entity and id, and by entity and ERP key. A nil
// record is a row known not to exist.
type rowCache struct {
	byID  map[*schema.Entity]map[string]ordo.Record
	byKey map[*schema.Entity]map[string]ordo.Record
}

func newRowCache() rowCache {
	return rowCache{byID: map[*schema.Entity]map[string]ordo.Record{}, byKey: map[*schema.Entity]map[string]ordo.Record{}}
}

func (c rowCache) put(e *schema.Entity, field, value string, rec ordo.Record) {
	m := c.byID
	if field != "id" {
		m = c.byKey
	}
	if m[e] == nil {
		m[e] = map[string]ordo.Record{}
	}
	m[e][value] = rec
}

func (c rowCache) get(e *schema.Entity, field, value string) (ordo.Record, bool) {
	m := c.byID
	if field != "id" {
		m = c.byKey
	}
	rec, ok := m[e][value]
	return rec, ok
}

// remember records rec, a row of e as the request just stored it.
func (w *writer) remember(e *schema.Entity, old, rec ordo.Record) {
	if old != nil && e.ERPKey != "" && old.String(e.ERPKey) != rec.String(e.ERPKey) {
		delete(w.rows.byKey[e], old.String(e.ERPKey))
	}
	w.rows.put(e, "id", rec.ID(), rec)
	if e.ERPKey != "" && rec.String(e.ERPKey) != "" {
		w.rows.put(e, e.ERPKey, rec.String(e.ERPKey), rec)
	}
}

// forget drops every cached row of e, after a statement that changed rows
// of e the cache does not know.
func (w *writer) forget(e *schema.Entity) {
	delete(w.rows.byID, e)
	delete(w.rows.byKey, e)
}

// lookup returns the row of e whose field ("id" or e's ERP key) is value,
// or nil, from the cache or else from the database.
func (w *writer) lookup(e *schema.Entity, field, value string) (ordo.Record, error) {
	if rec, ok := w.rows.get(e, field, value); ok {
		return rec, nil
	}
	rec, err := w.tx.Find(w.ctx, e, ordo.Cond{Field: field, Value: value})
	if err != nil {
		return nil, err
	}
	w.rows.put(e, field, value, rec)
	if rec != nil {
		w.remember(e, nil, rec)
	}
	return rec, nil
}

// mustLookup is lookup for a row that must exist (ENotFound otherwise).
func (w *writer) mustLookup(e *schema.Entity, id string) (ordo.Record, error) {
	rec, err := w.lookup(e, "id", id)
	if err == nil && rec == nil {
		err = ordo.Errorf(ordo.ENotFound, "%s %s not found", e.Controller, id)
	}
	return rec, err
}

// wanted are the ids and ERP keys of one entity that a body names.
type wanted struct {
	ids, keys []string
	seen      map[string]bool
}

func (wt *wanted) add(list *[]string, v string) {
	if v == "" || wt.seen[v] {
		return
	}
	wt.seen[v] = true
	*list = append(*list, v)
}

// prefetch reads, in one statement, the rows that body (a body of e) and its
// embedded objects name by id or ERP key, and caches them, found or not.
// Values that do not parse are left to validation.
func (w *writer) prefetch(e *schema.Entity, body map[string]any) error {
	want := map[*schema.Entity]*wanted{}
	var order []*schema.Entity // a fixed order: the same statements every time
	var walk func(e *schema.Entity, body map[string]any, depth int)
	walk = func(e *schema.Entity, body map[string]any, depth int) {
		if depth > maxEmbedDepth {
			return
		}
		for _, ref := range e.Refs {
			if ref.Derived {
				continue
			}
			target := ref.TargetEntity()
			wt := want[target]
			if wt == nil {
				wt = &wanted{seen: map[string]bool{}}
				want[target] = wt
				order = append(order, target)
			}
			if id := parsedString(e, ref.IDField, body[ref.IDField]); !isZeroID(id) {
				wt.add(&wt.ids, id)
			}
			if ref.CodeField != "" && target.ERPKey != "" {
				wt.add(&wt.keys, parsedString(e, ref.CodeField, body[ref.CodeField]))
			}
			obj, ok := body[ref.Embedded].(map[string]any)
			if ref.Embedded == "" || !ok {
				continue
			}
			if id := parsedString(target, "id", obj["id"]); !isZeroID(id) {
				wt.add(&wt.ids, id)
			}
			if target.ERPKey != "" {
				wt.add(&wt.keys, parsedString(target, target.ERPKey, obj[target.ERPKey]))
			}
			walk(target, obj, depth+1)
		}
	}
	walk(e, body, 0)
	var queries []ordo.EntityQuery
	for _, target := range order {
		wt := want[target]
		var anyOf []ordo.Cond
		if len(wt.ids) > 0 {
			anyOf = append(anyOf, ordo.Cond{Field: "id", Value: wt.ids})
		}
		if len(wt.keys) > 0 {
			anyOf = append(anyOf, ordo.Cond{Field: target.ERPKey, Value: wt.keys})
		}
		if anyOf != nil {
			queries = append(queries, ordo.EntityQuery{Entity: target, Query: ordo.Query{AnyOf: anyOf}})
		}
	}
	found, err := w.tx.ListMany(w.ctx, queries)
	if err != nil {
		return err
	}
	for qi, eq := range queries {
		target, wt, rows := eq.Entity, want[eq.Entity], found[qi]
		for _, id := range wt.ids {
			w.rows.put(target, "id", id, nil)
		}
		for _, k := range wt.keys {
			w.rows.put(target, target.ERPKey, k, nil)
		}
		for _, r := range rows {
			w.remember(target, nil, r)
		}
	}
	return nil
}

// parsedString is a body value of a GUID or string field in its stored
// form ("" when absent or invalid).
func parsedString(e *schema.Entity, field string, raw any) string {
	f, ok := e.Field(field)
	if !ok || raw == nil {
		return ""
	}
	v, err := f.Parse(raw)
	if err != nil {
		return ""
	}
	s, _ := v.(string)
	return s
}
