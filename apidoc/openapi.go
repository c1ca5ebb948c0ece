package apidoc

import (
	"encoding/json"
	"strings"

	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/schema"
)

// OpenAPIPath is where the server serves the document.
const OpenAPIPath = "/api/openapi.json"

type obj = map[string]any

// OpenAPI builds the OpenAPI 3.1 document of the API from the registry.
func OpenAPI(reg *schema.Registry, version string) []byte {
	schemas := obj{"Error": errorSchema()}
	for _, e := range reg.Entities {
		schemas[e.Name] = entitySchema(e)
		schemas[e.Name+"_list"] = obj{
			"type":        "object",
			"description": "A page of " + e.Noun() + " rows; follow @odata.nextLink for the next page.",
			"required":    []string{"value"},
			"properties": obj{
				"@odata.context":  obj{"type": "string"},
				"@odata.count":    obj{"type": "integer", "description": "The number of rows matching $filter, with $count=true"},
				"@odata.nextLink": obj{"type": "string", "description": "The URL of the next page; absent on the last page"},
				"value":           obj{"type": "array", "items": ref(e.Name)},
			},
		}
	}
	paths := obj{
		"/healthz": obj{"get": publicOp("Service", "Liveness: the process answers", "application/json", obj{"type": "object"})},
		"/readyz":  obj{"get": publicOp("Service", "Readiness: the database answers (503 when it does not)", "application/json", obj{"type": "object"})},
		"/help":    obj{"get": publicOp("Service", "The help pages: every API with its request and response", "text/html", obj{"type": "string"})},
		"/help/api/{id}": obj{"get": withParams(publicOp("Service", "The help page of one API, e.g. PUT-api-Jobs(id)", "text/html", obj{"type": "string"}),
			obj{"name": "id", "in": "path", "required": true, "schema": obj{"type": "string"}})},
		"/help/type/{name}": obj{"get": withParams(publicOp("Service", "The help page of one type (entity)", "text/html", obj{"type": "string"}),
			obj{"name": "name", "in": "path", "required": true, "schema": obj{"type": "string"}})},
		OpenAPIPath: obj{"get": publicOp("Service", "This document", "application/json", obj{"type": "object"})},
		"/api/": obj{"get": op("Service", "The OData service document: every entity set", nil,
			response("200", "The entity sets", "application/json", obj{"type": "object", "required": []string{"value"},
				"properties": obj{"value": obj{"type": "array", "items": obj{"type": "object"}}}}))},
		"/api/$metadata": obj{"get": op("Service", "The OData CSDL of every entity: XML, or JSON with $format=json", nil,
			obj{"200": obj{"description": "The CSDL document", "content": obj{
				"application/xml":  obj{"schema": obj{"type": "string"}},
				"application/json": obj{"schema": obj{"type": "object"}},
			}}, "default": errorResponse()})},
	}
	for _, a := range APIs(reg) {
		for _, slash := range []bool{false, true} {
			if slash && !a.HasKey() {
				continue
			}
			p := "/" + strings.ReplaceAll(a.URI, "(id)", "({id})")
			if slash {
				p = "/" + strings.ReplaceAll(a.URI, "(id)", "/{id}")
			}
			item, _ := paths[p].(obj)
			if item == nil {
				item = obj{}
				paths[p] = item
			}
			o := operation(a)
			if slash {
				delete(o, "operationId")
				o["summary"] = o["summary"].(string) + " (the /{id} form of /" + a.URI + ")"
			}
			item[strings.ToLower(a.Method)] = o
		}
	}
	// Routes outside the registry (other issues' work), described loosely.
	anyObj := obj{"type": "object"}
	paths["/api/$batch"] = obj{"post": op("Service", "OData $batch: several requests in one (multipart/mixed or JSON)", nil,
		obj{"200": obj{"description": "The answers", "content": obj{
			"multipart/mixed":  obj{"schema": obj{"type": "string"}},
			"application/json": obj{"schema": anyObj},
		}}, "default": errorResponse()})}
	for _, c := range []string{"WebhookSubscriptions", "WebhookDeliveries"} {
		one := obj{"200": obj{"description": "The row", "content": obj{"application/json": obj{"schema": anyObj}}}, "default": errorResponse()}
		paths["/api/"+c] = obj{
			"get":  op(c, "Lists "+c, nil, obj{"200": obj{"description": "The rows", "content": obj{"application/json": obj{"schema": anyObj}}}, "default": errorResponse()}),
			"post": op(c, "Creates one of "+c, nil, obj{"201": obj{"description": "Created", "content": obj{"application/json": obj{"schema": anyObj}}}, "default": errorResponse()}),
		}
		paths["/api/"+c+"({id})"] = obj{
			"parameters": []obj{param("id")},
			"get":        op(c, "Reads one of "+c, nil, one),
			"put":        op(c, "Updates one of "+c, nil, one),
			"patch":      op(c, "Updates one of "+c, nil, one),
			"delete":     op(c, "Deletes one of "+c, nil, obj{"204": obj{"description": "Deleted"}, "default": errorResponse()}),
		}
	}
	// Dispatch (docs/planning.md) and the planner board's static files.
	slots := obj{"200": obj{"description": "The best slots, best first", "content": obj{"application/json": obj{"schema": anyObj}}}, "default": errorResponse()}
	paths["/api/Jobs({id})/AvailableSlots"] = obj{"parameters": []obj{param("id")},
		"get": op("Jobs", "Slot search: who can do this job, when (query: from, to, top, user_id)", nil, slots)}
	paths["/api/Jobs({id})/Plan"] = obj{"parameters": []obj{param("id")},
		"post": op("Jobs", "Books a slot: creates the job's planning (409 on an overlap unless force)", nil,
			obj{"201": obj{"description": "The planning", "content": obj{"application/json": obj{"schema": anyObj}}}, "default": errorResponse()})}
	paths["/api/AvailableSlots"] = obj{"post": op("Jobs", "Slot search for a job that is not stored (the job's body)", nil, slots)}
	paths["/api/PlanningSetting/Effective"] = obj{"get": op("PlanningSetting", "The planning settings in force (tenant and user, resolved)", nil,
		obj{"200": obj{"description": "The settings", "content": obj{"application/json": obj{"schema": anyObj}}}, "default": errorResponse()})}
	static := obj{"description": "A file of the board", "content": obj{
		"text/html": obj{"schema": obj{"type": "string"}}, "text/css": obj{"schema": obj{"type": "string"}},
		"text/javascript": obj{"schema": obj{"type": "string"}}, "image/png": obj{"schema": obj{"type": "string"}}}}
	paths["/planner"] = obj{"get": withSecurityNone(op("Service", "The planner board (redirects to /planner/)", nil,
		obj{"301": obj{"description": "To /planner/"}, "default": errorResponse()}))}
	paths["/planner/"] = obj{"get": withSecurityNone(op("Service", "The planner board", nil, obj{"200": static, "304": obj{"description": "Not modified"}, "default": errorResponse()}))}
	paths["/planner/{file}"] = obj{"parameters": []obj{{"name": "file", "in": "path", "required": true, "schema": obj{"type": "string"}}},
		"get": withSecurityNone(op("Service", "A file of the planner board", nil, obj{"200": static, "304": obj{"description": "Not modified"}, "default": errorResponse()}))}
	for _, e := range reg.Entities {
		for _, n := range odata.Navigations(e) {
			addNavigation(paths, e, n)
		}
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "Ordo work-order API",
			"version": version,
			"description": "The REST API through which ERPs feed Ordo, the system of record for work orders. " +
				"Generated from the entity registry; the help pages at /help show the same in the reference's layout.",
		},
		"servers":  []obj{{"url": "/"}},
		"security": []obj{{"basicAuth": []string{}}},
		"tags":     tags(reg),
		"paths":    paths,
		"components": obj{
			"schemas":         schemas,
			"parameters":      odataParameters(),
			"securitySchemes": obj{"basicAuth": obj{"type": "http", "scheme": "basic", "description": "user:password@domain, the domain naming the tenant"}},
			"responses":       obj{"Error": errorResponse()},
		},
	}
	out, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		panic("apidoc: " + err.Error()) // only maps, slices and strings: cannot fail
	}
	return out
}

