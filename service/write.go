package service

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

type mode int

const (
	modeInsert mode = iota // POST: the row must not exist
	modeUpdate             // PUT/PATCH: the row must exist
	modeUpsert             // an embedded object: insert or update by id, ERP key or x_id
)

// maxEmbedDepth bounds nested embedded objects: the seed nests four levels.
const maxEmbedDepth = 8

// writer carries one request's transaction and what it must finish.
type writer struct {
	s        *Service
	ctx      context.Context
	tx       ordo.Tx
	now      time.Time
	depth    int
	projects map[string]*projectDelta // how the request changes project aggregates
	// rows caches the rows the request looked up or wrote (rowcache.go).
	rows rowCache
	// embedded remembers the embedded objects already resolved in this
	// request: the same object sent again (the seed repeats its sales
	// organisation seven times) resolves once, without touching the database.
	embedded map[string][]resolvedObject
	// technician marks writes made on behalf of the field app (MoveJob, the
	// demo): the workflow applies, but not the "settable through the API" list.
	technician bool
	// importing marks rows written by the import command (Upsert).
	importing bool
	// ifMatch is the If-Match header of the request (empty: none), checked
	// against the addressed row once it is locked.
	ifMatch string
	// touchedOnly: the addressed row was stored unchanged but for its touch
	// fields (resend.go), and touchDateUpdate whether date_update was one.
	touchedOnly, touchDateUpdate bool
	// batch is what the rows of one UpsertMany call share (nil otherwise).
	batch *batchState
}

// fieldErrors collects validation details so that a client learns every
// problem of a body at once.
type fieldErrors []ordo.Detail

func (fe *fieldErrors) add(code, target, format string, args ...any) {
	*fe = append(*fe, ordo.Detail{Code: code, Target: target, Message: fmt.Sprintf(format, args...)})
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	msg := fe[0].Message
	if len(fe) > 1 {
		msg = fmt.Sprintf("%s (and %d more)", msg, len(fe)-1)
	}
	return &ordo.Error{Code: ordo.EInvalid, Message: msg, Details: fe}
}

func newID() string { return uuid.NewString() }

// errParentIDTaken: an embedded object not found by its ERP key would be
// inserted with the parent's x_id, but that id is another row's. The parent's
// resolveRef turns it into a 400 naming its x_id field.
var errParentIDTaken = errors.New("x_id names another row")

func isZeroID(v any) bool { return schema.IsZero(schema.KindGUID, v) }

