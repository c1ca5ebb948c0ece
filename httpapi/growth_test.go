package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/schema"
)

// Growth: no request's cost may grow with rows it does not touch. A growth
// tenant holds n jobs, loaded through sqlstore's bulk path: all but a
// thousand in one big project, the rest in a small one, so a write can also
// be compared between a project of ~n jobs and one of 1,000. Every
// measurement is one client sending requests one after another over real
// HTTP: its latency, not the machine's throughput.

var growthBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type growthEnv struct {
	srv                *testenv.Server
	c                  *testenv.Client
	bigJobs, smallJobs []string
	bigProject         map[string]any
	jobType            map[string]any
	seedID             string
	seedBody           map[string]any
	n                  int
	http               *http.Client
	dsn                string
	// next is where the next benchmark measurement starts, so repeated runs
	// (the benchmark's calibration) never touch a row twice (DELETE).
	next int
}

func buildGrowth(t testing.TB, dsn string, n int) *growthEnv {
	t.Helper()
	ctx := context.Background()
	srv := testenv.NewServer(t, dsn)
	c := srv.Tenant(t, "GROWTH")
	g := &growthEnv{srv: srv, c: c, n: n, dsn: dsn, http: &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}}}
	g.jobType = c.Must(201, "POST", "/api/JobType", map[string]any{"code": "REPAIR", "name": "Repair"})
	co := c.Must(201, "POST", "/api/Company", map[string]any{"code": "GC1", "name": "Growth company"})
	project := func(ref string) map[string]any {
		return c.Must(201, "POST", "/api/Project", map[string]any{"reference_back_office": ref, "name": "Lift " + ref,
			"company_id": co["id"], "project_status": map[string]any{"code": "ACTIVE", "name": "Active"}})
	}
	g.bigProject = project("BIG")
	small := project("SMALL")
	nSmall := min(1000, n/2)

	start := time.Now()
	e := schema.Default.MustEntity("jobs")
	const chunk = 20000
	for from := 0; from < n; from += chunk {
		var recs []ordo.Record
		for i := from; i < min(n, from+chunk); i++ {
			p := g.bigProject
			if i < nSmall {
				p = small
			}
			m := growthBase.Add(time.Duration(i/10) * time.Second)
			id := uuid.NewString()
			recs = append(recs, ordo.Record{"id": id, "name": fmt.Sprintf("Growth job %d", i), "reference_back_office": fmt.Sprintf("G%07d", i),
				"description":       "Yearly maintenance of the lift, machine room and doors",
				"db_address_street": fmt.Sprintf("%d Main street", i%500), "db_address_city": "Lyon", "db_address_zip": "69001",
				"project_id": p["id"], "project_reference_back_office": p["reference_back_office"],
				"job_type_id": g.jobType["id"], "job_type_code": "REPAIR", "job_status_id": ordo.StatusOpen, "job_status_code": "Open",
				"company_id": co["id"], "company_code": "GC1", "id2": int64(1000 + i), "estimated_time": int64(30 * (1 + i%8)),
				"modified_dateutc": m, "date_create": m, "date_update": m})
			if i < nSmall {
				g.smallJobs = append(g.smallJobs, id)
			} else {
				g.bigJobs = append(g.bigJobs, id)
			}
		}
		if err := srv.DB.BulkInsert(ctx, c.Tenant.ID, e, recs); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Service.RecomputeProjectAggregates(ctx, c.Tenant.ID, []string{g.bigProject["id"].(string), small["id"].(string)}); err != nil {
		t.Fatal(err)
	}
	if err := srv.DB.Analyze(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d jobs loaded in %v", dbName(dsn), n, time.Since(start).Round(time.Millisecond))

	g.seedBody = preparedSeedBody(t)
	seedFixture(t, c, g.seedBody)
	g.seedID = g.seedBody["id"].(string)
	c.Must(200, "PUT", "/api/Jobs("+g.seedID+")", g.seedBody)
	return g
}

func dbName(dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return "postgres"
	}
	return "sqlite"
}

