package httpapi_test

import (
	"encoding/json"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/ordo-fsm/ordo/internal/testenv"
)

// powerQueryHeaders are the headers Power Query's OData.Feed (Power BI
// Desktop, Excel "From OData Feed"; engine Microsoft.Data.Mashup) sends
// with every request of a feed.
var powerQueryHeaders = []string{
	"User-Agent", "Microsoft.Data.Mashup (https://go.microsoft.com/fwlink/?LinkID=304225)",
	"MaxDataServiceVersion", "3.0",
	"OData-MaxVersion", "4.0",
	"Accept", "application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7",
	// It also sends "Accept-Encoding: gzip, deflate"; Go's transport
	// asks for gzip by itself and decompresses, as Power Query does.
}

// pqEscape encodes an option value the way .NET's Uri.EscapeDataString does.
func pqEscape(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// TestODataPowerQueryClient mimics Power Query's OData.Feed on the service
// root: the service document, $metadata (read as CSDL XML, the only form it
// takes), then a folded query ($filter, $select, $top) whose pages it reads
// by following @odata.nextLink; every value must have the type $metadata
// declares for it.
func TestODataPowerQueryClient(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "BI")
		f := odMakeFixture(t, c, 3, 2)
		odBulkJobs(t, srv, dsn, c.Tenant.ID, f, 260, func(i int) time.Time {
			return time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		})
		all := odAll(t, c, "Jobs")

		checkResponse := func(r *testenv.Response, mediaType string) {
			t.Helper()
			if r.Status != 200 {
				t.Fatalf("status %d: %.300s", r.Status, r.Raw)
			}
			mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != mediaType || (mt == "application/json" && params["odata.metadata"] != "minimal") {
				t.Fatalf("Content-Type %q, want %s", r.Header.Get("Content-Type"), mediaType)
			}
			if v := r.Header.Values("OData-Version"); len(v) != 1 || v[0] != "4.0" {
				t.Fatalf("OData-Version headers %v", v)
			}
		}
		// 1. The service root: the navigation table of entity sets.
		r := c.Do("GET", "/api/", nil, powerQueryHeaders...)
		checkResponse(r, "application/json")
		var sets []string
		for _, v := range r.Body["value"].([]any) {
			sets = append(sets, v.(map[string]any)["url"].(string))
		}
		if !slices.Contains(sets, "Jobs") {
			t.Fatalf("service document without Jobs: %v", sets)
		}
		// 2. $metadata, as XML.
		r = c.Do("GET", "/api/$metadata", nil, powerQueryHeaders...)
		checkResponse(r, "application/xml")
		doc := parseCSDL(t, r.Raw)
		sch := doc.DataServices.Schemas[0]
		var jobsType string
		for _, s := range sch.Container.Sets {
			if s.Name == "Jobs" {
				jobsType = strings.TrimPrefix(s.EntityType, sch.Namespace+".")
			}
		}
		props := map[string][2]string{} // name → type, max length
		for _, et := range sch.EntityTypes {
			if et.Name == jobsType {
				for _, p := range et.Properties {
					props[p.Name] = [2]string{p.Type, p.MaxLength}
				}
			}
		}
		if len(props) == 0 {
			t.Fatalf("no entity type for the Jobs set")
		}
		// 3. The folded query, page after page.
		since := time.Date(2026, 1, 27, 11, 0, 0, 0, time.UTC)
		filter := "modified_dateutc gt 2026-01-27T11:00:00Z and estimated_time ge 90 and startswith(name,'Bulk')"
		path := "/api/Jobs?$filter=" + pqEscape(filter) + "&$select=" + pqEscape("id,name,estimated_time,modified_dateutc,project_id,id2") + "&$top=1000"
		var got []odRow
		pages := 0
		for path != "" {
			r := c.Do("GET", path, nil, powerQueryHeaders...)
			checkResponse(r, "application/json")
			pages++
			ctx, _ := r.Body["@odata.context"].(string)
			if !strings.HasPrefix(ctx, c.URL+"/api/$metadata#Jobs(") {
				t.Fatalf("@odata.context %q", ctx)
			}
			for _, v := range r.Body["value"].([]any) {
				row := v.(odRow)
				for k, val := range row {
					typ, ok := props[k]
					if !ok {
						t.Fatalf("%s is not a property of %s", k, jobsType)
					}
					if !pqValid(typ[0], typ[1], val) {
						t.Fatalf("%s = %#v is not a valid %s", k, val, typ[0])
					}
				}
				got = append(got, row)
			}
			next, _ := r.Body["@odata.nextLink"].(string)
			path = ""
			if next != "" {
				path = odPath(c, next)
			}
		}
		var want []odRow
		for _, j := range all {
			if odTime(j, "modified_dateutc").After(since) && odInt(j, "estimated_time") >= 90 && strings.HasPrefix(odStr(j, "name"), "Bulk") {
				want = append(want, j)
			}
		}
		odSort(want, nil)
		if !slices.Equal(odIDs(got), odIDs(want)) || pages != (len(want)+99)/100 {
			t.Fatalf("%d rows in %d pages, want %d rows", len(got), pages, len(want))
		}
		if len(want) < 101 {
			t.Fatalf("only %d rows: the feed does not page", len(want))
		}
	})
}

// pqValid checks a JSON value against an Edm type as a typed client reads it.
func pqValid(typ, maxLen string, v any) bool {
	switch typ {
	case "Edm.Guid":
		s, ok := v.(string)
		_, err := uuid.Parse(s)
		return ok && err == nil
	case "Edm.String":
		s, ok := v.(string)
		n, _ := strconv.Atoi(maxLen)
		return ok && (maxLen == "" || utf8.RuneCountInString(s) <= n)
	case "Edm.Int64":
		n, ok := v.(json.Number)
		_, err := n.Int64()
		return ok && err == nil
	case "Edm.Double":
		n, ok := v.(json.Number)
		_, err := n.Float64()
		return ok && err == nil
	case "Edm.Boolean":
		_, ok := v.(bool)
		return ok
	case "Edm.DateTimeOffset":
		s, ok := v.(string)
		_, err := time.Parse(time.RFC3339Nano, s)
		return ok && err == nil
	}
	return false
}
