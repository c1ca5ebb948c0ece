package odata

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/schema"
)

// astCases cover every operator, literal form and syntax of $filter.
var astCases = []string{
	// comparisons and logic
	"name eq 'ACME'",
	"name ne 'ACME'",
	"estimated_time gt 5",
	"estimated_time ge 5",
	"estimated_time lt 5",
	"estimated_time le 5",
	"archived eq true and name eq 'a' or name eq 'b'",
	"archived eq true and (name eq 'a' or name eq 'b')",
	"not archived",
	"not name eq 'x' and archived",
	"not (name eq 'x')",
	"not not archived",
	"a eq b eq c",
	"a lt b eq c gt d",
	// arithmetic and precedence
	"estimated_time add 1 mul 2 sub 3 div 4 mod 5 eq 0",
	"(estimated_time add 1) mul 2 eq 10",
	"-estimated_time eq -5",
	"- estimated_time eq - 5",
	"-(estimated_time) eq 5",
	"estimated_time sub -5 eq 0",
	// literals
	"name eq 'it''s'",
	"name eq ''",
	"name eq ''''",
	"name eq 'x'' OR 1=1 --'",
	"name eq 'ünï ☃'",
	"estimated_time eq 0",
	"estimated_time eq 9223372036854775807",
	"estimated_time eq -9223372036854775808",
	"db_address_latitude_decimal eq 1.5",
	"db_address_latitude_decimal eq -0.25",
	"db_address_latitude_decimal eq 1e3",
	"db_address_latitude_decimal eq 2.5E-3",
	"archived eq false",
	"name eq null",
	"project_id eq 0A1B2C3D-4E5F-6789-ABCD-EF0123456789",
	"project_id eq abcdef01-2345-6789-abcd-ef0123456789",
	"due_date eq 2026-01-27",
	"due_date eq 2026-01-27T12:00:00Z",
	"due_date eq 2026-01-27T12:00Z",
	"due_date eq 2026-01-27T12:00:00.1234567Z",
	"due_date eq 2026-01-27T12:00:00+01:00",
	"due_date eq 2026-01-27T12:00:00-05:30",
	"due_date eq 2026-01-27T12:00:00 01:00",
	"due_date eq 2026-01-27T12:00:00",
	"due_date eq '2026-01-27T12:00:00.000Z'",
	"time(due_date) eq 12:30",
	"time(due_date) eq 12:30:15.5",
	// in
	"estimated_time in (1, 2, 3)",
	"name in ('a','b')",
	"estimated_time in (-1)",
	"name in (null, 'x')",
	"estimated_time add 1 in (2) and archived",
	// functions
	"contains(name, 'x')",
	"startswith(name,'x')",
	"endswith(name, 'x')",
	"length(name) eq 3",
	"indexof(name, 'x') eq 0",
	"substring(name, 1) eq 'x'",
	"substring(name, 1, 2) eq 'x'",
	"tolower(name) eq 'x'",
	"toupper(name) eq 'X'",
	"trim(name) eq 'x'",
	"concat(name, concat(' ', description)) eq 'x'",
	"year(due_date) eq 2026",
	"month(due_date) eq 1",
	"day(due_date) eq 27",
	"hour(due_date) eq 12",
	"minute(due_date) eq 30",
	"second(due_date) eq 15",
	"date(due_date) eq 2026-01-27",
	"time(due_date) lt 12:00:00",
	"due_date lt now()",
	"round(db_address_latitude_decimal) eq 1",
	"floor(db_address_latitude_decimal) eq 1",
	"ceiling(db_address_latitude_decimal) eq 1",
	"contains( name , 'x' )",
	// paths and lambdas
	"project/company/name eq 'ACME'",
	"$it/name eq 'x'",
	"job_planning/any(p: p/user_code eq 'T1')",
	"job_planning/all(p: p/date_from gt 2026-01-01T00:00:00Z)",
	"job_planning/any()",
	"job_planning/any(p:p/user/user_skill/any(s:s/skill_code eq p/user_code))",
	"project/jobs/any(j: j/name eq name)",
	// whitespace
	"  name\teq\n'x'  ",
}

func TestParseFilterAST(t *testing.T) {
	var b strings.Builder
	for _, in := range astCases {
		x, err := ParseFilter(in, Limits{})
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", in, err)
			continue
		}
		fmt.Fprintf(&b, "%s\n  => %s\n", in, x)
	}
	golden(t, "ast.golden", b.String())
}

// Positions in the syntax tree are byte offsets into the option's text.
func TestParsePositions(t *testing.T) {
	x, err := ParseFilter("name eq 'x' and job_planning/any(p: p/user_code ne 'ü')", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	and := x.(*Binary)
	eq := and.L.(*Binary)
	lam := and.R.(*Lambda)
	ne := lam.Body.(*Binary)
	got := []int{and.At, eq.At, eq.L.Pos(), eq.R.Pos(), lam.At, lam.Collection.Pos(), lam.VarAt, ne.At, ne.L.Pos(), ne.R.Pos()}
	want := []int{12, 5, 0, 8, 29, 16, 33, 48, 36, 51}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("positions %v, want %v", got, want)
	}
}

