package httpapi_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/schema"
)

// csdl is the part of a CSDL XML document the tests read.
type csdl struct {
	XMLName      xml.Name `xml:"Edmx"`
	Version      string   `xml:"Version,attr"`
	DataServices struct {
		Schemas []struct {
			Namespace   string `xml:"Namespace,attr"`
			EntityTypes []struct {
				Name string `xml:"Name,attr"`
				Key  struct {
					Refs []struct {
						Name string `xml:"Name,attr"`
					} `xml:"PropertyRef"`
				} `xml:"Key"`
				Properties []struct {
					Name      string `xml:"Name,attr"`
					Type      string `xml:"Type,attr"`
					Nullable  string `xml:"Nullable,attr"`
					MaxLength string `xml:"MaxLength,attr"`
					Precision string `xml:"Precision,attr"`
				} `xml:"Property"`
				Navs []struct {
					Name        string `xml:"Name,attr"`
					Type        string `xml:"Type,attr"`
					Partner     string `xml:"Partner,attr"`
					Constraints []struct {
						Property   string `xml:"Property,attr"`
						Referenced string `xml:"ReferencedProperty,attr"`
					} `xml:"ReferentialConstraint"`
				} `xml:"NavigationProperty"`
			} `xml:"EntityType"`
			Container struct {
				Name string `xml:"Name,attr"`
				Sets []struct {
					Name       string `xml:"Name,attr"`
					EntityType string `xml:"EntityType,attr"`
					Bindings   []struct {
						Path   string `xml:"Path,attr"`
						Target string `xml:"Target,attr"`
					} `xml:"NavigationPropertyBinding"`
				} `xml:"EntitySet"`
			} `xml:"EntityContainer"`
		} `xml:"Schema"`
	} `xml:"DataServices"`
}

func parseCSDL(t *testing.T, raw []byte) *csdl {
	t.Helper()
	var doc csdl
	if err := xml.NewDecoder(bytes.NewReader(raw)).Decode(&doc); err != nil {
		t.Fatalf("$metadata is not XML: %v\n%.500s", err, raw)
	}
	if doc.Version != "4.0" || len(doc.DataServices.Schemas) != 1 {
		t.Fatalf("Edmx version %q with %d schemas", doc.Version, len(doc.DataServices.Schemas))
	}
	return &doc
}

var edmOfKind = map[schema.Kind]string{schema.KindGUID: "Edm.Guid", schema.KindString: "Edm.String", schema.KindInt: "Edm.Int64",
	schema.KindDecimal: "Edm.Double", schema.KindBool: "Edm.Boolean", schema.KindDate: "Edm.DateTimeOffset"}