// save validates body against e and writes it, resolving embedded entities
// depth-first. For modeUpdate key is the URL's id; for modeUpsert it is the
// parent's non-zero x_id ("" when none). path prefixes field names in errors.
func (w *writer) save(e *schema.Entity, body map[string]any, m mode, key, path string) (ordo.Record, error) {
	if w.depth >= maxEmbedDepth {
		return nil, ordo.Errorf(ordo.EInvalid, "%sembedded entities nest deeper than %d levels", path, maxEmbedDepth)
	}
	w.depth++
	defer func() { w.depth-- }()

	changes, err := parseBody(e, body, path)
	if err != nil {
		return nil, err
	}
	old, id, err := w.identify(e, changes, m, key, path)
	if err != nil {
		return nil, err
	}
	delete(changes, "id")
	for _, ref := range e.Refs {
		if !ref.Derived {
			if err := w.resolveRef(ref, body, changes, path); err != nil {
				return nil, err
			}
		}
	}

	rec := ordo.Record{}
	if old != nil {
		for k, v := range old {
			rec[k] = v
		}
	} else {
		for _, f := range e.Fields {
			rec[f.Name] = f.Zero()
		}
		rec["id"] = id
	}
	for k, v := range changes {
		rec[k] = v
	}
	if old == nil {
		if err := w.applyDefaults(e, rec); err != nil {
			return nil, err
		}
	}
	if err := checkRequired(e, rec, path); err != nil {
		return nil, err
	}
	if r := rulesFor(e); r.before != nil {
		if err := r.before(w, e, old, rec, path); err != nil {
			return nil, err
		}
	}
	_, gaveDateUpdate := changes["date_update"]
	if err := w.store(e, old, rec, m, gaveDateUpdate); err != nil {
		return nil, err
	}
	if err := w.saveLists(e, id, body, path); err != nil {
		return nil, err
	}
	if r := rulesFor(e); r.after != nil {
		if err := r.after(w, e, old, rec); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// saveTop saves the entity a request addresses and returns its id.
func (w *writer) saveTop(e *schema.Entity, body map[string]any, m mode, key string) (string, error) {
	if err := w.prefetch(e, body); err != nil {
		return "", err
	}
	rec, err := w.save(e, body, m, key, "")
	if err != nil {
		return "", err
	}
	return rec.ID(), nil
}

// parseBody checks field names and converts values; read-only fields are
// accepted and ignored because clients send back what they read.
func parseBody(e *schema.Entity, body map[string]any, path string) (ordo.Record, error) {
	var errs fieldErrors
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	changes := ordo.Record{}
	for _, k := range keys {
		f, isField := e.Field(k)
		if !isField {
			if _, ok := e.EmbeddedRef(k); ok {
				continue
			}
			if _, ok := e.List(k); ok {
				continue
			}
			errs.add("UnknownField", path+k, "%s%s is not a field of %s", path, k, e.Name)
			continue
		}
		if f.ReadOnly {
			continue
		}
		v, err := f.Parse(body[k])
		if err != nil {
			code := "InvalidValue"
			if _, tooLong := err.(*schema.LengthError); tooLong {
				code = "MaxLength"
			}
			errs.add(code, path+k, "%s%s", path, err.Error())
			continue
		}
		changes[k] = v
	}
	return changes, errs.err()
}

// identify finds the row a body writes (nil for a new one) and its id.
func (w *writer) identify(e *schema.Entity, changes ordo.Record, m mode, key, path string) (ordo.Record, string, error) {
	bodyID, _ := changes["id"].(string)
	if isZeroID(bodyID) {
		bodyID = ""
	}
	switch m {
	case modeUpdate:
		if bodyID != "" && bodyID != key {
			return nil, "", ordo.FieldError("KeyMismatch", path+"id", "id %s in the body differs from the key %s in the URL", bodyID, key)
		}
		old, err := w.tx.GetForUpdate(w.ctx, e, key)
		if err == nil {
			err = w.checkIfMatch(e, old)
		}
		return old, key, err
	case modeInsert:
		if bodyID == "" {
			return nil, newID(), nil
		}
		old, err := w.lookup(e, "id", bodyID)
		if err != nil {
			return nil, "", err
		}
		if old != nil {
			return nil, "", ordo.Errorf(ordo.EConflict, "%s %s already exists; use PUT to update it", e.Controller, bodyID)
		}
		return nil, bodyID, nil
	}
	// Embedded: by its own id, else by its ERP key, else by the parent's x_id.
	var old ordo.Record
	var err error
	erpKey := ""
	if e.ERPKey != "" {
		erpKey, _ = changes[e.ERPKey].(string)
	}
	find := func(c ordo.Cond) (ordo.Record, error) {
		if !rulesFor(e).lockExisting {
			return w.lookup(e, c.Field, c.Value.(string))
		}
		if rec, ok := w.lockedRow(e, c.Field, c.Value.(string)); ok {
			return rec, nil
		}
		rows, err := w.tx.List(w.ctx, e, ordo.Query{Conds: []ordo.Cond{c}, Limit: 1, ForUpdate: true})
		if err != nil || len(rows) == 0 {
			return nil, err
		}
		return rows[0], nil
	}
	switch {
	case bodyID != "":
		old, err = find(ordo.Cond{Field: "id", Value: bodyID})
	case erpKey != "":
		old, err = find(ordo.Cond{Field: e.ERPKey, Value: erpKey})
	case key != "":
		old, err = find(ordo.Cond{Field: "id", Value: key})
	default:
		return nil, "", ordo.Errorf(ordo.EUnresolved,
			"embedded %s at %q has no id, no %s and no %s_id, so it could not be found again",
			e.Name, strings.TrimSuffix(path, "."), erpKeyName(e), e.Name)
	}
	if err != nil {
		return nil, "", err
	}
	if old != nil {
		return old, old.ID(), nil
	}
	if bodyID != "" {
		return nil, bodyID, nil
	}
	if key != "" && erpKey != "" {
		// Not found by its ERP key: the parent's x_id may only become the new
		// row's id when it does not already name another row.
		other, err := w.lookup(e, "id", key)
		if err != nil {
			return nil, "", err
		}
		if other != nil {
			return nil, "", errParentIDTaken
		}
	}
	if key != "" {
		return nil, key, nil
	}
	return nil, newID(), nil
}

func erpKeyName(e *schema.Entity) string {
	if e.ERPKey == "" {
		return "ERP key"
	}
	return e.ERPKey
}

// resolveRef applies contract section 4: embedded object, else x_id, else x_code.
func (w *writer) resolveRef(ref *schema.Reference, body map[string]any, changes ordo.Record, path string) error {
	target := ref.TargetEntity()
	givenID, hasID := changes[ref.IDField].(string)
	if isZeroID(givenID) {
		givenID = ""
	}
	var code string
	hasCode := false
	if ref.CodeField != "" {
		code, hasCode = changes[ref.CodeField].(string)
	}
	var obj map[string]any
	if ref.Embedded != "" {
		if raw, ok := body[ref.Embedded]; ok && raw != nil {
			o, isObj := raw.(map[string]any)
			if !isObj {
				return ordo.FieldError("InvalidValue", path+ref.Embedded, "%s%s must be an object", path, ref.Embedded)
			}
			obj = o
		}
	}
	var resolved ordo.Record
	var err error
	switch {
	case obj != nil:
		// Candidates share the target, the x_id and the object's own id and
		// ERP key; only those are compared whole.
		key := target.Name + "\x00" + givenID + "\x00" + fmt.Sprint(obj["id"]) + "\x00" + fmt.Sprint(obj[target.ERPKey])
		var saved ordo.Record
		seen := false
		for _, r := range w.embedded[key] {
			if seen = sameJSON(r.body, obj); seen {
				saved = r.saved
				break
			}
		}
		if !seen {
			saved, err = w.save(target, obj, modeUpsert, givenID, path+ref.Embedded+".")
		}
		if errors.Is(err, errParentIDTaken) {
			return ordo.FieldError("ReferenceMismatch", path+ref.IDField, "%s%s %s names another %s than the embedded %s",
				path, ref.IDField, givenID, target.Name, ref.Embedded)
		}
		if err != nil {
			return err
		}
		if givenID != "" && saved.ID() != givenID {
			return ordo.FieldError("ReferenceMismatch", path+ref.IDField,
				"%s%s %s names another %s than the embedded %s (%s)", path, ref.IDField, givenID, target.Name, ref.Embedded, saved.ID())
		}
		if !seen {
			w.embedded[key] = append(w.embedded[key], resolvedObject{obj, saved})
		}
		resolved = saved
	case givenID != "":
		if resolved, err = w.lookup(target, "id", givenID); err != nil {
			return err
		}
		if resolved == nil {
			return ordo.Errorf(ordo.EUnresolved, "%s%s: no %s with id %s", path, ref.IDField, target.Name, givenID)
		}
	case code != "":
		if resolved, err = w.lookup(target, target.ERPKey, code); err != nil {
			return err
		}
		if resolved == nil {
			return ordo.Errorf(ordo.EUnresolved, "%s%s: no %s with %s %q", path, ref.CodeField, target.Name, target.ERPKey, code)
		}
	case hasID || hasCode: // explicitly cleared
		changes[ref.IDField] = schema.ZeroGUID
		if ref.CodeField != "" {
			changes[ref.CodeField] = ""
		}
		return nil
	default:
		return nil
	}
	if code != "" && resolved.String(target.ERPKey) != code {
		return ordo.FieldError("ReferenceMismatch", path+ref.CodeField, "%s%s %q does not match the %s of the %s it resolves to (%q)",
			path, ref.CodeField, code, target.ERPKey, target.Name, resolved.String(target.ERPKey))
	}
	setRef(ref, changes, resolved)
	return nil
}

// setRef points a reference at row, keeping the denormalised code in step.
func setRef(ref *schema.Reference, rec, row ordo.Record) {
	rec[ref.IDField] = row.ID()
	if ref.CodeField != "" {
		rec[ref.CodeField] = row.String(ref.TargetEntity().ERPKey)
	}
}

// applyDefaults fills omitted references that have an is_default row and the
// server-managed fields of a new row.
func (w *writer) applyDefaults(e *schema.Entity, rec ordo.Record) error {
	for _, ref := range e.Refs {
		if !ref.UseDefault || !isZeroID(rec[ref.IDField]) {
			continue
		}
		def, err := w.defaultRow(ref.TargetEntity())
		if err != nil {
			return err
		}
		if def != nil {
			setRef(ref, rec, def)
		}
	}
	if _, ok := e.Field("date_create"); ok && schema.IsZero(schema.KindDate, rec["date_create"]) {
		rec["date_create"] = w.now
	}
	if _, ok := e.Field("date_update"); ok && schema.IsZero(schema.KindDate, rec["date_update"]) {
		rec["date_update"] = w.now
	}
	if e.HasID2 && rec.Int("id2") == 0 {
		n, err := w.nextID2(e)
		if err != nil {
			return err
		}
		rec["id2"] = n
	}
	return nil
}

func checkRequired(e *schema.Entity, rec ordo.Record, path string) error {
	var errs fieldErrors
	for _, f := range e.Fields {
		if f.Required && schema.IsZero(f.Kind, rec[f.Name]) {
			errs.add("Required", path+f.Name, "%s%s is required", path, f.Name)
		}
	}
	for _, ref := range e.Refs {
		if ref.Required && isZeroID(rec[ref.IDField]) {
			errs.add("Required", path+ref.IDField, "%s%s is required: give %s", path, ref.Name, refForms(ref))
		}
	}
	return errs.err()
}

func refForms(ref *schema.Reference) string {
	forms := []string{ref.IDField}
	if ref.CodeField != "" {
		forms = append(forms, ref.CodeField)
	}
	if ref.Embedded != "" {
		forms = append(forms, ref.Embedded)
	}
	if len(forms) == 1 {
		return forms[0]
	}
	return strings.Join(forms[:len(forms)-1], ", ") + " or " + forms[len(forms)-1]
}

// store inserts rec or updates what differs from old. An embedded object
// that changes nothing writes nothing, so re-sending a body is idempotent and
// does not move delta-sync watermarks.
func (w *writer) store(e *schema.Entity, old, rec ordo.Record, m mode, gaveDateUpdate bool) error {
	if old == nil {
		rec["modified_dateutc"] = w.now
		if err := w.tx.Insert(w.ctx, e, rec); err != nil {
			return err
		}
		w.remember(e, nil, rec)
		return nil
	}
	diff := ordo.Record{}
	for _, f := range e.Fields {
		if !schema.Equal(f.Kind, old[f.Name], rec[f.Name]) {
			diff[f.Name] = rec[f.Name]
		}
	}
	if len(diff) == 0 && m == modeUpsert {
		return nil
	}
	if len(diff) == 0 && w.depth == 1 {
		w.touchedOnly = true // the addressed row changes by its touch fields only
		w.touchDateUpdate = !gaveDateUpdate
	}
	touchFields(e, rec, diff, !gaveDateUpdate, w.now)
	if err := w.tx.Update(w.ctx, e, rec.ID(), diff); err != nil {
		return err
	}
	rec[ordo.ETagKey] = diff[ordo.ETagKey]
	w.remember(e, old, rec)
	if e.ERPKey != "" {
		if _, changed := diff[e.ERPKey]; changed {
			return w.cascadeCode(e, rec)
		}
	}
	return nil
}

// cascadeCode keeps the denormalised x_code columns of referencing rows equal
// to the ERP key of the row they reference.
func (w *writer) cascadeCode(e *schema.Entity, rec ordo.Record) error {
	for _, ref := range w.s.reg.ReferencesTo(e) {
		if ref.CodeField == "" {
			continue
		}
		n, err := w.tx.UpdateWhere(w.ctx, ref.Owner,
			ordo.Record{ref.CodeField: rec.String(e.ERPKey), "modified_dateutc": w.now},
			ordo.Cond{Field: ref.IDField, Value: rec.ID()})
		if err != nil {
			return err
		}
		if n > 0 {
			w.forget(ref.Owner)
		}
	}
	return nil
}