// queryCases are raw query strings and their resolved form.
var queryCases = []struct{ raw, want string }{
	{"", ""},
	{"TOP=5&Skip=2", "top=5; skip=2"},
	{"$top=0&$count=true", "top=0; count=true"},
	{"$skip=100&$count=false", "skip=100"},
	{"$select=name,id,name", "select=name,id"},
	{"$select=*", ""},
	{"$select=name,*", ""},
	{"$orderby=name", "orderby=name"},
	{"$orderby=project/company/name desc,id asc", "orderby=project/company/name desc,id"},
	{"$filter=name+eq+'a+b'", "filter=(eq name 'a b')"},
	{"$filter=name%20eq%20'a%2Bb%3Bc'", "filter=(eq name 'a+b;c')"},
	{"$expand=project", "expand=[project]"},
	{"$expand=project,job_planning", "expand=[project, job_planning]"},
	{"$expand=project($select=name;$expand=company)", "expand=[project(select=name; expand=[company])]"},
	{"$expand=project($expand=company($select=name,code))", "expand=[project(expand=[company(select=name,code)])]"},
	{"$expand=job_planning($filter=user_code eq 'X';$orderby=date_from;$top=5)",
		"expand=[job_planning(filter=(eq user_code 'X'); orderby=date_from; top=5)]"},
	{"$expand=job_planning($filter=contains(user_code, ';)');$skip=1;$count=true;$select=user_code;$expand=user)",
		"expand=[job_planning(filter=contains(user_code, ';)'); select=user_code; expand=[user]; skip=1; count=true)]"},
	{"$expand=_child_jobs($expand=job_planning($expand=user))", "expand=[_child_jobs(expand=[job_planning(expand=[user])])]"},
	{"$filter=name eq 'x'&$orderby=name desc&$select=name&$expand=project&$top=10&$skip=20&$count=true",
		"filter=(eq name 'x'); orderby=name desc; select=name; expand=[project]; top=10; skip=20; count=true"},
}

func TestParseQueryOptions(t *testing.T) {
	jobs := schema.Default.MustEntity("jobs")
	for _, c := range queryCases {
		q, err := ParseRawQuery(jobs, c.raw, Limits{})
		if err != nil {
			t.Errorf("%s: %v", c.raw, err)
			continue
		}
		if got := q.String(); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.raw, got, c.want)
		}
	}
	// ParseQuery takes decoded values, as url.ParseQuery gives them.
	q, err := ParseQuery(jobs, url.Values{"$filter": {"name eq 'a;b'"}, "$top": {"3"}, "@x": {"1"}}, Limits{})
	if err != nil || q.String() != "filter=(eq name 'a;b'); top=3" {
		t.Errorf("ParseQuery: %v, %v", q, err)
	}
	// The resolved pieces: fields, navigations, keys.
	q, err = ParseRawQuery(jobs, "$select=name&$orderby=project/name desc&$expand=job_planning($select=user_code)", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if q.Select[0] != jobs.MustField("name") || q.OrderBy[0].Field != schema.Default.MustEntity("project").MustField("name") ||
		!q.OrderBy[0].Desc || q.Expand[0].Nav.Target.Name != "job_planning" || !q.Expand[0].Nav.Many ||
		q.Expand[0].Nav.Ref.IDField != "jobs_id" || q.Expand[0].Select[0].Name != "user_code" {
		t.Errorf("resolved query: %+v", q)
	}
}

// Limits given by the caller replace the defaults field by field.
func TestLimitsOverride(t *testing.T) {
	jobs := schema.Default.MustEntity("jobs")
	if _, err := ParseRawQuery(jobs, "$top=5000", Limits{MaxTop: 10000}); err != nil {
		t.Errorf("raised MaxTop: %v", err)
	}
	_, err := ParseRawQuery(jobs, "$filter=estimated_time in (1,2,3)", Limits{MaxInItems: 2})
	if err == nil || err.Error() != "$filter: at position 23: the 'in' list has more than 2 values (the maximum 'in' list length)" {
		t.Errorf("lowered MaxInItems: %v", err)
	}
	_, err = ParseRawQuery(jobs, "$expand=project($expand=company)", Limits{MaxExpandDepth: 1})
	if err == nil || err.Error() != "$expand: at position 16: $expand is nested deeper than 1 levels (the maximum expand depth)" {
		t.Errorf("lowered MaxExpandDepth: %v", err)
	}
	_, err = ParseRawQuery(jobs, "$filter=name eq 'abc'", Limits{MaxOptionLength: 10})
	if err == nil || err.Error() != "$filter: at position 10: the value is 13 characters long; the maximum query option length is 10" {
		t.Errorf("lowered MaxOptionLength: %v", err)
	}
}