// flatJob is a POST body of about 40 fields, as an ERP creating a job sends.
func (g *growthEnv) flatJob(i int) map[string]any {
	body := map[string]any{
		"name": fmt.Sprintf("New job %d", i), "reference_back_office": fmt.Sprintf("N%d-%s", i, uuid.NewString()[:8]),
		"description": "Door does not close", "project_id": g.bigProject["id"], "job_type_id": g.jobType["id"],
		"job_status_code": "Open", "estimated_time": 90,
		"db_address_street": "1 Main street", "db_address_city": "Lyon", "db_address_zip": "69001",
		"db_address_latitude_decimal": 45.76, "db_address_longitude_decimal": 4.83,
		"due_date": "2026-12-20T00:00:00Z", "earliest_date_plannable": "2026-12-10T00:00:00Z",
	}
	for k := 1; k <= 25; k++ {
		body[fmt.Sprintf("udf%d", k)] = fmt.Sprintf("value %d", k)
	}
	return body
}

// growthScenario is one kind of request; req returns the i-th request.
type growthScenario struct {
	name string
	req  func(g *growthEnv, i int) (method, path string, body any, want int)
}

var growthScenarios = []growthScenario{
	{"GET job", func(g *growthEnv, i int) (string, string, any, int) {
		return "GET", "/api/Jobs(" + g.pick(i) + ")", nil, 200
	}},
	{"POST flat job", func(g *growthEnv, i int) (string, string, any, int) {
		return "POST", "/api/Jobs", g.flatJob(i), 201
	}},
	{"PUT seed job", func(g *growthEnv, i int) (string, string, any, int) {
		return "PUT", "/api/Jobs(" + g.seedID + ")", g.seedBody, 200
	}},
	{"PATCH 1 field, big project", func(g *growthEnv, i int) (string, string, any, int) {
		return "PATCH", "/api/Jobs(" + g.pick(i) + ")", map[string]any{"description": "patched " + strconv.Itoa(i)}, 200
	}},
	{"PATCH 1 field, 1k project", func(g *growthEnv, i int) (string, string, any, int) {
		return "PATCH", "/api/Jobs(" + g.smallJobs[(i*7919)%len(g.smallJobs)] + ")", map[string]any{"description": "patched " + strconv.Itoa(i)}, 200
	}},
	{"PATCH status, big project", func(g *growthEnv, i int) (string, string, any, int) {
		return "PATCH", "/api/Jobs(" + g.pick(i) + ")", map[string]any{"job_status_code": []string{"ToBePlanned", "Open"}[(i/(len(g.bigJobs)/2))%2]}, 200
	}},
	{"DELETE job", func(g *growthEnv, i int) (string, string, any, int) {
		return "DELETE", "/api/Jobs(" + g.bigJobs[len(g.bigJobs)/2+i%(len(g.bigJobs)/2)] + ")", nil, 204
	}},
	{"delta page, full rows", func(g *growthEnv, i int) (string, string, any, int) {
		return "GET", odQuery("Jobs", "$filter=modified_dateutc gt "+g.middle()+"&$orderby=modified_dateutc"), nil, 200
	}},
	{"delta page, $select 3", func(g *growthEnv, i int) (string, string, any, int) {
		return "GET", odQuery("Jobs", "$filter=modified_dateutc gt "+g.middle()+"&$orderby=modified_dateutc&$select=name,reference_back_office,modified_dateutc"), nil, 200
	}},
	{"path $filter page", func(g *growthEnv, i int) (string, string, any, int) {
		return "GET", odQuery("Jobs", "$filter=project/company/code eq 'GC1'&$select=name,reference_back_office,modified_dateutc"), nil, 200
	}},
}

// pick is the i-th job of the big project that requests read and update:
// one of its first half (DELETE takes the second).
func (g *growthEnv) pick(i int) string { return g.bigJobs[(i*7919)%(len(g.bigJobs)/2)] }

