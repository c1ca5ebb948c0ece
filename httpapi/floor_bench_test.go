package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/schema"
)

// The raw floor: what the hardware allows for a page of 100 full jobs. A
// plain net/http handler on the same database and driver runs one prepared
// statement over the same table and columns, scans each row into a map and
// encodes the page with encoding/json: no authentication, validation, OData
// or rules. BenchmarkListPageFloor measures it and Ordo's own page of the
// same rows in one run, alternating requests, and reports Ordo's rate as a
// share of the floor's.
func BenchmarkListPageFloor(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		g := buildGrowth(b, dsn, 10000)
		e := schema.Default.MustEntity("jobs")
		cols := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			cols[i] = `"` + f.Name + `"`
		}
		p1, p2 := "?1", "?2"
		if strings.HasPrefix(dsn, "postgres") {
			p1, p2 = "$1", "$2"
		}
		raw := testenv.RawDB(b, dsn)
		stmt, err := raw.Prepare("SELECT " + strings.Join(cols, ", ") + " FROM jobs WHERE tenant_id = " + p1 +
			" AND modified_dateutc > " + p2 + " ORDER BY modified_dateutc, id LIMIT 100")
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		since := growthBase.Add(time.Duration(g.n/20) * time.Second)
		var sinceArg any = since
		if !strings.HasPrefix(dsn, "postgres") {
			sinceArg = since.Format("2006-01-02T15:04:05.000000Z")
		}
		floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rows, err := stmt.QueryContext(r.Context(), g.c.Tenant.ID, sinceArg)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer rows.Close()
			var page []map[string]any
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				row := make(map[string]any, len(cols))
				for i, f := range e.Fields {
					switch v := vals[i].(type) {
					case []byte:
						row[f.Name] = string(v)
					case [16]byte:
						row[f.Name] = uuid.UUID(v).String()
					default:
						row[f.Name] = v
					}
				}
				page = append(page, row)
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"value": page})
		}))
		defer floor.Close()

		ordoPage := growthScenarioNamed("delta page, full rows")
		floorPage := growthScenario{"floor", func(*growthEnv, int) (string, string, any, int) { return "GET", "/", nil, 200 }}
		floorEnv := *g
		floorEnv.c = &testenv.Client{URL: floor.URL, Auth: g.c.Auth}
		if n := len(g.c.Must(200, "GET", odQuery("Jobs", "$filter=modified_dateutc gt "+g.middle()+"&$orderby=modified_dateutc"), nil)["value"].([]any)); n != 100 {
			b.Fatalf("Ordo's page has %d rows, want 100", n)
		}
		k := max(b.N, 50)
		b.ResetTimer()
		po, pf := compare(b, g, ordoPage, &floorEnv, floorPage, 0, k)
		b.ReportMetric(ms(po), "ordo-p50-ms")
		b.ReportMetric(ms(pf), "floor-p50-ms")
		b.ReportMetric(float64(pf)/float64(po), "ordo/floor-rate")
	})
}
