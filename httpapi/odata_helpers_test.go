package httpapi_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// Helpers of the OData tests (names start with od to stay clear of the
// package's other tests).

// odRow is a decoded JSON object of a response (numbers as json.Number).
type odRow = map[string]any

func odStr(r odRow, f string) string {
	s, _ := r[f].(string)
	return s
}

func odInt(r odRow, f string) int64 {
	n, _ := r[f].(json.Number)
	i, err := n.Int64()
	if err != nil {
		panic(fmt.Sprintf("%s = %v is not an integer", f, r[f]))
	}
	return i
}

func odFloat(r odRow, f string) float64 {
	n, _ := r[f].(json.Number)
	x, err := n.Float64()
	if err != nil {
		panic(fmt.Sprintf("%s = %v is not a number", f, r[f]))
	}
	return x
}

func odBool(r odRow, f string) bool {
	b, ok := r[f].(bool)
	if !ok {
		panic(fmt.Sprintf("%s = %v is not a boolean", f, r[f]))
	}
	return b
}

func odTime(r odRow, f string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, odStr(r, f))
	if err != nil {
		panic(fmt.Sprintf("%s = %v is not a date: %v", f, r[f], err))
	}
	return t
}

// odPath turns an absolute link of the server into a path for Client.Do.
func odPath(c *testenv.Client, link string) string {
	if !strings.HasPrefix(link, c.URL) {
		panic("link outside the server: " + link)
	}
	return link[len(c.URL):]
}

// odEscape percent-encodes what a query written for humans needs encoded
// (spaces, '+', '#', '%'), leaving the OData punctuation readable.
func odEscape(q string) string {
	r := strings.NewReplacer("%", "%25", " ", "%20", "+", "%2B", "#", "%23", `"`, "%22")
	return r.Replace(q)
}

// odPage is what a walk over @odata.nextLink returned.
type odPage struct {
	Rows     []odRow
	Pages    int
	Count    *int64 // @odata.count of the first page
	Context  string // @odata.context of the first page
	NextRaws []string
}

// odWalk GETs path and follows @odata.nextLink to the end.
func odWalk(t *testing.T, c *testenv.Client, path string, headers ...string) odPage {
	t.Helper()
	var out odPage
	for path != "" {
		r := c.Do("GET", path, nil, headers...)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
		}
		if out.Pages == 0 {
			out.Context, _ = r.Body["@odata.context"].(string)
			if n, ok := r.Body["@odata.count"].(json.Number); ok {
				v, _ := n.Int64()
				out.Count = &v
			}
		}
		out.Pages++
		for _, v := range r.Body["value"].([]any) {
			out.Rows = append(out.Rows, v.(odRow))
		}
		next, _ := r.Body["@odata.nextLink"].(string)
		path = ""
		if next != "" {
			out.NextRaws = append(out.NextRaws, next)
			path = odPath(c, next)
		}
		if out.Pages > 10000 {
			t.Fatalf("more than 10000 pages from %s", path)
		}
	}
	return out
}

// odAll reads every row of a controller, by id.
func odAll(t *testing.T, c *testenv.Client, controller string) map[string]odRow {
	t.Helper()
	out := map[string]odRow{}
	for _, r := range odWalk(t, c, "/api/"+controller).Rows {
		out[odStr(r, "id")] = r
	}
	return out
}

// odKey is one sort key of an expected order.
type odKey struct {
	val  func(odRow) any // string, int64, float64, bool or time.Time
	desc bool
}

func odCompare(a, b any) int {
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		return cmp.Compare(x, b.(float64))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case time.Time:
		return x.Compare(b.(time.Time))
	}
	panic(fmt.Sprintf("cannot compare %T", a))
}

// odSort orders rows by keys, then id (in the direction of the last key),
// as the server does.
func odSort(rows []odRow, keys []odKey) {
	idDesc := len(keys) > 0 && keys[len(keys)-1].desc
	sort.SliceStable(rows, func(i, j int) bool {
		for _, k := range keys {
			c := odCompare(k.val(rows[i]), k.val(rows[j]))
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		c := strings.Compare(odStr(rows[i], "id"), odStr(rows[j], "id"))
		if idDesc {
			c = -c
		}
		return c < 0
	})
}

// odTopLevel splits a query string (written for humans) into its top-level
// options; values keep their nested text.
func odTopLevel(q string) map[string]string {
	out := map[string]string{}
	for _, pair := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(pair, "=")
		out[k] = v
	}
	return out
}

// odExpandNames are the top-level navigation names of an $expand value.
func odExpandNames(v string) []string {
	var names []string
	depth, start := 0, 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || (v[i] == ',' && depth == 0) {
			item := v[start:i]
			if j := strings.IndexByte(item, '('); j >= 0 {
				item = item[:j]
			}
			if item = strings.TrimSpace(item); item != "" {
				names = append(names, item)
			}
			start = i + 1
			continue
		}
		switch v[i] {
		case '(':
			depth++
		case ')':
			depth--
		}
	}
	return names
}