func tags(reg *schema.Registry) []obj {
	out := []obj{{"name": "Service", "description": "Health, documentation and OData service documents"}}
	for _, e := range reg.Entities {
		out = append(out, obj{"name": e.Controller, "description": e.Description})
	}
	return out
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func errorSchema() obj {
	return obj{
		"type":        "object",
		"description": "Every error answers this body; code is one of a small set independent of HTTP, message is safe to show.",
		"required":    []string{"error"},
		"properties": obj{"error": obj{
			"type":     "object",
			"required": []string{"code", "message"},
			"properties": obj{
				"code":    obj{"type": "string", "examples": []string{"ValidationFailed", "NotFound", "Conflict"}},
				"message": obj{"type": "string"},
				"details": obj{"type": "array", "items": obj{
					"type":     "object",
					"required": []string{"code", "message"},
					"properties": obj{
						"code":    obj{"type": "string"},
						"target":  obj{"type": "string", "description": "the property concerned, with its path when nested"},
						"message": obj{"type": "string"},
					},
				}},
			},
		}},
	}
}

func errorResponse() obj {
	return obj{"description": "An error", "content": obj{"application/json": obj{"schema": ref("Error")}}}
}

// propertySchema is the JSON Schema of one field.
func propertySchema(e *schema.Entity, f *schema.Field) obj {
	s := obj{}
	switch f.Kind {
	case schema.KindGUID:
		s["type"], s["format"] = "string", "uuid"
	case schema.KindString:
		s["type"], s["maxLength"] = "string", f.MaxLength()
	case schema.KindInt:
		s["type"], s["format"] = "integer", "int64"
	case schema.KindDecimal:
		s["type"] = "number"
	case schema.KindBool:
		s["type"] = "boolean"
	case schema.KindDate:
		s["type"], s["format"] = "string", "date-time"
	}
	if d := e.PropertyDescription(f.Name); d != "" {
		s["description"] = d
	}
	if f.ReadOnly {
		s["readOnly"] = true
	}
	return s
}

// entitySchema describes e's JSON body. No property is required: $select
// answers a subset, and PUT/PATCH change only what they are sent.
func entitySchema(e *schema.Entity) obj {
	props := obj{}
	for _, f := range e.Fields {
		props[f.Name] = propertySchema(e, f)
	}
	for _, r := range e.Refs {
		if r.Embedded != "" {
			props[r.Embedded] = obj{"$ref": "#/components/schemas/" + r.Target, "description": e.PropertyDescription(r.Embedded)}
		}
	}
	for _, l := range e.Lists {
		props[l.Name] = obj{"type": "array", "items": ref(l.Child.Name), "description": e.PropertyDescription(l.Name)}
	}
	props["@odata.etag"] = obj{"type": "string", "readOnly": true, "description": "The row's version, for If-Match"}
	props["@odata.context"] = obj{"type": "string", "readOnly": true}
	s := obj{"type": "object", "properties": props, "description": e.Description}
	var groups []obj
	for _, r := range e.Refs {
		if r.Required && !r.UseDefault {
			groups = append(groups, obj{"names": Group(r)})
		}
	}
	if len(groups) > 0 {
		s["x-ordo-reference-groups"] = groups
	}
	return s
}

// createSchema adds to e's schema what a POST must hold: the required fields
// and one form of each optionally-required reference.
func createSchema(e *schema.Entity) obj {
	var required []string
	for _, f := range e.Fields {
		if f.Required && f.RefID == nil && f.RefCode == nil {
			required = append(required, f.Name)
		}
	}
	all := []obj{ref(e.Name)}
	if len(required) > 0 {
		all = append(all, obj{"required": required})
	}
	for _, r := range e.Refs {
		if !r.Required || r.UseDefault {
			continue
		}
		var anyOf []obj
		for _, name := range Group(r) {
			anyOf = append(anyOf, obj{"required": []string{name}})
		}
		all = append(all, obj{"anyOf": anyOf, "description": "Optionally required : " + groupList(Group(r)) + " must be provided"})
	}
	if len(all) == 1 {
		return all[0]
	}
	return obj{"allOf": all}
}

func odataParameters() obj {
	q := func(name, desc string, s obj) obj {
		return obj{"name": name, "in": "query", "required": false, "description": desc, "schema": s}
	}
	str := obj{"type": "string"}
	return obj{
		"filter":    q("$filter", "OData filter expression, e.g. name eq 'x' and modified_dateutc gt 2024-01-01T00:00:00Z", str),
		"select":    q("$select", "Comma-separated properties to return", str),
		"expand":    q("$expand", "Navigation properties to include, with nested options in parentheses", str),
		"orderby":   q("$orderby", "Comma-separated property paths, each optionally followed by asc or desc", str),
		"top":       q("$top", "The maximum number of rows to return", obj{"type": "integer", "minimum": 0}),
		"skip":      q("$skip", "The number of rows to skip", obj{"type": "integer", "minimum": 0}),
		"count":     q("$count", "true adds @odata.count, the number of rows matching $filter", obj{"type": "boolean"}),
		"skiptoken": q("$skiptoken", "Continues a paged answer: use @odata.nextLink as it is", str),
		"format":    q("$format", "json (the only format served)", str),
		"id":        obj{"name": "id", "in": "path", "required": true, "description": "globally unique identifier of the row (also written guid'…')", "schema": str},
		"ifMatch":   obj{"name": "If-Match", "in": "header", "required": false, "description": "The ETag the row must still have; 412 otherwise", "schema": str},
		"ifNoneMatch": obj{"name": "If-None-Match", "in": "header", "required": false,
			"description": "304 when the row still has this ETag", "schema": str},
		"prefer": obj{"name": "Prefer", "in": "header", "required": false,
			"description": "odata.maxpagesize=N on lists; return=minimal on writes answers {\"id\": …}", "schema": str},
	}
}

func param(name string) obj { return obj{"$ref": "#/components/parameters/" + name} }

func withParams(o obj, params ...obj) obj {
	o["parameters"] = params
	return o
}

func response(status, desc, contentType string, s obj) obj {
	return obj{status: obj{"description": desc, "content": obj{contentType: obj{"schema": s}}}, "default": errorResponse()}
}

func op(tag, summary string, params []obj, responses obj) obj {
	o := obj{"tags": []string{tag}, "summary": summary, "responses": responses}
	if len(params) > 0 {
		o["parameters"] = params
	}
	return o
}

func withSecurityNone(o obj) obj {
	o["security"] = []obj{}
	return o
}

func publicOp(tag, summary, contentType string, s obj) obj {
	o := op(tag, summary, nil, response("200", summary, contentType, s))
	o["security"] = []obj{}
	return o
}

// operation is the OpenAPI operation of one API.
func operation(a API) obj {
	e := a.Entity
	var params []obj
	if a.HasKey() {
		params = append(params, param("id"))
	}
	body := func(s obj) obj {
		return obj{"required": true, "content": obj{"application/json": obj{"schema": s}, "text/json": obj{"schema": s}}}
	}
	entityResponse := func(status, desc string) obj {
		return obj{"description": desc, "headers": obj{"ETag": obj{"schema": obj{"type": "string"}}},
			"content": obj{"application/json": obj{"schema": ref(e.Name)}}}
	}
	responses := obj{"default": errorResponse()}
	var o obj
	switch a.Op {
	case OpList:
		params = append(params, param("filter"), param("select"), param("expand"), param("orderby"), param("top"),
			param("skip"), param("count"), param("skiptoken"), param("format"), param("prefer"))
		responses["200"] = obj{"description": "A page of rows", "content": obj{"application/json": obj{"schema": ref(e.Name + "_list")}}}
	case OpCount:
		params = append(params, param("filter"))
		responses["200"] = obj{"description": "The number of matching rows", "content": obj{"text/plain": obj{"schema": obj{"type": "string", "pattern": "^[0-9]+$"}}}}
	case OpGet:
		params = append(params, param("select"), param("expand"), param("format"), param("ifNoneMatch"))
		responses["200"] = entityResponse("200", "The row")
		responses["304"] = obj{"description": "The row still has the ETag of If-None-Match"}
	case OpCreate:
		params = append(params, param("prefer"))
		responses["201"] = entityResponse("201", "Created; Location names the new row")
		o = obj{"requestBody": body(createSchema(e))}
	case OpUpdate, OpPatch:
		params = append(params, param("ifMatch"), param("prefer"))
		responses["200"] = entityResponse("200", "The row as stored")
		o = obj{"requestBody": body(ref(e.Name))}
	case OpDelete:
		params = append(params, param("ifMatch"))
		responses["204"] = obj{"description": "Deleted"}
	case OpAction:
		responses["200"] = obj{"description": "Done; the body is empty"}
		o = obj{"requestBody": body(obj{"type": "object", "required": []string{"jobs_id"},
			"additionalProperties": false,
			"properties": obj{
				"jobs_id":                obj{"type": "string", "format": "uuid"},
				"target_job_status_id":   obj{"type": "string", "format": "uuid"},
				"target_job_status_code": obj{"type": "string"},
			}})}
	}
	if o == nil {
		o = obj{}
	}
	o["tags"] = []string{a.Controller}
	o["operationId"] = strings.ToLower(a.Method) + a.Controller + opSuffix(a.Op)
	o["summary"] = a.Summary
	o["parameters"] = params
	o["responses"] = responses
	return o
}

func opSuffix(op string) string {
	switch op {
	case OpList, OpCreate:
		return ""
	case OpCount:
		return "Count"
	case OpAction:
		return op
	}
	return "ById"
}

// addNavigation documents GET /api/<Controller>({id})/<navigation> (and its
// /$count when it leads to many rows).
func addNavigation(paths obj, e *schema.Entity, n *odata.Navigation) {
	base := "/api/" + e.Controller + "({id})/" + n.Name
	t := n.Target
	responses := obj{"default": errorResponse()}
	params := []obj{param("id")}
	if n.Many {
		params = append(params, param("filter"), param("select"), param("expand"), param("orderby"), param("top"),
			param("skip"), param("count"), param("skiptoken"), param("format"), param("prefer"))
		responses["200"] = obj{"description": "A page of the " + t.Noun() + " rows of this " + e.Noun(),
			"content": obj{"application/json": obj{"schema": ref(t.Name + "_list")}}}
		paths[base+"/$count"] = obj{"get": obj{
			"tags": []string{e.Controller}, "summary": "The number of " + t.Noun() + " rows of this " + e.Noun() + " matching $filter",
			"parameters": []obj{param("id"), param("filter")},
			"responses": obj{"default": errorResponse(), "200": obj{"description": "The number of matching rows",
				"content": obj{"text/plain": obj{"schema": obj{"type": "string", "pattern": "^[0-9]+$"}}}}},
		}}
	} else {
		params = append(params, param("select"), param("expand"), param("format"))
		responses["200"] = obj{"description": "The " + t.Noun() + " this " + e.Noun() + " refers to",
			"content": obj{"application/json": obj{"schema": ref(t.Name)}}}
		responses["204"] = obj{"description": "This " + e.Noun() + " refers to no " + t.Noun()}
	}
	paths[base] = obj{"get": obj{
		"tags":       []string{e.Controller},
		"summary":    "Navigation " + n.Name + " of a " + e.Noun(),
		"parameters": params,
		"responses":  responses,
	}}
}
