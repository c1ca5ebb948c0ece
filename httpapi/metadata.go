package httpapi

import (
	"encoding/xml"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/schema"
)

// The service's OData metadata: GET /api/$metadata is the CSDL document
// describing every entity of the registry (XML by default, JSON CSDL on
// request), and GET /api/ the service document listing the entity sets.

const (
	csdlNamespace = "Ordo"
	csdlContainer = "Container"
	coreVocabXML  = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml"
	coreVocabJSON = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.json"
)

// negotiatesItself reports the routes that do their own content negotiation
// and must not be refused by checkAccept: $metadata (XML by default) and
// the $count segment (text/plain).
func negotiatesItself(r *http.Request) bool {
	p := strings.TrimSuffix(r.URL.Path, "/")
	return p == "/api/$metadata" || strings.HasSuffix(p, "/$count")
}

// metadataDocs caches the CSDL of each registry: it never changes while the
// process runs.
var metadataDocs sync.Map // *schema.Registry → *csdlDocs

type csdlDocs struct {
	xml, json []byte
}

func csdlOf(reg *schema.Registry) *csdlDocs {
	if d, ok := metadataDocs.Load(reg); ok {
		return d.(*csdlDocs)
	}
	d := &csdlDocs{xml: buildCSDLXML(reg), json: buildCSDLJSON(reg)}
	metadataDocs.Store(reg, d)
	return d
}

// handleMetadata serves GET /api/$metadata.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	rq := s.getQuery(w, r)
	if rq == nil {
		return
	}
	asJSON := false
	if rq.hasFormat {
		f := strings.ToLower(strings.TrimSpace(rq.format))
		if mt, _, err := mime.ParseMediaType(f); err == nil {
			f = mt
		}
		switch f {
		case "json", "application/json":
			asJSON = true
		case "xml", "application/xml":
		default:
			s.writeError(w, r, ordo.Errorf(ordo.ENotAcceptable, "$format=%s is not supported for $metadata; use xml or json", rq.format))
			return
		}
	} else {
		asJSON = prefersJSONOnly(r.Header.Get("Accept"))
	}
	docs := csdlOf(s.svc.Registry())
	if asJSON {
		s.writeBody(w, r, http.StatusOK, "application/json; charset=utf-8", docs.json)
		return
	}
	s.writeBody(w, r, http.StatusOK, "application/xml; charset=utf-8", docs.xml)
}

// prefersJSONOnly reports an Accept header that names JSON and allows no XML:
// CSDL XML is OData 4.0's own format and what BI tools read, so it wins
// whenever the client takes it.
func prefersJSONOnly(accept string) bool {
	jsonOK, xmlOK := false, false
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch {
		case mt == "application/json" || mt == "text/json":
			jsonOK = true
		case strings.Contains(mt, "xml") || mt == "*/*" || mt == "application/*" || mt == "text/*":
			xmlOK = true
		}
	}
	return jsonOK && !xmlOK
}

// handleServiceDocument serves GET /api/: the entity sets, so that a
// generic client given the service root finds them.
func (s *Server) handleServiceDocument(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.methodNotAllowed(w, r, "GET")
		return
	}
	b := []byte(`{` + annotation("@odata.context", baseURL(r)+"/api/$metadata") + `,"value":[`)
	for i, e := range s.svc.Registry().Entities {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = schema.AppendJSONString(b, e.Controller)
		b = append(b, `,"kind":"EntitySet","url":`...)
		b = schema.AppendJSONString(b, e.Controller)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	s.writeJSON(w, r, http.StatusOK, b)
}

// edmType is the CSDL type of a field kind.
func edmType(k schema.Kind) string {
	switch k {
	case schema.KindGUID:
		return "Edm.Guid"
	case schema.KindInt:
		return "Edm.Int64"
	case schema.KindDecimal:
		return "Edm.Double"
	case schema.KindBool:
		return "Edm.Boolean"
	case schema.KindDate:
		return "Edm.DateTimeOffset"
	}
	return "Edm.String"
}

// datePrecision: dates are kept to the microsecond.
const datePrecision = 6

