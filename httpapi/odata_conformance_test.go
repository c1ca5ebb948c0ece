package httpapi_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestODataConformanceForms checks the literal and request forms of OData
// 4.01 over HTTP on the demo data, on both databases: each accepted form
// answers the same rows (in the same order, over every page) as its plain
// 4.0 equivalent, and the new semantics (durations and date arithmetic,
// signs, INF/NaN, nav/$count) answer the rows computed in Go from a full
// fetch.
func TestODataConformanceForms(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		_, c, d := odDemo(t, dsn)
		pairs := []struct{ form, plain string }{
			{"$filter=estimated_time gt +42&$orderby=estimated_time", "$filter=estimated_time gt 42&$orderby=estimated_time"},
			{"$filter=estimated_time ge +0.6e+2", "$filter=estimated_time ge 60"},
			{"$filter=tRUe&$top=3", "$filter=true&$top=3"},
			{"filter=false", "$filter=false"},
			{"top=5&skip=10", "$top=5&$skip=10"},
			{"$OrderBy=name desc&$TOP=150&COUNT=true", "$orderby=name desc&$top=150&$count=true"},
			{"$filter=job_status_code IN (\"Open\",\"Pooling\") AND estimated_time Ge 60", "$filter=job_status_code in ('Open','Pooling') and estimated_time ge 60"},
			{`$filter=job_status_code in ["Open","Pooling"]`, "$filter=job_status_code in ('Open','Pooling')"},
			{"$filter=name in ()", "$filter=false"},
			{"$filter=STARTSWITH(name, 'Repair')", "$filter=startswith(name, 'Repair')"},
			{"$filter=estimated_time divby 60 ge 1.5", "$filter=estimated_time ge 90"},
			{"$filter=name eq @n or estimated_time eq @t&@n='x'&@t=90", "$filter=name eq 'x' or estimated_time eq 90"},
			{"$filter=project/company/code eq @c&$expand=job_planning($filter=user_code eq @u;$select=user_code)&@c='C0001'&@u='T001'&$select=name",
				"$filter=project/company/code eq 'C0001'&$expand=job_planning($filter=user_code eq 'T001';$select=user_code)&$select=name"},
			{"$filter=estimated_time lt INF and estimated_time ne NaN", "$filter=true"},
			{"$filter=estimated_time eq NaN", "$filter=false"},
			{"$filter=due_date sub 'P7D' ge 2026-02-01", "$filter=due_date sub duration'P7D' ge 2026-02-01"},
		}
		for _, p := range pairs {
			got := odWalk(t, c, odQuery("Jobs", p.form))
			want := odWalk(t, c, odQuery("Jobs", p.plain))
			if !slices.Equal(odIDs(got.Rows), odIDs(want.Rows)) || !odSameJSON(got.Rows, want.Rows) || (got.Count == nil) != (want.Count == nil) {
				t.Errorf("%s: %d rows %v..., plain form %s: %d rows %v...", p.form, len(got.Rows), head(odIDs(got.Rows)), p.plain, len(want.Rows), head(odIDs(want.Rows)))
			}
		}
		feb := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		due := func(j odRow) time.Time { return odTime(j, "due_date") }
		mod := func(j odRow) time.Time { return odTime(j, "modified_dateutc") }
		plans := func(j odRow) int64 { return int64(len(d.planByJob[odStr(j, "id")])) }
		cases := []odCase{
			{query: "$filter=due_date sub duration'P30D' ge 2026-02-01", match: func(j odRow) bool { return !due(j).AddDate(0, 0, -30).Before(feb) }, minRows: 10, below: true},
			{query: "$filter=due_date sub modified_dateutc gt duration'P40DT12H'&$orderby=due_date",
				match: func(j odRow) bool { return due(j).Sub(mod(j)) > 40*24*time.Hour+12*time.Hour }, order: []odKey{asc("due_date")}, minRows: 10, below: true},
			{query: "$filter=modified_dateutc add duration'PT2H30M' lt 2026-01-27T12:00:00Z",
				match: func(j odRow) bool {
					return mod(j).Add(150 * time.Minute).Before(time.Date(2026, 1, 27, 12, 0, 0, 0, time.UTC))
				}, minRows: 1, below: true},
			{query: "$filter=estimated_time gt +42", match: func(j odRow) bool { return odInt(j, "estimated_time") > 42 }, minRows: 10, below: true},
			{query: "$filter=job_planning/$count ge 1", match: func(j odRow) bool { return plans(j) >= 1 }, minRows: 5, below: true},
			{query: "$orderby=job_planning/$count desc,name&$top=120", match: func(odRow) bool { return true },
				order: []odKey{{val: func(j odRow) any { return plans(j) }, desc: true}, asc("name")}},
			{query: "$orderby=job_planning/$count,due_date desc", match: func(odRow) bool { return true },
				order: []odKey{{val: func(j odRow) any { return plans(j) }}, desc("due_date")}},
			{set: "Project", query: "$filter=jobs/$count gt 3&$orderby=jobs/$count desc",
				match: func(p odRow) bool { return len(d.jobsByProject[odStr(p, "id")]) > 3 },
				order: []odKey{{val: func(p odRow) any { return int64(len(d.jobsByProject[odStr(p, "id")])) }, desc: true}}, minRows: 1, below: true},
			{query: "$filter=project/jobs/$count ge 10&$orderby=project/jobs/$count",
				match: func(j odRow) bool { return len(d.jobsByProject[odStr(j, "project_id")]) >= 10 },
				order: []odKey{{val: func(j odRow) any { return int64(len(d.jobsByProject[odStr(j, "project_id")])) }}}, minRows: 1, below: true},
		}
		all := map[string]map[string]odRow{"Jobs": d.jobs, "Project": d.projects}
		for _, tc := range cases {
			odCheck(t, c, all[cmpOr(tc.set, "Jobs")], tc)
		}
	})
}