// middle is a delta-sync watermark in the middle of the bulk jobs.
func (g *growthEnv) middle() string {
	return growthBase.Add(time.Duration(g.n/20) * time.Second).Format(time.RFC3339)
}

func growthScenarioNamed(name string) growthScenario {
	for _, s := range growthScenarios {
		if s.name == name {
			return s
		}
	}
	panic("no growth scenario " + name)
}

// growthFigures are the latencies of k requests of one scenario.
type growthFigures struct {
	p50, p99 time.Duration
	rate     float64
}

// send sends the i-th request of s and returns its latency.
func (g *growthEnv) send(t testing.TB, s growthScenario, i int) time.Duration {
	method, path, body, want := s.req(g, i)
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, g.c.URL+path, rd)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(g.c.Auth)))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	t0 := time.Now()
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	return d
}

func figures(lat []time.Duration, elapsed time.Duration) growthFigures {
	slices.Sort(lat)
	return growthFigures{p50: lat[len(lat)/2], p99: lat[min(len(lat)-1, len(lat)*99/100)], rate: float64(len(lat)) / elapsed.Seconds()}
}

// measure sends k requests of s, from offset (so repeated runs touch other
// rows), and returns their latency percentiles and rate.
func (g *growthEnv) measure(t testing.TB, s growthScenario, offset, k int) growthFigures {
	t.Helper()
	lat := make([]time.Duration, 0, k)
	start := time.Now()
	for i := offset; i < offset+k; i++ {
		lat = append(lat, g.send(t, s, i))
	}
	return figures(lat, time.Since(start))
}

// compare sends k requests of sa to a and of sb to b, alternating, so that
// both sides meet the same load from the rest of the machine; it returns
// the median latencies.
func compare(t testing.TB, a *growthEnv, sa growthScenario, b *growthEnv, sb growthScenario, offset, k int) (time.Duration, time.Duration) {
	t.Helper()
	la, lb := make([]time.Duration, 0, k), make([]time.Duration, 0, k)
	for i := offset; i < offset+k; i++ {
		la = append(la, a.send(t, sa, i))
		lb = append(lb, b.send(t, sb, i))
	}
	return figures(la, time.Second).p50, figures(lb, time.Second).p50
}

// TestGrowthGuard holds the flatness in CI: at 50,000 jobs each request's
// median latency stays within 2x of the same request at 1,000 jobs, and a
// write to a job of a project of ~50,000 jobs within 2x of one in a project
// of 1,000. The bound is generous (the target, 1.5x from 10k to 1M, is
// measured by BenchmarkGrowth); a scan over the tenant's jobs costs far more.
func TestGrowthGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 50,000 jobs per database")
	}
	testenv.Each(t, func(t *testing.T, dsn string) {
		smallN, bigN := 1000, 50000
		if env := os.Getenv("ORDO_GROWTH_GUARD_SIZES"); env != "" { // e.g. 10000,1000000 for the 1M comparison
			if _, err := fmt.Sscanf(env, "%d,%d", &smallN, &bigN); err != nil || smallN < 1000 || bigN < smallN {
				t.Fatalf("ORDO_GROWTH_GUARD_SIZES=%q: want two sizes, small,big, of at least 1000", env)
			}
		}
		small := buildGrowth(t, dsn, smallN)
		bigDSN := testenv.SQLite(t)
		if strings.HasPrefix(dsn, "postgres") {
			bigDSN = testenv.Postgres(t)
		}
		big := buildGrowth(t, bigDSN, bigN)
		const k = 41
		check := func(what string, a *growthEnv, sa growthScenario, b *growthEnv, sb growthScenario) {
			t.Helper()
			// The best of at least three rounds of alternating requests (up
			// to six while the bound is not met): a scan shows in every
			// round, a noisy neighbour on the machine in some.
			var ra, rb time.Duration
			ratio := 0.0
			for round := 0; round < 3 || (ratio > 2 && round < 6); round++ {
				pa, pb := compare(t, a, sa, b, sb, round*k, k)
				if r := float64(pb) / float64(pa); round == 0 || r < ratio {
					ratio, ra, rb = r, pa, pb
				}
			}
			t.Logf("%-40s p50 %7.2f ms against %7.2f ms: %.2fx", what, ms(rb), ms(ra), ratio)
			if ratio > 2 {
				t.Errorf("%s: p50 %.2f ms is %.1fx the %.2f ms of the small case", what, ms(rb), ratio, ms(ra))
			}
		}
		for _, name := range []string{"GET job", "POST flat job", "PUT seed job", "PATCH 1 field, big project", "PATCH status, big project", "DELETE job", "delta page, $select 3"} {
			s := growthScenarioNamed(name)
			check(fmt.Sprintf("%s, %d jobs against %d", name, bigN, smallN), small, s, big, s)
		}
		// The same tenant: a job of the big project against one of the small.
		check(fmt.Sprintf("PATCH, %d-job project against 1k", bigN-1000), big, growthScenarioNamed("PATCH 1 field, 1k project"), big, growthScenarioNamed("PATCH 1 field, big project"))

		// The plans of every statement the requests run: none may scan the
		// tenant's jobs.
		for _, s := range growthScenarios {
			if s.name == "path $filter page" {
				continue // it reads the company's 50,000 jobs to sort them by id: it touches them
			}
			for _, bad := range big.scans(t, s) {
				t.Errorf("%s scans a big table:\n%s", s.name, bad)
			}
		}
	})
}

