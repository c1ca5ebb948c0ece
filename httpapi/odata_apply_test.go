package httpapi_test

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// odGroup is a grouping property of an expected $apply result: its path in
// the result row and its value on a source row.
type odGroup struct {
	path string
	val  func(odRow) any
}

// odAgg is an aggregate of an expected result.
type odAgg struct {
	alias, method string // sum, min, max, average, countdistinct, $count
	val           func(odRow) any
}

// odAggregate computes a $apply result in Go: one row per group (flattened:
// path → JSON text of the value), keyed by the grouping values.
func odAggregate(rows map[string]odRow, keep func(odRow) bool, groups []odGroup, aggs []odAgg) map[string]map[string]string {
	buckets := map[string][]odRow{}
	for _, r := range rows {
		if keep != nil && !keep(r) {
			continue
		}
		var key []string
		for _, g := range groups {
			key = append(key, odJSON(g.val(r)))
		}
		k := strings.Join(key, "|")
		buckets[k] = append(buckets[k], r)
	}
	if len(groups) == 0 && len(buckets) == 0 {
		buckets[""] = nil // aggregate() over no rows is still one row
	}
	out := map[string]map[string]string{}
	for k, rs := range buckets {
		row := map[string]string{}
		if len(rs) > 0 {
			for _, g := range groups {
				row[g.path] = odJSON(g.val(rs[0]))
			}
		}
		for _, a := range aggs {
			switch a.method {
			case "$count":
				row[a.alias] = strconv.Itoa(len(rs))
				continue
			case "countdistinct":
				seen := map[string]bool{}
				for _, r := range rs {
					seen[odJSON(a.val(r))] = true
				}
				row[a.alias] = strconv.Itoa(len(seen))
				continue
			}
			if len(rs) == 0 {
				if a.method == "sum" {
					row[a.alias] = "0"
				}
				continue
			}
			var acc any
			var sum float64
			for i, r := range rs {
				v := a.val(r)
				switch a.method {
				case "sum", "average":
					switch n := v.(type) {
					case int64:
						sum += float64(n)
					case float64:
						sum += n
					}
					acc = v
				case "min", "max":
					if i == 0 || (odCompare(v, acc) < 0) == (a.method == "min") && odCompare(v, acc) != 0 {
						acc = v
					}
				}
			}
			switch a.method {
			case "sum":
				if _, isInt := acc.(int64); isInt {
					row[a.alias] = strconv.FormatInt(int64(sum), 10)
				} else {
					row[a.alias] = odJSON(sum)
				}
			case "average":
				row[a.alias] = odJSON(sum / float64(len(rs)))
			default:
				row[a.alias] = odJSON(acc)
			}
		}
		out[k] = row
	}
	return out
}

func odJSON(v any) string {
	if t, ok := v.(time.Time); ok {
		return `"` + t.UTC().Format(time.RFC3339Nano) + `"`
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// odFlatten turns a result row into path → JSON text.
func odFlatten(prefix string, r map[string]any, out map[string]string) {
	for k, v := range r {
		if m, ok := v.(map[string]any); ok {
			odFlatten(prefix+k+"/", m, out)
			continue
		}
		if s, ok := v.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				out[prefix+k] = odJSON(t)
				continue
			}
		}
		out[prefix+k] = odJSON(v)
	}
}

// odSameValue compares JSON texts, numbers numerically (averages are
// computed in floating point by the database and here).
func odSameValue(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y))
}

