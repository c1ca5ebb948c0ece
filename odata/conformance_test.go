package odata

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// equivalentForms pairs a request form of OData 4.01 (or a literal form of
// the ABNF) with the plain 4.0 form that means the same: both must resolve
// to the same query and translate to the same SQL with the same arguments,
// on both dialects. Raw query strings, percent-encoded where a URL needs it.
var equivalentForms = []struct{ form, plain string }{
	// signs and exponents
	{"$filter=estimated_time gt %2B42", "$filter=estimated_time gt 42"},
	{"$filter=db_address_latitude_decimal gt %2B0.314e%2B1", "$filter=db_address_latitude_decimal gt 3.14"},
	{"$filter=db_address_latitude_decimal gt -314E-2", "$filter=db_address_latitude_decimal gt -3.14"},
	// keywords in any case
	{"$filter=tRUe", "$filter=true"},
	{"$filter=name EQ 'x' AND NOT (estimated_time Gt 5 Or name Ne null)", "$filter=name eq 'x' and not (estimated_time gt 5 or name ne null)"},
	{"$filter=CONTAINS(name,'x') and ToLower(name) eq 'y'", "$filter=contains(name,'x') and tolower(name) eq 'y'"},
	{"$filter=job_planning/ANY(p: p/is_leader eq FALSE)", "$filter=job_planning/any(p: p/is_leader eq false)"},
	{"$orderby=name DESC,id Asc", "$orderby=name desc,id asc"},
	// option names without $ and in any case
	{"filter=false", "$filter=false"},
	{"top=5&skip=10", "$top=5&$skip=10"},
	{"$OrderBy=name&$FILTER=name eq 'a'&Count=TRUE", "$orderby=name&$filter=name eq 'a'&$count=true"},
	{"$expand=job_planning(FILTER=is_leader;top=1;$OrderBy=date_from)", "$expand=job_planning($filter=is_leader;$top=1;$orderby=date_from)"},
	// double-quoted strings and JSON arrays
	{`$filter=name eq "it's \"x\""`, `$filter=name eq 'it''s "x"'`},
	{`$filter=job_status_code in ["Open","Pooling"]`, "$filter=job_status_code in ('Open','Pooling')"},
	{`$filter=estimated_time in [30, %2B60]`, "$filter=estimated_time in (30, 60)"},
	// parameter aliases, also in $orderby and inside $expand
	{"$filter=name eq @title&@title='x'", "$filter=name eq 'x'"},
	{"$filter=contains(@f,@v)&@f=name&@v='pump'", "$filter=contains(name,'pump')"},
	{"$filter=job_status_code in @list&@list=('Open','Pooling')", "$filter=job_status_code in ('Open','Pooling')"},
	{"$filter=estimated_time in (@a, 60)&@a=30", "$filter=estimated_time in (30, 60)"},
	{"$orderby=@key desc&@key=name", "$orderby=name desc"},
	{"$expand=job_planning($filter=user_code eq @u;$orderby=@o)&@u='T1'&@o=date_from&@unused=1", "$expand=job_planning($filter=user_code eq 'T1';$orderby=date_from)"},
	// durations: with or without the prefix, canonical or not
	{"$filter=due_date sub date_create eq 'P6DT23H59M59.9999S'", "$filter=due_date sub date_create eq duration'P6DT23H59M59.9999S'"},
	{"$filter=due_date sub date_create eq duration'PT167H59M59.9999S'", "$filter=due_date sub date_create eq duration'P6DT23H59M59.9999S'"},
	{"$filter=due_date sub 'P1D' lt now()", "$filter=due_date sub duration'P1D' lt now()"},
	{"$filter=due_date sub date_create gt -duration'P1D'", "$filter=due_date sub date_create gt duration'-P1D'"},
	// the empty list matches nothing, as false does not
	{"$filter=name in ()", "$filter=name in []"},
	// a comparison with NaN is false (ne: true), checked below
	{"$filter=estimated_time eq NaN or name eq 'x'", "$filter=name eq 'x'"},
}