// scans runs one request of s, then asks the database for the plan of each
// statement it ran, and returns the statements whose plan scans jobs or
// plannings (SQLite "SCAN", PostgreSQL "Seq Scan").
func (g *growthEnv) scans(t testing.TB, s growthScenario) []string {
	type stmt struct {
		q    string
		args []any
	}
	var ran []stmt
	g.srv.DB.TraceStatements(func(q string, args []any) { ran = append(ran, stmt{q, append([]any(nil), args...)}) })
	g.send(t, s, 1000+g.next)
	g.next++
	g.srv.DB.TraceStatements(nil)
	var bad []string
	for _, st := range ran {
		plan, err := g.srv.DB.Plan(context.Background(), st.q, st.args)
		if err != nil {
			t.Fatalf("explain %s: %v", st.q, err)
		}
		if planScansBigTable(st.q, plan) {
			bad = append(bad, st.q+"\n  "+strings.Join(plan, "\n  "))
		}
	}
	return bad
}

// planScansBigTable reads a plan for a full scan of jobs, the one big table
// of a growth tenant (a planner rightly scans a table of a few rows). A
// SQLite plan of a UNION ALL lists its members in order, so each member's
// steps are matched with the table it reads; scans of small tables (which
// the planner rightly prefers on a few rows) pass.
func planScansBigTable(query string, plan []string) bool {
	big := func(sql string) bool {
		return strings.Contains(sql, `FROM "jobs"`) || strings.Contains(sql, "FROM jobs")
	}
	members := strings.Split(query, " UNION ALL ")
	groups := [][]string{nil}
	for _, line := range plan {
		switch l := strings.TrimSpace(line); l {
		case "UNION ALL":
			groups = append(groups, nil)
		case "COMPOUND QUERY", "LEFT-MOST SUBQUERY":
		default:
			groups[len(groups)-1] = append(groups[len(groups)-1], l)
		}
	}
	if len(groups) != len(members) {
		groups, members = [][]string{plan}, []string{query}
	}
	for i, g := range groups {
		for _, l := range g {
			l = strings.TrimSpace(l)
			if strings.Contains(l, "Seq Scan on jobs") || (strings.HasPrefix(l, "SCAN ") && big(members[i])) {
				return true
			}
		}
	}
	return false
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkGrowth prints the growth table of docs/performance.md: every
// scenario at each size of ORDO_GROWTH_SIZES (default 10000,100000), on
// SQLite and, when configured, PostgreSQL. -benchtime Nx sets the requests
// per scenario (default 200). Loading is not timed.
//
//	ORDO_GROWTH_SIZES=10000,100000,1000000 go test ./httpapi -run '^$' -bench Growth -benchtime 200x -timeout 90m
func BenchmarkGrowth(b *testing.B) {
	sizes := []int{10000, 100000}
	if env := os.Getenv("ORDO_GROWTH_SIZES"); env != "" {
		sizes = nil
		for _, s := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 2000 {
				b.Fatalf("ORDO_GROWTH_SIZES: %q is not a size of at least 2000", s)
			}
			sizes = append(sizes, n)
		}
	}
	type row struct {
		db, scenario string
		size         int
		f            growthFigures
	}
	var table []row
	benchDatabases(b, func(b *testing.B, _ string) {
		db := b.Name()[strings.LastIndex(b.Name(), "/")+1:]
		for _, n := range sizes {
			b.Run(strconv.Itoa(n), func(b *testing.B) {
				dsn := testenv.SQLite(b)
				if db == "postgres" {
					dsn = testenv.Postgres(b)
				}
				g := buildGrowth(b, dsn, n)
				for _, s := range growthScenarios {
					b.Run(s.name, func(b *testing.B) {
						k := max(b.N, 20)
						f := g.measure(b, s, g.next, k)
						g.next += k
						b.ReportMetric(ms(f.p50), "p50-ms")
						b.ReportMetric(ms(f.p99), "p99-ms")
						b.ReportMetric(f.rate, "req/s")
						if b.N >= 20 { // the calibration run (b.N = 1) is not a figure
							table = append(table, row{db, s.name, n, f})
							if s.name != "path $filter page" { // it touches the company's jobs (see the guard)
								for _, bad := range g.scans(b, s) {
									b.Errorf("%s scans a big table at %d jobs:\n%s", s.name, n, bad)
								}
							}
						}
					})
				}
			})
		}
	})
	var out strings.Builder
	fmt.Fprintf(&out, "\n| database | request | jobs | p50 ms | p99 ms | req/s |\n|---|---|---:|---:|---:|---:|\n")
	for _, r := range table {
		fmt.Fprintf(&out, "| %s | %s | %d | %.2f | %.2f | %.0f |\n", r.db, r.scenario, r.size, ms(r.f.p50), ms(r.f.p99), r.f.rate)
	}
	b.Log(out.String())
}

