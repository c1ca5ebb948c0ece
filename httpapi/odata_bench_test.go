package httpapi_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/odata"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// The OData benchmarks run on 100,000 jobs of 200 projects of 50 companies
// (2,000 jobs a company), built once per benchmark and database with bulk
// INSERTs; every 10 jobs share a modified_dateutc, one second apart. Each
// iteration is one HTTP request, one client at a time: the latency of a page.

const odBenchJobs = 100000

var odBenchBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func odBenchServer(b *testing.B, dsn string) (*testenv.Server, *testenv.Client) {
	srv := testenv.NewServer(b, dsn)
	c := srv.Tenant(b, "BENCH")
	f := odMakeFixture(b, c, 50, 4)
	start := time.Now()
	odBulkJobs(b, srv, dsn, c.Tenant.ID, f, odBenchJobs, func(i int) time.Time { return odBenchBase.Add(time.Duration(i/10) * time.Second) })
	b.Logf("%d jobs inserted in %v", odBenchJobs, time.Since(start).Round(time.Millisecond))
	return srv, c
}

// odBenchPlan logs the SQL a page of a query runs (after the position of
// skipToken, when given) and the database's plan for it.
func odBenchPlan(b *testing.B, srv *testenv.Server, c *testenv.Client, rawQuery, skipToken string) {
	e := schema.Default.MustEntity("jobs")
	q, err := odata.ParseRawQuery(e, rawQuery, odata.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	var after []any
	if skipToken != "" {
		if after, err = q.DecodeSkipToken(skipToken, strconv.FormatInt(c.Tenant.ID, 10)); err != nil {
			b.Fatal(err)
		}
	}
	stmt, plan, err := srv.DB.Explain(context.Background(), c.Tenant.ID, e, ordo.Query{Limit: 101,
		Filter: func(alias string, args *sqldialect.Args) (string, string, string, error) {
			s, err := q.PageSQL(alias, args, after)
			if err != nil {
				return "", "", "", err
			}
			return s.Joins, s.Where, s.OrderBy, nil
		}})
	if err != nil {
		b.Fatal(err)
	}
	if i := strings.Index(stmt, " FROM "); i >= 0 {
		stmt = "SELECT t.* " + stmt[i+1:]
	}
	b.Logf("%s\n%s\n  %s", rawQuery, stmt, strings.Join(plan, "\n  "))
}

// odBenchGet measures GET path: the row count is checked once, then the
// loop reads raw bodies (no gzip, no JSON decoding), so the figure is the
// server's latency plus the loopback.
func odBenchGet(b *testing.B, c *testenv.Client, path string, wantRows int) {
	if n := len(c.Must(200, "GET", path, nil)["value"].([]any)); n != wantRows {
		b.Fatalf("%s: %d rows, want %d", path, n, wantRows)
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	req, _ := http.NewRequest("GET", c.URL+path, nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.Auth)))
	b.ResetTimer()
	var bytes int64
	for i := 0; i < b.N; i++ {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
		bytes += n
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
	b.ReportMetric(float64(bytes)/float64(b.N)/1024, "KiB/page")
}

// The plans are logged after the runs: a SQLite connection opened before
// the statistics were refreshed plans with the old ones until it reloads.

// BenchmarkODataDeltaSync: a page of a delta sync from the middle of the
// data set, $filter=modified_dateutc gt ... &$orderby=modified_dateutc, the
// first page and a page reached by its $skiptoken; full rows and $select.
func BenchmarkODataDeltaSync(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		srv, c := odBenchServer(b, dsn)
		since := odBenchBase.Add(odBenchJobs / 10 / 2 * time.Second).Format(time.RFC3339)
		query := "$filter=modified_dateutc gt " + since + "&$orderby=modified_dateutc"
		first := odQuery("Jobs", query)
		next := odPath(c, c.Must(200, "GET", first, nil)["@odata.nextLink"].(string))
		b.Run("first page", func(b *testing.B) { odBenchGet(b, c, first, 100) })
		b.Run("next page", func(b *testing.B) { odBenchGet(b, c, next, 100) })
		// A page deep in the walk: 40,000 rows after the filter's bound.
		q, err := odata.ParseRawQuery(schema.Default.MustEntity("jobs"), query, odata.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		deepToken := q.EncodeSkipToken([]any{odBenchBase.Add(9000 * time.Second), "00000000-0000-0000-0000-000000000000"}, strconv.FormatInt(c.Tenant.ID, 10))
		deep := odQuery("Jobs", query) + "&$skiptoken=" + deepToken
		b.Run("deep page", func(b *testing.B) { odBenchGet(b, c, deep, 100) })
		b.Run("deep page, select 3 fields", func(b *testing.B) {
			odBenchGet(b, c, odQuery("Jobs", query+"&$select=name,reference_back_office,modified_dateutc")+"&$skiptoken="+deepToken, 100)
		})
		b.Run("select 3 fields", func(b *testing.B) {
			odBenchGet(b, c, odQuery("Jobs", query+"&$select=name,reference_back_office,modified_dateutc"), 100)
		})
		odBenchPlan(b, srv, c, query, "")
		odBenchPlan(b, srv, c, query, deepToken)
	})
}

