package schema

import (
	"fmt"
	"sort"
	"strings"
)

// Reference is a to-one link from one entity to another. A client may give it
// three ways: the GUID (IDField), the target's ERP key (CodeField) or an
// embedded object (Embedded). Both IDField and CodeField are stored columns;
// the code column is kept equal to the target's ERP key by the server.
type Reference struct {
	Name      string // the reference's own name, e.g. "job_type", "suggested_user", "_parent"
	IDField   string // e.g. "job_type_id"
	CodeField string // e.g. "job_type_code"; "" when the form does not exist
	Embedded  string // e.g. "job_type", "_parent_job"; "" when the form does not exist
	Target    string // name of the referenced entity

	Required   bool // an optionally-required group: one form must be given
	UseDefault bool // on insert, an omitted reference takes the target's is_default row
	Derived    bool // computed by the server (a job's company): accepted and ignored
	Cascade    bool // deleting the target deletes this row too; otherwise the target's delete is refused

	// Collection names the to-many navigation this reference gives its target
	// (e.g. job_planning.jobs gives jobs a "job_planning" collection); "" for none.
	Collection string

	Owner  *Entity // the entity holding the reference
	target *Entity
}

// TargetEntity is the referenced entity.
func (r *Reference) TargetEntity() *Entity { return r.target }

// Collection is a to-many navigation: the rows of Child whose Ref points here.
type Collection struct {
	Name  string
	Child *Entity
	Ref   *Reference
}

// OwnedList is a list of child rows sent and returned inside the parent's body
// (an equipment model's translations). Writing the list replaces the children.
type OwnedList struct {
	Name  string
	Child *Entity
	Ref   *Reference // the child's reference to the parent
}

// Entity describes one resource of the API.
type Entity struct {
	Name        string // snake_case, e.g. "job_type"
	Controller  string // PascalCase, e.g. "JobType"
	Table       string
	Description string
	ERPKey      string // "code", "reference_back_office" or ""
	Deletable   bool   // false: archive-only, DELETE answers 405
	HasID2      bool   // carries a per-tenant increasing id2

	Fields      []*Field
	Refs        []*Reference
	Collections []*Collection
	Lists       []*OwnedList
	// Uniques lists extra multi-column unique constraints (per tenant).
	Uniques [][]string
	// Indexes lists extra multi-column indexes (per tenant), e.g. one that
	// covers a hot range query.
	Indexes [][]string

	fields   map[string]*Field
	embedded map[string]*Reference
	lists    map[string]*OwnedList
}

// Field returns the named field.
func (e *Entity) Field(name string) (*Field, bool) {
	f, ok := e.fields[name]
	return f, ok
}

// MustField returns the named field or panics: for names fixed in code.
func (e *Entity) MustField(name string) *Field {
	f, ok := e.fields[name]
	if !ok {
		panic(fmt.Sprintf("schema: %s has no field %s", e.Name, name))
	}
	return f
}

// EmbeddedRef returns the reference whose embedded form is called name.
func (e *Entity) EmbeddedRef(name string) (*Reference, bool) {
	r, ok := e.embedded[name]
	return r, ok
}