func TestPlanScansBigTable(t *testing.T) {
	union := `SELECT 0 FROM "jobs" t WHERE x UNION ALL SELECT 1 FROM "project" t WHERE y`
	for _, tc := range []struct {
		query string
		plan  []string
		want  bool
	}{
		{union, []string{"COMPOUND QUERY", "LEFT-MOST SUBQUERY", "SEARCH t USING INDEX a (tenant_id=? AND id=?)", "UNION ALL", "SCAN t"}, false},
		{union, []string{"COMPOUND QUERY", "LEFT-MOST SUBQUERY", "SCAN t", "UNION ALL", "SEARCH t USING INDEX b"}, true},
		{`SELECT 1 FROM "jobs" t WHERE x`, []string{"SCAN t"}, true},
		{`SELECT 1 FROM "jobs" t WHERE x`, []string{"SEARCH t USING INDEX ix (tenant_id=?)"}, false},
		{`SELECT 1 FROM "jobs" t WHERE x`, []string{"Limit", "  ->  Seq Scan on jobs t"}, true},
		{`SELECT 1 FROM "project" t WHERE x`, []string{"Seq Scan on project t"}, false},
		{`SELECT 1 FROM "job_planning" t WHERE x`, []string{"Seq Scan on job_planning t"}, false},
	} {
		if got := planScansBigTable(tc.query, tc.plan); got != tc.want {
			t.Errorf("%s %v: %v, want %v", tc.query, tc.plan, got, tc.want)
		}
	}
}