// BenchmarkODataPathFilter: a page of jobs filtered through two levels of
// references, $filter=project/company/code eq '...'.
func BenchmarkODataPathFilter(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		srv, c := odBenchServer(b, dsn)
		query := "$filter=project/company/code eq 'C0042'"
		b.Run("first page", func(b *testing.B) { odBenchGet(b, c, odQuery("Jobs", query), 100) })
		b.Run("select 3 fields", func(b *testing.B) {
			odBenchGet(b, c, odQuery("Jobs", query+"&$select=name,reference_back_office,modified_dateutc"), 100)
		})
		b.Run("with $count", func(b *testing.B) { odBenchGet(b, c, odQuery("Jobs", query+"&$count=true&$select=id"), 100) })
		odBenchPlan(b, srv, c, query, "")
	})
}

// BenchmarkODataApply: $apply over the 100,000 jobs (one grouped query),
// a navigation path used as a resource, and an order on nav/$count.
func BenchmarkODataApply(b *testing.B) {
	benchDatabases(b, func(b *testing.B, dsn string) {
		_, c := odBenchServer(b, dsn)
		b.Run("groupby company, count and sum (50 groups)", func(b *testing.B) {
			odBenchGet(b, c, odQuery("Jobs", "$apply=groupby((project/company/code),aggregate($count as jobs,estimated_time with sum as minutes))"), 50)
		})
		b.Run("groupby status and company", func(b *testing.B) {
			odBenchGet(b, c, odQuery("Jobs", "$apply=groupby((job_status_code,project/company/code),aggregate($count as jobs))&$count=true"), 50)
		})
		b.Run("filter one company, aggregate", func(b *testing.B) {
			odBenchGet(b, c, odQuery("Jobs", "$apply=filter(project/company/code eq 'C0042')/aggregate($count as n,estimated_time with sum as minutes,modified_dateutc with max as last)"), 1)
		})
		pid := c.Must(200, "GET", "/api/Project?$top=1&$select=id", nil)["value"].([]any)[0].(map[string]any)["id"].(string)
		b.Run("navigation path Project(id)/jobs, 3 fields", func(b *testing.B) {
			odBenchGet(b, c, odQuery("Project("+pid+")/jobs", "$select=name,reference_back_office,modified_dateutc"), 100)
		})
		b.Run("orderby job_planning/$count, 3 fields", func(b *testing.B) {
			odBenchGet(b, c, odQuery("Jobs", "$filter=project/company/code eq 'C0042'&$orderby=job_planning/$count desc&$select=name,reference_back_office,modified_dateutc"), 100)
		})
	})
}