// odIDs lists the ids of rows.
func odIDs(rows []odRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = odStr(r, "id")
	}
	return out
}

// odSameJSON compares two decoded JSON values.
func odSameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// odKeys lists a row's member names, sorted.
func odKeys(r odRow) []string {
	var out []string
	for k := range r {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// odQuery builds /api/<controller>?<escaped query>.
func odQuery(controller, q string) string {
	if q == "" {
		return "/api/" + controller
	}
	return "/api/" + controller + "?" + odEscape(q)
}

// odFixture is what bulk jobs hang on: projects of companies, a job type.
type odFixture struct {
	companies []odRow // code, id
	projects  []odRow // id, reference_back_office, company_id, company_code
	jobType   odRow
}

// odMakeFixture creates companies C0001.. with projects P<company>-<n>
// through the API.
func odMakeFixture(t testing.TB, c *testenv.Client, companies, projectsEach int) odFixture {
	t.Helper()
	var f odFixture
	f.jobType = c.Must(201, "POST", "/api/JobType", map[string]any{"code": "REPAIR", "name": "Repair"})
	for i := 1; i <= companies; i++ {
		co := c.Must(201, "POST", "/api/Company", map[string]any{"code": fmt.Sprintf("C%04d", i), "name": fmt.Sprintf("Company %d", i)})
		f.companies = append(f.companies, co)
		for k := 1; k <= projectsEach; k++ {
			p := c.Must(201, "POST", "/api/Project", map[string]any{"reference_back_office": fmt.Sprintf("P%04d-%d", i, k),
				"name": fmt.Sprintf("Lift %d-%d", i, k), "company_id": co["id"], "project_status": map[string]any{"code": "ACTIVE", "name": "Active"}})
			f.projects = append(f.projects, p)
		}
	}
	return f
}

// odBulkJobs inserts n Open jobs in one transaction with multi-row INSERTs
// straight into the database (the service would take minutes for 100,000):
// job i is on project i mod len(projects), reference BULK<i>, id2 1000+i,
// estimated_time 30*(1+i%8), modified as given. It returns the ids.
func odBulkJobs(t testing.TB, srv *testenv.Server, dsn string, tenant int64, f odFixture, n int, modified func(i int) time.Time) []string {
	t.Helper()
	ctx := context.Background()
	db := testenv.RawDB(t, dsn)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	e := schema.Default.MustEntity("jobs")
	cols := []string{"id", "name", "reference_back_office", "project_id", "project_reference_back_office", "job_type_id", "job_type_code",
		"job_status_id", "job_status_code", "company_id", "company_code", "id2", "estimated_time", "modified_dateutc", "date_create", "date_update"}
	quoted := []string{"tenant_id"}
	for _, c := range cols {
		quoted = append(quoted, sqldialect.Quote(c))
	}
	ids := make([]string, n)
	const batch = 40
	for start := 0; start < n; start += batch {
		args := &sqldialect.Args{D: srv.DB.Dialect()}
		var rows []string
		for i := start; i < min(n, start+batch); i++ {
			ids[i] = uuid.NewString()
			p := f.projects[i%len(f.projects)]
			m := modified(i)
			vals := map[string]any{"id": ids[i], "name": fmt.Sprintf("Bulk job %d", i), "reference_back_office": fmt.Sprintf("BULK%06d", i),
				"project_id": p["id"], "project_reference_back_office": p["reference_back_office"], "job_type_id": f.jobType["id"],
				"job_type_code": f.jobType["code"], "job_status_id": ordo.StatusOpen, "job_status_code": "Open",
				"company_id": p["company_id"], "company_code": p["company_code"], "id2": int64(1000 + i),
				"estimated_time": int64(30 * (1 + i%8)), "modified_dateutc": m, "date_create": m, "date_update": m}
			phs := []string{args.AddRaw(tenant)}
			for _, c := range cols {
				phs = append(phs, args.Add(e.MustField(c).Kind, vals[c]))
			}
			rows = append(rows, "("+strings.Join(phs, ", ")+")")
		}
		q := "INSERT INTO " + sqldialect.Quote(e.Table) + " (" + strings.Join(quoted, ", ") + ") VALUES " + strings.Join(rows, ", ")
		if _, err := tx.ExecContext(ctx, q, args.List...); err != nil {
			t.Fatalf("bulk insert: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// Fresh statistics, as autovacuum (PostgreSQL) and ordo serve's hourly
	// optimize (SQLite) keep them.
	if sqlstore.IsPostgres(dsn) {
		if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
	} else if err := srv.DB.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	return ids
}