// TestODataApply checks $apply results against the same aggregation done
// in Go over a full fetch of the demo data, on both databases.
func TestODataApply(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		_, c, d := odDemo(t, dsn)
		dec := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		status := odGroup{"job_status_code", odField("job_status_code")}
		code := odGroup{"project/company/code", func(j odRow) any { return odStr(d.company(j), "code") }}
		et := odField("estimated_time")
		cases := []struct {
			set    string
			query  string
			rows   map[string]odRow
			keep   func(odRow) bool
			groups []odGroup
			aggs   []odAgg
			having func(row map[string]string) bool // a filter() after groupby, on the result
			min    int                              // at least this many result rows
		}{
			{query: "$apply=filter(due_date lt 2026-12-01)/groupby((job_status_code,project/company/code),aggregate($count as jobs,estimated_time with sum as minutes))",
				keep:   func(j odRow) bool { return odTime(j, "due_date").Before(dec) },
				groups: []odGroup{status, code}, aggs: []odAgg{{"jobs", "$count", nil}, {"minutes", "sum", et}}, min: 10},
			{query: "$apply=groupby((job_status_code),aggregate(estimated_time with average as avg,estimated_time with min as shortest,estimated_time with max as longest,project_id with countdistinct as projects,db_address_latitude_decimal with sum as lat,modified_dateutc with max as last))",
				groups: []odGroup{status}, aggs: []odAgg{{"avg", "average", et}, {"shortest", "min", et}, {"longest", "max", et},
					{"projects", "countdistinct", odField("project_id")}, {"lat", "sum", odField("db_address_latitude_decimal")},
					{"last", "max", odField("modified_dateutc")}}, min: 3},
			{query: "$apply=aggregate($count as n,estimated_time with sum as total,name with min as first)",
				aggs: []odAgg{{"n", "$count", nil}, {"total", "sum", et}, {"first", "min", odField("name")}}, min: 1},
			{query: "$apply=filter(name eq 'nothing')/aggregate($count as n,estimated_time with sum as total,estimated_time with average as avg)",
				keep: func(odRow) bool { return false }, aggs: []odAgg{{"n", "$count", nil}, {"total", "sum", et}, {"avg", "average", et}}, min: 1},
			{query: "$apply=groupby((project/company/code,project/company/city))",
				groups: []odGroup{code, {"project/company/city", func(j odRow) any { return odStr(d.company(j), "city") }}}, min: 3},
			{query: "$apply=filter(estimated_time ge 60)/filter(job_planning/any())/groupby((name),aggregate($count as n))&$count=true",
				keep: func(j odRow) bool {
					return odInt(j, "estimated_time") >= 60 && len(d.planByJob[odStr(j, "id")]) > 0
				}, groups: []odGroup{{"name", odField("name")}}, aggs: []odAgg{{"n", "$count", nil}}, min: 20},
			{query: "$apply=groupby((reference_back_office,name))", groups: []odGroup{{"reference_back_office", odField("reference_back_office")}, {"name", odField("name")}}, min: 101}, // more than a page
			{set: "JobPlanning", rows: d.plannings, query: "$apply=groupby((user/code,jobs/job_status_code),aggregate(date_from with min as first,jobs_id with countdistinct as job_count))",
				groups: []odGroup{{"user/code", func(p odRow) any { return odStr(d.users[odStr(p, "user_id")], "code") }},
					{"jobs/job_status_code", func(p odRow) any { return odStr(d.jobs[odStr(p, "jobs_id")], "job_status_code") }}},
				aggs: []odAgg{{"first", "min", odField("date_from")}, {"job_count", "countdistinct", odField("jobs_id")}}, min: 3},
			{query: "$apply=groupby((project/company/code),aggregate($count as jobs,estimated_time with sum as minutes))/filter(jobs ge 38 and minutes divby jobs gt 50)&$count=true",
				groups: []odGroup{code}, aggs: []odAgg{{"jobs", "$count", nil}, {"minutes", "sum", et}},
				having: func(r map[string]string) bool {
					n, _ := strconv.Atoi(r["jobs"])
					m, _ := strconv.Atoi(r["minutes"])
					return n >= 38 && float64(m)/float64(n) > 50
				}, min: 2},
			{query: "APPLY=groupby((job_status_code),aggregate(estimated_time mul 2 with sum as double,$count as n))",
				groups: []odGroup{status}, aggs: []odAgg{{"double", "sum", func(j odRow) any { return 2 * odInt(j, "estimated_time") }}, {"n", "$count", nil}}, min: 3},
		}
		for _, tc := range cases {
			rows := tc.rows
			if rows == nil {
				rows = d.jobs
			}
			want := odAggregate(rows, tc.keep, tc.groups, tc.aggs)
			all := len(want)
			for k, r := range want {
				if tc.having != nil && !tc.having(r) {
					delete(want, k)
				}
			}
			if tc.having != nil && (len(want) == all || len(want) == 0) {
				t.Fatalf("%s: the filter after groupby keeps %d of %d groups; the case is too weak", tc.query, len(want), all)
			}
			if len(want) < tc.min {
				t.Fatalf("%s: %d result rows in Go; the case is too weak", tc.query, len(want))
			}
			got := odWalk(t, c, odQuery(cmpOr(tc.set, "Jobs"), tc.query))
			if len(got.Rows) != len(want) {
				t.Errorf("%s: %d rows in %d pages, want %d", tc.query, len(got.Rows), got.Pages, len(want))
				continue
			}
			if strings.Contains(tc.query, "$count=true") && (got.Count == nil || *got.Count != int64(len(want))) {
				t.Errorf("%s: @odata.count %v, want %d", tc.query, got.Count, len(want))
			}
			for _, r := range got.Rows {
				flat := map[string]string{}
				odFlatten("", r, flat)
				var key []string
				for _, g := range tc.groups {
					key = append(key, flat[g.path])
				}
				w, ok := want[strings.Join(key, "|")]
				if !ok {
					t.Errorf("%s: unexpected group %v", tc.query, flat)
					continue
				}
				if len(flat) != len(w) {
					t.Errorf("%s: row %v, want %v", tc.query, flat, w)
				}
				for k, v := range w {
					if !odSameValue(flat[k], v) {
						t.Errorf("%s: %s = %s, want %s (row %v)", tc.query, k, flat[k], v, flat)
					}
				}
			}
		}

		// $orderby on an aggregate and $top: the largest sums first
		sums := odAggregate(d.jobs, nil, []odGroup{code}, []odAgg{{"minutes", "sum", et}})
		var totals []int64
		for _, r := range sums {
			n, _ := strconv.ParseInt(r["minutes"], 10, 64)
			totals = append(totals, n)
		}
		sort.Slice(totals, func(i, j int) bool { return totals[i] > totals[j] })
		got := odWalk(t, c, odQuery("Jobs", "$apply=groupby((project/company/code),aggregate(estimated_time with sum as minutes))&$orderby=minutes desc&$top=3"))
		if len(got.Rows) != 3 {
			t.Fatalf("top 3: %d rows", len(got.Rows))
		}
		for i, r := range got.Rows {
			if n, _ := r["minutes"].(json.Number).Int64(); n != totals[i] {
				t.Errorf("top 3 by minutes: row %d has %d, want %d", i, n, totals[i])
			}
		}
		if ctx := got.Context; !strings.HasSuffix(ctx, "/api/$metadata#Jobs(project(company(code)),minutes)") {
			t.Errorf("@odata.context %s", ctx)
		}

		// through a navigation path
		var pid string
		for id, jobs := range d.jobsByProject {
			if pid == "" || len(jobs) > len(d.jobsByProject[pid]) {
				pid = id
			}
		}
		r := c.Do("GET", odQuery("Project("+pid+")/jobs", "$apply=aggregate($count as n)"), nil)
		if v, _ := r.Body["value"].([]any); r.Status != 200 || len(v) != 1 || fmt.Sprint(v[0].(map[string]any)["n"]) != strconv.Itoa(len(d.jobsByProject[pid])) {
			t.Errorf("Project(%s)/jobs?$apply=aggregate($count as n): %d %s, want %d", pid, r.Status, r.Raw, len(d.jobsByProject[pid]))
		}

		// refused forms name the problem and its position
		for _, tc := range []struct{ query, msg string }{
			{"$apply=groupby((name),aggregate(name with sum as s))", "$apply: at position 25: sum needs a number, but name is a string"},
			{"$apply=groupby((name))/groupby((id))", "$apply: at position 16: groupby cannot follow groupby or aggregate"},
			{"$apply=aggregate($count as n)/filter(n gt 1)", "$apply: at position 23: filter cannot follow groupby or aggregate"},
			{"$apply=groupby((name),aggregate($count as n))/filter(estimated_time gt 1)", "$apply: at position 46: estimated_time is not a member of the groupby result (it has n, name)"},
			{"$apply=aggregate(estimated_time with median as m)", "$apply: at position 30: unknown aggregation method 'median'"},
			{"$apply=aggregate(estimated_time with sum)", "$apply: at position 33: expected 'as' and an alias"},
			{"$apply=groupby((project/company/code),aggregate($count as project))", "$apply: at position 51: the alias project is already the name of a grouping property"},
			{"$apply=topcount(5,estimated_time)", "$apply: at position 0: the transformation topcount is not supported"},
			{"$apply=groupby((job_planning),aggregate($count as n))", "$apply: at position 9: job_planning is a collection"},
			{"$apply=aggregate($count as n)&$filter=true", "$filter: is not supported together with $apply"},
			{"$apply=aggregate($count as n)&$orderby=name", "$orderby: at position 0: name is not a property of the $apply result (it has n)"},
			{"$expand=job_planning($apply=aggregate($count as n))", "$expand: at position 20: $apply is not supported inside $expand"},
			{"$apply=filter(estimated_time)", "$apply: at position 7: filter() needs a condition (true or false), but estimated_time is an integer"},
		} {
			r := c.Do("GET", odQuery("Jobs", tc.query), nil)
			if r.Status != 400 || !strings.Contains(string(r.Raw), tc.msg) {
				t.Errorf("%s: %d %s, want 400 %q", tc.query, r.Status, r.Raw, tc.msg)
			}
		}
	})
}