func TestEquivalentForms(t *testing.T) {
	jobs := schema.Default.MustEntity("jobs")
	for _, c := range equivalentForms {
		for _, d := range []sqldialect.Dialect{sqldialect.SQLite{}, sqldialect.Postgres{}} {
			form, err := ParseRawQuery(jobs, c.form, Limits{})
			if err != nil {
				t.Errorf("%s: %v", c.form, err)
				continue
			}
			plain, err := ParseRawQuery(jobs, c.plain, Limits{})
			if err != nil {
				t.Fatalf("%s: %v", c.plain, err)
			}
			fs, fa := translateAll(t, form, d)
			ps, pa := translateAll(t, plain, d)
			if c.form == "$filter=estimated_time eq NaN or name eq 'x'" {
				if want := "1 = 0 OR t.\"name\" = "; !contains(fs, want) {
					t.Errorf("%s on %s: %s, want it to contain %s", c.form, d.Name(), fs, want)
				}
				continue
			}
			if fs != ps || fmt.Sprint(fa) != fmt.Sprint(pa) || (form.String() != plain.String() && !strings.Contains(c.form, "'P")) {
				t.Errorf("%s on %s:\n got %s %v (%s)\nwant %s %v (%s)", c.form, d.Name(), fs, fa, form, ps, pa, plain)
			}
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// translateAll renders every level of q (nested $expand levels after the top).
func translateAll(t *testing.T, q *Query, d sqldialect.Dialect) (string, []any) {
	s, args := translate(t, q, d)
	for _, x := range q.Expand {
		ns, na := translateAll(t, &x.Query, d)
		s += " | " + x.Nav.Name + ": " + ns
		args = append(args, na...)
	}
	return s, args
}

// conformanceDBCases run on both databases over the seed of db_test.go:
// the new literal forms, date arithmetic and nav/$count must give these rows.
var conformanceDBCases = []struct {
	query string
	want  []string
}{
	{"$filter=due_date sub modified_dateutc eq duration'PT30M15S'", []string{j1}},
	{"$filter=due_date sub modified_dateutc eq 'PT30M15S'", []string{j1}},
	{"$filter=modified_dateutc add duration'PT30M15S' eq due_date", []string{j1}},
	{"$filter=duration'PT30M15S' add modified_dateutc eq due_date", []string{j1}},
	{"$filter=due_date sub duration'P1D' gt 2026-02-27T00:00:00Z", []string{j2}},
	{"$filter=due_date sub duration'P1D' eq 2026-02-28T08:00:00Z", []string{j2}},
	{"$filter=due_date sub duration'PT0.000001S' eq 2026-02-28T07:59:59.999999Z add duration'P1D'", []string{j2}},
	{"$filter=due_date sub duration'P7000D' lt 1961-01-01T00:00:00Z", []string{j4, j3, j5}},
	{"$filter=due_date sub duration'P7000D' eq 1960-11-01T00:00:00Z sub duration'P31D' add duration'P15D' add duration'P1D'", []string{}},
	{"$filter=due_date sub modified_dateutc gt duration'P30D' sub duration'P1D'", []string{j2}},
	{"$filter=due_date sub modified_dateutc lt -duration'P1D'", []string{j3}},
	{"$filter=year(due_date add duration'P3650D') eq 1989", []string{j4, j3, j5}},
	{"$filter=estimated_time gt %2B40", []string{j1, j5}},
	{"$filter=db_address_latitude_decimal lt INF", []string{j2, j1, j4, j3, j5}},
	{"$filter=db_address_latitude_decimal gt -INF and estimated_time lt INF", []string{j2, j1, j4, j3, j5}},
	{"$filter=db_address_latitude_decimal eq NaN", []string{}},
	{"$filter=db_address_latitude_decimal ne NaN", []string{j2, j1, j4, j3, j5}},
	{"$filter=db_address_latitude_decimal in (NaN, 52.5)", []string{j1}},
	{"$filter=estimated_time divby 60 eq 1.5", []string{j1}},
	{"$filter=estimated_time divby 0 eq 1 or name eq 'Trap'", []string{j4}},
	{"$filter=estimated_time div 60 eq 1", []string{j1}},
	{"$filter=name in ()", []string{}},
	{"$filter=not (name in [])", []string{j2, j1, j4, j3, j5}},
	{"$filter=job_planning/$count gt 1", []string{j1}},
	{"$filter=job_planning/$count eq 0", []string{j4, j3, j5}},
	{"$orderby=job_planning/$count desc,id", []string{j1, j2, j3, j4, j5}},
	{"$orderby=job_planning/$count,id desc", []string{j5, j4, j3, j2, j1}},
	{"$filter=project/jobs/$count eq 2", []string{j1, j5}},
	{"$orderby=project/jobs/$count desc,id&$filter=name ne 'Trap'", []string{j1, j5, j2, j3}},
	{"$filter=_parent_job/job_planning/$count eq 2", []string{j2}},
	{"$filter=job_planning/any(p: p/user/user_skill/$count eq 1)", []string{j1}},
}

func runConformanceDBCases(t *testing.T, tdb *testDB) {
	tdb.seed(t)
	for _, c := range conformanceDBCases {
		got := tdb.names(t, c.query)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %s\n got %q\nwant %q", tdb.d.Name(), c.query, got, c.want)
		}
	}
}

func TestConformanceSQLite(t *testing.T) { runConformanceDBCases(t, openSQLite(t)) }

func TestConformancePostgres(t *testing.T) { runConformanceDBCases(t, openPostgres(t)) }