// TestODataMetadata checks $metadata against the registry: every entity
// type with its key, properties (type, length, precision, not nullable) and
// navigations (consistent with odata.Navigations, partners both ways), an
// entity set per controller; the same in JSON CSDL; content negotiation
// and authentication; the service document.
func TestODataMetadata(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		anon := *c
		anon.Auth = ""
		if r := anon.Do("GET", "/api/$metadata", nil); r.Status != 401 {
			t.Errorf("$metadata without credentials: %d, want 401", r.Status)
		}
		var xmlRaw []byte
		for _, accept := range []string{"", "application/xml", "application/xml;q=0.9, */*;q=0.8",
			"application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7"} {
			r := c.Do("GET", "/api/$metadata", nil, "Accept", accept)
			if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/xml") || r.Header.Get("OData-Version") != "4.0" {
				t.Fatalf("Accept %q: %d %s %.200s", accept, r.Status, r.Header.Get("Content-Type"), r.Raw)
			}
			if xmlRaw != nil && !bytes.Equal(xmlRaw, r.Raw) {
				t.Errorf("Accept %q: another document", accept)
			}
			xmlRaw = r.Raw
		}
		doc := parseCSDL(t, xmlRaw)
		sch := doc.DataServices.Schemas[0]
		types := map[string]int{}
		for i, et := range sch.EntityTypes {
			types[et.Name] = i
		}
		if len(types) != len(schema.Default.Entities) {
			t.Errorf("%d entity types, want %d", len(types), len(schema.Default.Entities))
		}
		for _, e := range schema.Default.Entities {
			i, ok := types[e.Name]
			if !ok {
				t.Errorf("no entity type %s", e.Name)
				continue
			}
			et := sch.EntityTypes[i]
			if len(et.Key.Refs) != 1 || et.Key.Refs[0].Name != "id" {
				t.Errorf("%s: key %v", e.Name, et.Key.Refs)
			}
			if len(et.Properties) != len(e.Fields) {
				t.Fatalf("%s: %d properties, want %d", e.Name, len(et.Properties), len(e.Fields))
			}
			names := map[string]bool{}
			for j, f := range e.Fields {
				p := et.Properties[j]
				names[p.Name] = true
				if p.Name != f.Name || p.Type != edmOfKind[f.Kind] || p.Nullable != "false" {
					t.Errorf("%s.%s: property %+v", e.Name, f.Name, p)
				}
				if f.Kind == schema.KindString && p.MaxLength != strconv.Itoa(f.MaxLength()) {
					t.Errorf("%s.%s: MaxLength %q, want %d", e.Name, f.Name, p.MaxLength, f.MaxLength())
				}
				if f.Kind == schema.KindDate && p.Precision != "6" {
					t.Errorf("%s.%s: Precision %q", e.Name, f.Name, p.Precision)
				}
			}
			navs := odata.Navigations(e)
			if len(et.Navs) != len(navs) {
				t.Fatalf("%s: %d navigation properties, want %d", e.Name, len(et.Navs), len(navs))
			}
			for j, nav := range navs {
				x := et.Navs[j]
				if names[x.Name] {
					t.Errorf("%s: %s is both a property and a navigation", e.Name, x.Name)
				}
				names[x.Name] = true
				wantType := "Ordo." + nav.Target.Name
				if nav.Many {
					wantType = "Collection(" + wantType + ")"
				} else if len(x.Constraints) != 1 || x.Constraints[0].Property != nav.Ref.IDField || x.Constraints[0].Referenced != "id" {
					t.Errorf("%s/%s: referential constraint %+v", e.Name, x.Name, x.Constraints)
				}
				if x.Name != nav.Name || x.Type != wantType {
					t.Errorf("%s: navigation %+v, want %s of %s", e.Name, x, nav.Name, wantType)
				}
				if x.Partner == "" {
					continue
				}
				back := sch.EntityTypes[types[nav.Target.Name]]
				found := false
				for _, bn := range back.Navs {
					if bn.Name == x.Partner {
						found = true
						if bn.Partner != x.Name || strings.HasPrefix(bn.Type, "Collection(") == nav.Many {
							t.Errorf("%s/%s: partner %s/%s is %+v", e.Name, x.Name, nav.Target.Name, x.Partner, bn)
						}
					}
				}
				if !found {
					t.Errorf("%s/%s: partner %s not on %s", e.Name, x.Name, x.Partner, nav.Target.Name)
				}
			}
		}
		if len(sch.Container.Sets) != len(schema.Default.Entities) {
			t.Errorf("%d entity sets", len(sch.Container.Sets))
		}
		for _, set := range sch.Container.Sets {
			e, ok := schema.Default.ByController(set.Name)
			if !ok || e.Controller != set.Name || set.EntityType != "Ordo."+e.Name {
				t.Errorf("entity set %+v", set)
				continue
			}
			for _, b := range set.Bindings {
				nav, ok := odata.NavigationOf(e, b.Path)
				if !ok || nav.Target.Controller != b.Target {
					t.Errorf("%s: binding %+v", set.Name, b)
				}
			}
		}

		// JSON CSDL: the same model.
		for _, how := range [][2]string{{"/api/$metadata?$format=json", ""}, {"/api/$metadata", "application/json"}} {
			r := c.Do("GET", how[0], nil, "Accept", how[1])
			if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%v: %d %s", how, r.Status, r.Header.Get("Content-Type"))
			}
			var j map[string]any
			if err := json.Unmarshal(r.Raw, &j); err != nil {
				t.Fatal(err)
			}
			if j["$EntityContainer"] != "Ordo.Container" {
				t.Errorf("$EntityContainer %v", j["$EntityContainer"])
			}
			ns := j["Ordo"].(map[string]any)
			for _, et := range sch.EntityTypes {
				jt, ok := ns[et.Name].(map[string]any)
				if !ok || jt["$Kind"] != "EntityType" {
					t.Fatalf("JSON CSDL lacks %s", et.Name)
				}
				for _, p := range et.Properties {
					jp := jt[p.Name].(map[string]any)
					typ, _ := jp["$Type"].(string)
					if typ == "" {
						typ = "Edm.String"
					}
					if typ != p.Type || jp["$Nullable"] != nil {
						t.Errorf("JSON %s.%s: %v", et.Name, p.Name, jp)
					}
					if p.MaxLength != "" && fmt.Sprint(jp["$MaxLength"]) != p.MaxLength {
						t.Errorf("JSON %s.%s: $MaxLength %v", et.Name, p.Name, jp["$MaxLength"])
					}
				}
				for _, n := range et.Navs {
					jn := jt[n.Name].(map[string]any)
					many := strings.HasPrefix(n.Type, "Collection(")
					if jn["$Kind"] != "NavigationProperty" || (jn["$Collection"] == true) != many || (jn["$Partner"] != nil && jn["$Partner"] != n.Partner) {
						t.Errorf("JSON %s/%s: %v", et.Name, n.Name, jn)
					}
				}
			}
			cont := ns["Container"].(map[string]any)
			for _, set := range sch.Container.Sets {
				if js, ok := cont[set.Name].(map[string]any); !ok || js["$Type"] != set.EntityType || js["$Collection"] != true {
					t.Errorf("JSON entity set %s: %v", set.Name, cont[set.Name])
				}
			}
		}
		if r := c.Do("HEAD", "/api/$metadata", nil); r.Status != 200 || len(r.Raw) != 0 {
			t.Errorf("HEAD $metadata: %d %d bytes", r.Status, len(r.Raw))
		}
		if r := c.Do("POST", "/api/$metadata", "{}"); r.Status != 405 {
			t.Errorf("POST $metadata: %d", r.Status)
		}

		// Context URLs point into the document.
		for _, path := range []string{"/api/Jobs", "/api/Jobs?$select=name", "/api/JobPlanning?$top=1"} {
			ctx, _ := c.Must(200, "GET", path, nil)["@odata.context"].(string)
			prefix := c.URL + "/api/$metadata#"
			set, _, _ := strings.Cut(strings.TrimPrefix(ctx, prefix), "(")
			if !strings.HasPrefix(ctx, prefix) || !strings.Contains(string(xmlRaw), `<EntitySet Name="`+set+`"`) {
				t.Errorf("%s: @odata.context %s is not an entity set of $metadata", path, ctx)
			}
		}

		// The service document lists every entity set.
		sd := c.Must(200, "GET", "/api/", nil)
		if sd["@odata.context"] != c.URL+"/api/$metadata" || len(sd["value"].([]any)) != len(schema.Default.Entities) {
			t.Errorf("service document %v", sd)
		}
		for _, v := range sd["value"].([]any) {
			s := v.(map[string]any)
			if _, ok := schema.Default.ByController(s["url"].(string)); !ok || s["kind"] != "EntitySet" || s["name"] != s["url"] {
				t.Errorf("service document entry %v", s)
			}
		}
	})
}
