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
	w.keep(e, old, rec)
	if w.batch != nil {
		w.batch.remembered(e, rec)
	}
}

// keep caches rec, a row of e (old: the same row as cached before).
func (w *writer) keep(e *schema.Entity, old, rec ordo.Record) {
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
	if w.batch != nil {
		w.batch.forgot(e)
	}
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
		w.keep(e, nil, rec)
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

// wantSet collects, entity by entity, the ids and ERP keys bodies name.
type wantSet struct {
	want  map[*schema.Entity]*wanted
	order []*schema.Entity // a fixed order: the same statements every time
}

func newWantSet() *wantSet { return &wantSet{want: map[*schema.Entity]*wanted{}} }

func (ws *wantSet) of(e *schema.Entity) *wanted {
	wt := ws.want[e]
	if wt == nil {
		wt = &wanted{seen: map[string]bool{}}
		ws.want[e] = wt
		ws.order = append(ws.order, e)
	}
	return wt
}

// walk adds what body (a body of e) and its embedded objects name through
// their references. Values that do not parse are left to validation.
func (ws *wantSet) walk(e *schema.Entity, body map[string]any, depth int) {
	if depth > maxEmbedDepth {
		return
	}
	for _, ref := range e.Refs {
		if ref.Derived {
			continue
		}
		target := ref.TargetEntity()
		wt := ws.of(target)
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
		ws.walk(target, obj, depth+1)
	}
}

// conds is the condition reading what wt wants of e (nil: nothing); pad
// repeats the last value of each list up to a power of two, so that
// batches of any size share a few statement texts.
func (wt *wanted) conds(e *schema.Entity, pad bool) []ordo.Cond {
	var anyOf []ordo.Cond
	if len(wt.ids) > 0 {
		anyOf = append(anyOf, ordo.Cond{Field: "id", Value: padded(wt.ids, pad)})
	}
	if len(wt.keys) > 0 {
		anyOf = append(anyOf, ordo.Cond{Field: e.ERPKey, Value: padded(wt.keys, pad)})
	}
	return anyOf
}

func padded(list []string, pad bool) []string {
	if !pad || len(list) < 2 {
		return list
	}
	n := 2
	for n < len(list) {
		n *= 2
	}
	out := make([]string, len(list), n)
	copy(out, list)
	for len(out) < n {
		out = append(out, list[len(list)-1])
	}
	return out
}

// cache records the rows found for wt's values, and the values not found.
func (w *writer) cache(e *schema.Entity, wt *wanted, rows []ordo.Record) {
	for _, id := range wt.ids {
		w.rows.put(e, "id", id, nil)
	}
	for _, k := range wt.keys {
		w.rows.put(e, e.ERPKey, k, nil)
	}
	for _, r := range rows {
		w.keep(e, nil, r)
	}
}

// fetch reads every row ws wants in one statement and caches them, found
// or not.
func (w *writer) fetch(ws *wantSet, pad bool) error {
	var queries []ordo.EntityQuery
	for _, target := range ws.order {
		if anyOf := ws.want[target].conds(target, pad); anyOf != nil {
			queries = append(queries, ordo.EntityQuery{Entity: target, Query: ordo.Query{AnyOf: anyOf}})
		}
	}
	found, err := w.tx.ListMany(w.ctx, queries)
	if err != nil {
		return err
	}
	for qi, eq := range queries {
		w.cache(eq.Entity, ws.want[eq.Entity], found[qi])
	}
	return nil
}

// prefetch reads, in one statement, the rows that body (a body of e) and its
// embedded objects name by id or ERP key, and caches them, found or not.
func (w *writer) prefetch(e *schema.Entity, body map[string]any) error {
	ws := newWantSet()
	ws.walk(e, body, 0)
	return w.fetch(ws, false)
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