// partner is the navigation on the other side of nav, "" when none.
func partner(nav *odata.Navigation) string {
	if nav.Many {
		for _, back := range odata.Navigations(nav.Target) {
			if !back.Many && back.Ref == nav.Ref {
				return back.Name
			}
		}
		return ""
	}
	for _, back := range odata.Navigations(nav.Target) {
		if back.Many && back.Ref == nav.Ref {
			return back.Name
		}
	}
	return ""
}

func xmlAttr(b *strings.Builder, name, value string) {
	b.WriteString(" " + name + `="`)
	xml.EscapeText(b, []byte(value))
	b.WriteString(`"`)
}

func xmlDescription(b *strings.Builder, indent, text string) {
	if text == "" {
		return
	}
	b.WriteString(indent + `<Annotation Term="Core.Description"`)
	xmlAttr(b, "String", text)
	b.WriteString("/>\n")
}

// buildCSDLXML renders the registry as a CSDL XML document (OData 4.0).
func buildCSDLXML(reg *schema.Registry) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">` + "\n")
	b.WriteString(`  <edmx:Reference Uri="` + coreVocabXML + `">` + "\n")
	b.WriteString(`    <edmx:Include Namespace="Org.OData.Core.V1" Alias="Core"/>` + "\n")
	b.WriteString("  </edmx:Reference>\n  <edmx:DataServices>\n")
	b.WriteString(`    <Schema Namespace="` + csdlNamespace + `" xmlns="http://docs.oasis-open.org/odata/ns/edm">` + "\n")
	for _, e := range reg.Entities {
		b.WriteString("      <EntityType")
		xmlAttr(&b, "Name", e.Name)
		b.WriteString(">\n        <Key><PropertyRef Name=\"id\"/></Key>\n")
		xmlDescription(&b, "        ", e.Description)
		for _, f := range e.Fields {
			b.WriteString("        <Property")
			xmlAttr(&b, "Name", f.Name)
			xmlAttr(&b, "Type", edmType(f.Kind))
			b.WriteString(` Nullable="false"`)
			switch f.Kind {
			case schema.KindString:
				xmlAttr(&b, "MaxLength", strconv.Itoa(f.MaxLength()))
			case schema.KindDate:
				xmlAttr(&b, "Precision", strconv.Itoa(datePrecision))
			}
			if f.Default != nil {
				xmlAttr(&b, "DefaultValue", schema.FormatValue(f.Kind, f.Default))
			}
			if f.Description == "" && !f.ReadOnly {
				b.WriteString("/>\n")
				continue
			}
			b.WriteString(">\n")
			xmlDescription(&b, "          ", f.Description)
			if f.ReadOnly {
				b.WriteString(`          <Annotation Term="Core.Computed" Bool="true"/>` + "\n")
			}
			b.WriteString("        </Property>\n")
		}
		for _, nav := range odata.Navigations(e) {
			b.WriteString("        <NavigationProperty")
			xmlAttr(&b, "Name", nav.Name)
			t := csdlNamespace + "." + nav.Target.Name
			if nav.Many {
				t = "Collection(" + t + ")"
			}
			xmlAttr(&b, "Type", t)
			if p := partner(nav); p != "" {
				xmlAttr(&b, "Partner", p)
			}
			if nav.Many {
				b.WriteString("/>\n")
				continue
			}
			b.WriteString(">\n          <ReferentialConstraint")
			xmlAttr(&b, "Property", nav.Ref.IDField)
			b.WriteString(" ReferencedProperty=\"id\"/>\n        </NavigationProperty>\n")
		}
		b.WriteString("      </EntityType>\n")
	}
	b.WriteString(`      <EntityContainer Name="` + csdlContainer + `">` + "\n")
	for _, e := range reg.Entities {
		b.WriteString("        <EntitySet")
		xmlAttr(&b, "Name", e.Controller)
		xmlAttr(&b, "EntityType", csdlNamespace+"."+e.Name)
		navs := odata.Navigations(e)
		if len(navs) == 0 {
			b.WriteString("/>\n")
			continue
		}
		b.WriteString(">\n")
		for _, nav := range navs {
			b.WriteString("          <NavigationPropertyBinding")
			xmlAttr(&b, "Path", nav.Name)
			xmlAttr(&b, "Target", nav.Target.Controller)
			b.WriteString("/>\n")
		}
		b.WriteString("        </EntitySet>\n")
	}
	b.WriteString("      </EntityContainer>\n    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n")
	return []byte(b.String())
}

