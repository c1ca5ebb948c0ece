package odata

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// applyCases are raw query strings with $apply (on jobs unless prefixed
// with "entity: ") whose SQL testdata/apply.golden holds for both dialects.
var applyCases = []string{
	"$apply=groupby((job_status_code),aggregate($count as jobs))",
	"$apply=filter(due_date lt 2026-12-01)/groupby((job_status_code,project/company/code),aggregate($count as jobs,estimated_time with sum as minutes))",
	"$apply=aggregate(estimated_time with average as avg,estimated_time with min as lo,estimated_time with max as hi,project_id with countdistinct as projects,db_address_latitude_decimal with sum as lat)",
	"$apply=groupby((project/company/code,project/name))",
	"$apply=filter(estimated_time ge 60)/filter(job_planning/any(p: p/is_leader))/groupby((name),aggregate(estimated_time mul 2 with sum as double))&$orderby=double desc,name",
	"$apply=groupby((job_status_code),aggregate($count as n))&$count=true&$top=5&$skip=10",
	"job_planning: $apply=groupby((user/code),aggregate(date_from with min as first,jobs_id with countdistinct as job_count))&$orderby=job_count desc",
	"$apply=groupby((job_status_code),aggregate(estimated_time divby 60 with average as hours))&$orderby=hours",
	"$apply=filter(estimated_time gt 0)/groupby((project/company/code),aggregate($count as jobs,estimated_time with sum as minutes))/filter(jobs gt 5 and minutes ge 300)/filter(project/company/code ne 'C0001')",
}

// TestApplyGolden writes the SQL of each $apply case for both dialects.
func TestApplyGolden(t *testing.T) {
	var b strings.Builder
	for _, in := range applyCases {
		e, raw := entityOf(t, in)
		q, err := ParseRawQuery(e, strings.ReplaceAll(raw, " ", "%20"), Limits{})
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		fmt.Fprintf(&b, "### %s\n", in)
		for _, d := range []sqldialect.Dialect{sqldialect.SQLite{}, sqldialect.Postgres{}} {
			args := &sqldialect.Args{D: d}
			s, err := Translator{Alias: "t", Args: args, Now: func() time.Time { return fixedNow }}.TranslateApply(q.Apply, q.ApplyOrder, q.Count)
			if err != nil {
				t.Fatal(err)
			}
			sql := "SELECT " + s.Select + " FROM t" + s.Joins
			if s.Where != "" {
				sql += " WHERE " + s.Where
			}
			if s.GroupBy != "" {
				sql += " GROUP BY " + s.GroupBy
			}
			if s.Having != "" {
				sql += " HAVING " + s.Having
			}
			if s.OrderBy != "" {
				sql += " ORDER BY " + s.OrderBy
			}
			fmt.Fprintf(&b, "%s: %s\n%s  args: %s\n", d.Name(), sql, strings.Repeat(" ", len(d.Name())), formatArgs(args.List))
		}
	}
	golden(t, "apply.golden", b.String())
}

// TestApplyColumns checks the result columns and their kinds.
func TestApplyColumns(t *testing.T) {
	q, err := ParseRawQuery(schema.Default.MustEntity("jobs"),
		"$apply=groupby((project/company/code),aggregate(estimated_time with sum as s,estimated_time with average as a,due_date with max as d,name with countdistinct as n,$count as c))", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(q.Apply.Columns())
	want := fmt.Sprint([]ApplyColumn{{"project/company/code", schema.KindString}, {"s", schema.KindInt}, {"a", schema.KindDecimal},
		{"d", schema.KindDate}, {"n", schema.KindInt}, {"c", schema.KindInt}})
	if got != want {
		t.Errorf("columns %s, want %s", got, want)
	}
	// the limit on grouping properties and aggregates
	items := make([]string, 33)
	for i := range items {
		items[i] = fmt.Sprintf("estimated_time with sum as s%d", i)
	}
	_, err = ParseRawQuery(schema.Default.MustEntity("jobs"), "$apply=aggregate("+strings.Join(items, ",")+")", Limits{})
	if err == nil || !strings.Contains(err.Error(), "the maximum $apply items") {
		t.Errorf("33 aggregates: %v", err)
	}
}
