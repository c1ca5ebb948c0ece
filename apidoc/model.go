// Package apidoc derives the API's documentation from the entity registry:
// the help pages at /help, laid out like the reference page of the platform
// whose API Ordo implements, and the OpenAPI 3.1 document at
// /api/openapi.json. Nothing here is written by hand per entity: a new field
// in schema/ shows up in both.
package apidoc

import (
	"strconv"
	"strings"

	"github.com/ordo-fsm/ordo/schema"
)

// Operation kinds: what an API does with its controller's entity.
const (
	OpList   = "list"
	OpCount  = "count"
	OpGet    = "get"
	OpCreate = "create"
	OpUpdate = "update"
	OpPatch  = "patch"
	OpDelete = "delete"
	OpAction = "ChangeToVirtualStatus"
)

// API is one method on one URI template, as the help index lists it.
type API struct {
	Method     string // GET, POST, ...
	URI        string // as the reference writes it: "api/Jobs(id)"
	Controller string
	Entity     *schema.Entity
	Op         string
	Summary    string
}

// ID names the API's help page: "PUT-api-Jobs(id)".
func (a API) ID() string { return a.Method + "-" + strings.ReplaceAll(a.URI, "/", "-") }

// HasKey reports whether the URI takes the id parameter.
func (a API) HasKey() bool { return strings.HasSuffix(a.URI, "(id)") }

// HasBody reports whether the request carries the entity as its body.
func (a API) HasBody() bool {
	return a.Op == OpCreate || a.Op == OpUpdate || a.Op == OpPatch || a.Op == OpAction
}

// APIs lists every API of the registry, grouped by controller in registry order.
func APIs(reg *schema.Registry) []API {
	var out []API
	for _, e := range reg.Entities {
		c, noun := e.Controller, e.Noun()
		add := func(method, uri, op, summary string) {
			out = append(out, API{Method: method, URI: uri, Controller: c, Entity: e, Op: op, Summary: summary})
		}
		add("GET", "api/"+c, OpList, "Returns the "+noun+" rows matching the OData query options, a page at a time")
		add("GET", "api/"+c+"/$count", OpCount, "Returns the number of "+noun+" rows matching $filter, as plain text")
		add("GET", "api/"+c+"(id)", OpGet, "Returns the "+noun+" with the specified key")
		add("POST", "api/"+c, OpCreate, "Creates a "+noun+"; embedded entities are created or updated with it")
		add("PUT", "api/"+c+"(id)", OpUpdate, "Updates the "+noun+" with the specified key")
		add("PATCH", "api/"+c+"(id)", OpPatch, "Updates the properties sent of the "+noun+" with the specified key")
		if e.Deletable {
			add("DELETE", "api/"+c+"(id)", OpDelete, "Deletes the "+noun+" with the specified key")
		}
		if e.Name == "jobs" {
			add("PUT", "api/"+c+"/ChangeToVirtualStatus", OpAction,
				"Moves a job to a tenant (virtual) status, by id or by code")
		}
	}
	for i := range out {
		if out[i].Entity.Name == "jobs" && out[i].Op == OpUpdate {
			out[i].Summary = "Updates the work order with the specified key" // the reference's words
		}
	}
	return out
}

// Param is one row of a body parameter table.
type Param struct {
	Name        string
	Description string
	Type        string         // as the reference writes it: "globally unique identifier", "string", ...
	TypeEntity  *schema.Entity // embedded entities and owned lists: the type page to link to
	List        bool           // an owned list of TypeEntity
	Required    bool
	MaxLength   int      // 0: none shown
	Group       []string // the optionally-required group this property belongs to
	ReadOnly    bool
}

// AdditionalInfo is the "Additional information" column, one line per item.
func (p Param) AdditionalInfo() []string {
	var out []string
	if p.Required {
		out = append(out, "Required")
	}
	if p.MaxLength > 0 {
		out = append(out, "Max length: "+strconv.Itoa(p.MaxLength))
	}
	if len(p.Group) > 0 {
		out = append(out, "Optionally required : "+groupList(p.Group)+" must be provided")
	}
	return out
}

func groupList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// KindType is the reference's name of a kind.
func KindType(k schema.Kind) string {
	switch k {
	case schema.KindGUID:
		return "globally unique identifier"
	case schema.KindDecimal:
		return "decimal number"
	}
	return k.String()
}

// Group is the optionally-required group of reference r: the forms a client
// may give, one of which must be given.
func Group(r *schema.Reference) []string {
	g := []string{r.IDField}
	if r.CodeField != "" {
		g = append(g, r.CodeField)
	}
	if r.Embedded != "" {
		g = append(g, r.Embedded)
	}
	return g
}

// Params lists the body parameters of e in the order of its JSON: each field,
// with the embedded form of a reference right after the reference's last
// stored form, then the owned lists.
func Params(e *schema.Entity) []Param {
	var out []Param
	for _, f := range e.Fields {
		p := Param{Name: f.Name, Description: e.PropertyDescription(f.Name), Type: KindType(f.Kind), ReadOnly: f.ReadOnly}
		ref := f.RefID
		if ref == nil {
			ref = f.RefCode
		}
		switch {
		case ref != nil && ref.Required && !ref.UseDefault:
			p.Group = Group(ref)
		case ref == nil && f.Required:
			p.Required = true
		}
		if f.Kind == schema.KindString && f.MaxLen > 0 && f.RefCode == nil {
			p.MaxLength = f.MaxLen
		}
		out = append(out, p)
		if ref != nil && ref.Embedded != "" && f.Name == lastStoredForm(ref) {
			ep := Param{Name: ref.Embedded, Description: e.PropertyDescription(ref.Embedded),
				Type: ref.Target, TypeEntity: ref.TargetEntity()}
			if ref.Required && !ref.UseDefault {
				ep.Group = Group(ref)
			}
			out = append(out, ep)
		}
	}
	for _, l := range e.Lists {
		out = append(out, Param{Name: l.Name, Description: e.PropertyDescription(l.Name),
			Type: "Collection of " + l.Child.Name, TypeEntity: l.Child, List: true})
	}
	return out
}

func lastStoredForm(r *schema.Reference) string {
	if r.CodeField != "" {
		return r.CodeField
	}
	return r.IDField
}