// jsonObject writes a JSON object member by member, in order.
type jsonObject struct {
	b []byte
	n []int // members written, per open object
}

func (j *jsonObject) open()  { j.b = append(j.b, '{'); j.n = append(j.n, 0) }
func (j *jsonObject) close() { j.b = append(j.b, '}'); j.n = j.n[:len(j.n)-1] }

func (j *jsonObject) key(k string) {
	if j.n[len(j.n)-1] > 0 {
		j.b = append(j.b, ',')
	}
	j.n[len(j.n)-1]++
	j.b = schema.AppendJSONString(j.b, k)
	j.b = append(j.b, ':')
}

func (j *jsonObject) str(k, v string) { j.key(k); j.b = schema.AppendJSONString(j.b, v) }
func (j *jsonObject) raw(k, v string) { j.key(k); j.b = append(j.b, v...) }

// buildCSDLJSON renders the registry as a JSON CSDL document.
func buildCSDLJSON(reg *schema.Registry) []byte {
	j := &jsonObject{}
	j.open()
	j.str("$Version", "4.0")
	j.str("$EntityContainer", csdlNamespace+"."+csdlContainer)
	j.key("$Reference")
	j.open()
	j.raw(coreVocabJSON, `{"$Include":[{"$Namespace":"Org.OData.Core.V1","$Alias":"Core"}]}`)
	j.close()
	j.key(csdlNamespace)
	j.open()
	for _, e := range reg.Entities {
		j.key(e.Name)
		j.open()
		j.str("$Kind", "EntityType")
		j.raw("$Key", `["id"]`)
		if e.Description != "" {
			j.str("@Core.Description", e.Description)
		}
		for _, f := range e.Fields {
			j.key(f.Name)
			j.open()
			if f.Kind != schema.KindString {
				j.str("$Type", edmType(f.Kind))
			}
			switch f.Kind {
			case schema.KindString:
				j.raw("$MaxLength", strconv.Itoa(f.MaxLength()))
			case schema.KindDate:
				j.raw("$Precision", strconv.Itoa(datePrecision))
			}
			if f.Default != nil {
				j.key("$DefaultValue")
				j.b = schema.AppendJSON(j.b, f.Kind, f.Default)
			}
			if f.Description != "" {
				j.str("@Core.Description", f.Description)
			}
			if f.ReadOnly {
				j.raw("@Core.Computed", "true")
			}
			j.close()
		}
		for _, nav := range odata.Navigations(e) {
			j.key(nav.Name)
			j.open()
			j.str("$Kind", "NavigationProperty")
			if nav.Many {
				j.raw("$Collection", "true")
			}
			j.str("$Type", csdlNamespace+"."+nav.Target.Name)
			if !nav.Many {
				j.raw("$Nullable", "true")
			}
			if p := partner(nav); p != "" {
				j.str("$Partner", p)
			}
			if !nav.Many {
				j.key("$ReferentialConstraint")
				j.open()
				j.str(nav.Ref.IDField, "id")
				j.close()
			}
			j.close()
		}
		j.close()
	}
	j.key(csdlContainer)
	j.open()
	j.str("$Kind", "EntityContainer")
	for _, e := range reg.Entities {
		j.key(e.Controller)
		j.open()
		j.raw("$Collection", "true")
		j.str("$Type", csdlNamespace+"."+e.Name)
		if navs := odata.Navigations(e); len(navs) > 0 {
			j.key("$NavigationPropertyBinding")
			j.open()
			for _, nav := range navs {
				j.str(nav.Name, nav.Target.Controller)
			}
			j.close()
		}
		j.close()
	}
	j.close()
	j.close()
	j.close()
	return j.b
}
