package odata

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/sqldialect"
)

// sqlCases are $filter values (with an optional "entity: " prefix, jobs by
// default) whose SQL and arguments testdata/sql.golden holds for both dialects.
var sqlCases = []string{
	// comparisons stay sargable: column op placeholder
	"name eq 'ACME'",
	"name ne 'ACME'",
	"estimated_time gt 5",
	"estimated_time ge 5",
	"estimated_time lt 5",
	"estimated_time le 5",
	"modified_dateutc gt '2026-01-27T12:00:00.000Z'",
	"modified_dateutc gt 2026-01-27T12:00:00Z",
	"modified_dateutc ge 2026-01-27",
	"modified_dateutc lt '2026-01-27'",
	"due_date eq 2026-01-27T12:00:00.1234567+01:00",
	"project_id eq 0A1B2C3D-4E5F-6789-ABCD-EF0123456789",
	"project_id eq '0A1B2C3D-4E5F-6789-ABCD-EF0123456789'",
	"project_id gt 0a1b2c3d-4e5f-6789-abcd-ef0123456789",
	"company: archived eq true",
	"company: archived",
	"company: not archived",
	"true",
	"company: archived eq false and not (name eq 'x' or name eq 'y')",
	"name eq 'a' and (name eq 'b' or name eq 'c') and name eq 'd'",
	"(name eq 'a' or name eq 'b') and (name eq 'c' or name eq 'd')",
	"company: not (not archived)",
	"company: (archived eq true) eq false",
	"'ACME' eq name",
	"5 lt estimated_time",
	// injection attempts are plain string arguments
	"name eq 'x'' OR 1=1 --'",
	"name eq '\"; DROP TABLE jobs; --'",
	// unique fields (ERP keys, id2) repeat their partial index's condition
	"reference_back_office eq 'WO000123'",
	"reference_back_office in ('WO1', 'WO2')",
	"reference_back_office in ('WO1', null)",
	"reference_back_office eq ''",
	"not (reference_back_office eq 'WO1')",
	"id2 eq 7",
	"id2 eq 7.0",
	"company: code eq 'C1' or name eq 'x'",
	"project/reference_back_office eq 'P1'",
	"project/reference_back_office ne 'P1'",
	// null is the kind's default
	"name eq null",
	"name ne null",
	"null eq name",
	"estimated_time eq null",
	"db_address_latitude_decimal eq null",
	"company: archived eq null",
	"due_date eq null",
	"project_id eq null",
	"project eq null",
	"project ne null",
	"project/company eq null",
	"_parent_job eq null",
	// numbers
	"db_address_latitude_decimal gt 1",
	"db_address_latitude_decimal gt 1.5",
	"estimated_time gt 1.5",
	"estimated_time eq db_address_latitude_decimal",
	"estimated_time add 1 mul 2 sub 3 eq 0",
	"estimated_time sub (working_sequence sub 1) eq 0",
	"estimated_time sub -5 eq 0",
	"(estimated_time add 1) mul 2 eq 10",
	"estimated_time div 2 eq 1",
	"estimated_time mod 2 eq 1",
	"db_address_latitude_decimal div 2 eq 1.5",
	"db_address_latitude_decimal mod 2 gt 0.5",
	"-estimated_time eq -5",
	"-(-estimated_time) eq 5",
	"- -5 eq estimated_time",
	"-db_address_latitude_decimal lt 0",
	// in
	"estimated_time in (1, 2, 3)",
	"name in ('a', null)",
	"due_date in ('2026-01-27T00:00:00Z', 2026-01-28)",
	"project_id in ('0A1B2C3D-4E5F-6789-ABCD-EF0123456789', null)",
	"estimated_time add 1 in (2) or project/is_mobile_installation",
	"db_address_latitude_decimal in (1, 2.5)",
	// string functions
	"contains(name, 'x')",
	"contains(name, '%_')",
	"startswith(name, 'x')",
	"endswith(name, 'x')",
	"not contains(name, 'x')",
	"contains(name, 'x') eq false",
	"length(name) eq 3",
	"indexof(name, 'x') eq 0",
	"substring(name, 1) eq 'x'",
	"substring(name, 1, 2) eq 'x'",
	"substring(name, indexof(name, '-') add 1) eq 'x'",
	"tolower(name) eq 'x'",
	"toupper(name) eq 'X'",
	"trim(name) eq 'x'",
	"concat(name, 'x') eq 'ax'",
	"concat(concat(name, ' '), description) eq 'a b'",
	"contains(tolower(project/name), 'pump')",
	"length(null) eq 0",
	// date functions
	"year(due_date) eq 2026",
	"month(due_date) eq 1",
	"day(due_date) eq 27",
	"hour(due_date) eq 12",
	"minute(due_date) eq 30",
	"second(due_date) eq 15",
	"year('2026-01-27T12:00:00Z') eq 2026",
	"date(due_date) eq 2026-01-27",
	"date(due_date) eq '2026-01-27'",
	"date(due_date) eq date(now())",
	"year(date(due_date)) eq 2026",
	"month(date(due_date)) eq 1",
	"day(date(due_date)) eq 27",
	"time(due_date) lt 12:00",
	"time(due_date) ge '08:30:00'",
	"hour(time(due_date)) eq 12",
	"minute(time(due_date)) eq 30",
	"second(time(due_date)) eq 15",
	"due_date lt now()",
	"due_date lt now() and modified_dateutc gt now()",
	"year(now()) eq 2026",
	// rounding
	"round(db_address_latitude_decimal) eq 2",
	"floor(db_address_latitude_decimal) eq 1",
	"ceiling(db_address_latitude_decimal) eq 2",
	"round(estimated_time) eq 2",
	// to-one paths: LEFT JOINs on tenant and id, reused
	"project/name eq 'P'",
	"project/company/name eq 'ACME'",
	"project/company/name eq 'ACME' or project/company/code eq 'AC' or project/name eq 'P'",
	"_parent_job/_parent_job/name eq 'root'",
	"db_address/company/name eq 'x'",
	"job_status/system_job_status/code eq 'Completed'",
	"project/is_mobile_installation eq true",
	"project/company/archived",
	"project/date_create gt 2026-01-01",
	"$it/name eq 'x'",
	"contact: company/sales_organization/code eq 'NL'",
	// lambdas: correlated EXISTS on tenant and parent id
	"job_planning/any(p: p/user_code eq 'T1')",
	"job_planning/all(p: p/date_from gt 2026-01-01T00:00:00Z)",
	"job_planning/any()",
	"not job_planning/any()",
	"job_planning/any(p: p/user_code eq 'T1' or p/is_leader)",
	"job_planning/any(p: p/user/lastname eq 'Smith' and p/user/firstname eq 'Jo')",
	"job_planning/any(p: p/date_from ge due_date)",
	"job_planning/any(p: p/date_from ge $it/due_date and p/jobs/project/name eq project/name)",
	"job_planning/any(p: p/user/user_skill/any(s: s/skill_code eq p/user_code))",
	"job_planning/any(p: p/user_code eq 'A') and job_planning/all(p: p/is_leader)",
	"_child_jobs/any(c: c/job_planning/any())",
	"project/jobs/any(j: j/name eq 'sibling')",
	"project: jobs/any(j: j/job_planning/any(p: p/user_code eq 'T1'))",
	"equipment_model: translations/any(x: x/language_code eq 'fr' and contains(x/value_translated, 'pompe'))",
	"user: user_skill/any(s: s/skill/code eq 'WELD') and not user_unavailability/any()",
	// OData 4.01 and the rest of the ABNF's literal forms
	"due_date sub date_create eq duration'P6DT23H59M59.9999S'",
	"due_date sub duration'P1D' gt now()",
	"duration'PT1H' add modified_dateutc lt due_date",
	"estimated_time divby 60 gt 1.5",
	"estimated_time lt INF and db_address_latitude_decimal gt -INF",
	"estimated_time ne NaN",
	"name in ()",
	"job_status_code in [\"Open\", \"Closed\"]",
	"job_planning/$count gt 2",
	"project/jobs/$count ge 10",
}