// Ref returns the reference with the given name.
func (e *Entity) Ref(name string) *Reference {
	for _, r := range e.Refs {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// List returns the owned list called name.
func (e *Entity) List(name string) (*OwnedList, bool) {
	l, ok := e.lists[name]
	return l, ok
}

// Collection returns the to-many navigation called name.
func (e *Entity) Collection(name string) (*Collection, bool) {
	for _, c := range e.Collections {
		if c.Name == name {
			return c, true
		}
	}
	return nil, false
}

// Registry holds every entity.
type Registry struct {
	Entities     []*Entity
	byName       map[string]*Entity
	byController map[string]*Entity // lower-cased controller
}

// Entity returns the entity with the given snake_case name.
func (r *Registry) Entity(name string) (*Entity, bool) {
	e, ok := r.byName[name]
	return e, ok
}

// MustEntity is Entity for names fixed in code.
func (r *Registry) MustEntity(name string) *Entity {
	e, ok := r.byName[name]
	if !ok {
		panic("schema: no entity " + name)
	}
	return e
}

// ByController finds an entity by controller name, case-insensitively.
func (r *Registry) ByController(name string) (*Entity, bool) {
	e, ok := r.byController[strings.ToLower(name)]
	return e, ok
}

// ReferencesTo lists every reference, in any entity, that targets e.
func (r *Registry) ReferencesTo(e *Entity) []*Reference {
	var refs []*Reference
	for _, other := range r.Entities {
		for _, ref := range other.Refs {
			if ref.target == e {
				refs = append(refs, ref)
			}
		}
	}
	return refs
}

// builder collects an entity's fields in the order they are declared, which is
// the order of the JSON the API writes.
type builder struct{ e *Entity }

type fieldOpt func(*Field)

var (
	required = func(f *Field) { f.Required = true }
	readOnly = func(f *Field) { f.ReadOnly = true }
	unique   = func(f *Field) { f.Unique = true; f.Index = true }
	indexed  = func(f *Field) { f.Index = true }
)

func maxLen(n int) fieldOpt { return func(f *Field) { f.MaxLen = n } }
func def(v any) fieldOpt    { return func(f *Field) { f.Default = v } }
func desc(s string) fieldOpt {
	return func(f *Field) { f.Description = s }
}

func (b *builder) add(name string, k Kind, opts ...fieldOpt) *Field {
	f := &Field{Name: name, Kind: k}
	for _, o := range opts {
		o(f)
	}
	b.e.Fields = append(b.e.Fields, f)
	return f
}

func (b *builder) guid(name string, opts ...fieldOpt) *Field { return b.add(name, KindGUID, opts...) }
func (b *builder) str(name string, max int, opts ...fieldOpt) *Field {
	return b.add(name, KindString, append([]fieldOpt{maxLen(max)}, opts...)...)
}
func (b *builder) text(name string, opts ...fieldOpt) *Field { return b.add(name, KindString, opts...) }
func (b *builder) int(name string, opts ...fieldOpt) *Field  { return b.add(name, KindInt, opts...) }
func (b *builder) dec(name string, opts ...fieldOpt) *Field  { return b.add(name, KindDecimal, opts...) }
func (b *builder) bool(name string, opts ...fieldOpt) *Field { return b.add(name, KindBool, opts...) }
func (b *builder) date(name string, opts ...fieldOpt) *Field { return b.add(name, KindDate, opts...) }

// ref declares a reference and its _id and _code fields, in that order.
func (b *builder) ref(r Reference) *Reference {
	ref := r
	ref.Owner = b.e
	idf := b.guid(ref.IDField, indexed)
	idf.RefID = &ref
	if ref.Derived {
		idf.ReadOnly = true
	}
	if ref.CodeField != "" {
		cf := b.str(ref.CodeField, 255)
		cf.RefCode = &ref
		cf.ReadOnly = ref.Derived
	}
	b.e.Refs = append(b.e.Refs, &ref)
	return &ref
}

// udfs declares the custom fields udf1..udfN.
func (b *builder) udfs(n int) {
	for i := 1; i <= n; i++ {
		b.text(fmt.Sprintf("udf%d", i), desc(fmt.Sprintf("Custom field udf%d", i)))
	}
}

func (b *builder) modified() {
	b.date("modified_dateutc", readOnly, indexed, desc("Read-only, set to UTC now on every insert and update"))
}

// define starts an entity with its id field.
func define(name, controller string, erpKey string, build func(b *builder)) *Entity {
	e := &Entity{Name: name, Controller: controller, Table: name, ERPKey: erpKey, Deletable: true}
	b := &builder{e}
	b.guid("id", desc("Primary key"))
	build(b)
	return e
}

// newRegistry links entities: indexes, reference targets, collections.
func newRegistry(entities ...*Entity) *Registry {
	r := &Registry{byName: map[string]*Entity{}, byController: map[string]*Entity{}}
	for _, e := range entities {
		r.Entities = append(r.Entities, e)
		r.byName[e.Name] = e
		r.byController[strings.ToLower(e.Controller)] = e
		e.fields = map[string]*Field{}
		e.embedded = map[string]*Reference{}
		e.lists = map[string]*OwnedList{}
		for _, f := range e.Fields {
			if _, dup := e.fields[f.Name]; dup {
				panic("schema: duplicate field " + e.Name + "." + f.Name)
			}
			e.fields[f.Name] = f
		}
		if e.ERPKey != "" {
			e.fields[e.ERPKey].Unique = true
			e.fields[e.ERPKey].Index = true
		}
	}
	for _, e := range entities {
		for _, ref := range e.Refs {
			t, ok := r.byName[ref.Target]
			if !ok {
				panic("schema: unknown target " + ref.Target)
			}
			ref.target = t
			if ref.CodeField != "" && t.ERPKey == "" {
				panic("schema: code form on a reference to " + t.Name + " which has no ERP key")
			}
			if ref.Embedded != "" {
				e.embedded[ref.Embedded] = ref
			}
			if ref.Collection != "" {
				t.Collections = append(t.Collections, &Collection{Name: ref.Collection, Child: e, Ref: ref})
			}
		}
		for _, l := range e.Lists {
			e.lists[l.Name] = l
		}
	}
	sort.SliceStable(r.Entities, func(i, j int) bool { return r.Entities[i].Name < r.Entities[j].Name })
	return r
}