// orderCases are $orderby values with their SQL, joins included.
var orderCases = []string{
	"name",
	"name desc",
	"name asc, due_date desc, id",
	"project/company/name desc, project/name",
	"project",
	"_parent_job/_parent_job/id2 desc",
	"job_planning/$count desc, name",
}

func TestTranslateGolden(t *testing.T) {
	var b strings.Builder
	dialects := []sqldialect.Dialect{sqldialect.SQLite{}, sqldialect.Postgres{}}
	write := func(label string, q *Query) {
		fmt.Fprintf(&b, "### %s\n", label)
		for _, d := range dialects {
			sql, args := translate(t, q, d)
			fmt.Fprintf(&b, "%s: %s\n", d.Name(), sql)
			fmt.Fprintf(&b, "%s  args: %s\n", strings.Repeat(" ", len(d.Name())), formatArgs(args))
		}
	}
	for _, in := range sqlCases {
		e, filter := entityOf(t, in)
		q, err := ParseQuery(e, map[string][]string{"$filter": {filter}}, Limits{})
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		write("$filter="+in, q)
	}
	for _, in := range orderCases {
		q, err := ParseQuery(schema_jobs(), map[string][]string{"$orderby": {in}}, Limits{})
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		write("$orderby="+in, q)
	}
	// $filter and $orderby share their joins.
	q, err := ParseQuery(schema_jobs(), map[string][]string{
		"$filter":  {"project/company/name eq 'ACME' and job_planning/any(p: p/user/code eq 'T1')"},
		"$orderby": {"project/company/name, project/name desc, name"},
	}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	write("$filter and $orderby together", q)
	golden(t, "sql.golden", b.String())
}
