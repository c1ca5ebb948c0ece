package odata

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/schema"
)

func deepParens(n int) string {
	return strings.Repeat("(", n) + "name eq 'x'" + strings.Repeat(")", n)
}

func inList(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprint(i)
	}
	return "estimated_time in (" + strings.Join(items, ",") + ")"
}

func parentChain(n int) string {
	return strings.Repeat("_parent_job/", n) + "name eq 'x'"
}

// errorCases: each bad query (a $filter unless the input names its options
// as a query string after '?') gives exactly this error.
var errorCases = []struct {
	in, want string
}{
	// names
	{"nme eq 'x'", "$filter: at position 0: unknown property 'nme' of jobs (did you mean 'name'?)"},
	{"zzz eq 'x'", "$filter: at position 0: unknown property 'zzz' of jobs"},
	{"projet/name eq 'x'", "$filter: at position 0: unknown property 'projet' of jobs (did you mean 'project'?)"},
	{"project/nam eq 'x'", "$filter: at position 8: unknown property 'nam' of project (did you mean 'name'?)"},
	{"project/company/nmae eq 'x'", "$filter: at position 16: unknown property 'nmae' of company (did you mean 'name'?)"},
	{"name/x eq 'x'", "$filter: at position 0: name is a property of jobs, not a navigation: nothing can follow it after '/'"},
	{"job_planning eq null", "$filter: at position 0: job_planning is a collection: use job_planning/any(x: ...) or job_planning/all(x: ...)"},
	{"job_planning/user_code eq 'x'", "$filter: at position 0: job_planning is a collection: use job_planning/any(x: ...) or job_planning/all(x: ...)"},
	{"project/any()", "$filter: at position 0: project is a single navigation, not a collection: any/all need a collection"},
	{"name/any()", "$filter: at position 0: name is a property of jobs, not a collection: any/all need a collection"},
	{"$it/any(p: true)", "$filter: at position 4: any/all need a collection, e.g. job_planning/any(p: ...)"},
	{"$it/$count gt 1", "$filter: at position 4: $count needs a collection, e.g. job_planning/$count"},
	{"tenant_id eq 1", "$filter: at position 0: unknown property 'tenant_id' of jobs"},
	{"p/name eq 'x'", "$filter: at position 0: unknown property 'p' of jobs"},
	{"job_planning/any(p: p eq null)", "$filter: at position 20: p is a lambda variable, not a value; write p/<property>"},
	{"job_planning/any(p: p/nope eq 1)", "$filter: at position 22: unknown property 'nope' of job_planning"},
	{"job_planning/any(p: p/user/user_skill/any(p: p/skill_code eq 'x'))", "$filter: at position 42: the lambda variable 'p' is already in use"},
	{"$it eq null", "$filter: at position 0: $it is not a value; write $it/<property>"},
	{"AND eq 1", "$filter: at position 0: expected a literal or property, found 'AND'"},
	// syntax
	{"", "$filter: at position 0: expected an expression, found end of input"},
	{"name eq", "$filter: at position 7: expected a literal or property after 'eq', found end of input"},
	{"name eq )", "$filter: at position 8: expected a literal or property after 'eq', found ')'"},
	{"name eq 'x' and", "$filter: at position 15: expected a literal or property after 'and', found end of input"},
	{"name eq 'x' and or", "$filter: at position 16: expected a literal or property after 'and', found 'or'"},
	{"(name eq 'x'", "$filter: at position 12: expected ')', found end of input"},
	{"name eq 'x')", "$filter: at position 11: found ')' without a matching '('"},
	{"name eq 'abc", "$filter: at position 8: unterminated string literal (write a quote inside a string as '')"},
	{"name eq 'it's'", "$filter: at position 13: unterminated string literal (write a quote inside a string as '')"},
	{"name == 'x'", "$filter: at position 5: expected an operator such as eq, and, or, found '='"},
	{"name eq \"x", "$filter: at position 8: unterminated string literal (a double-quoted string ends with '\"')"},
	// literal forms at the edges
	{"estimated_time gt + 42", "$filter: at position 18: '+' is a sign: it must be written right before a number, e.g. +42 (encode it as %2B in a URL)"},
	{"due_date gt 10000-01-01", "$filter: at position 12: the date 10000-01-01 is out of range: years have 4 digits, dates range from 0001-01-01 to 9999-12-31"},
	{"due_date gt -0001-01-01", "$filter: at position 12: the year of -0001-01-01 is before 0001; dates range from 0001-01-01 to 9999-12-31"},
	{"due_date gt 0000-12-31", "$filter: at position 12: the date 0000-12-31 is out of range: dates range from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z (in UTC)"},
	{"due_date gt 9999-12-31T23:00:00-01:00", "$filter: at position 12: the date-time 9999-12-31T23:00:00-01:00 is out of range: dates range from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z (in UTC)"},
	{"due_date gt 2026-01-01T24:00:00Z", "$filter: at position 12: 2026-01-01T24:00:00Z is not a valid date-time (month 01-12, a day the month has, hours 00-23, minutes and seconds 00-59)"},
	{"due_date sub date_create eq duration'P1Y'", "$filter: at position 28: duration'P1Y' is not a duration: years and months are not durations in OData; use days; write e.g. duration'P1DT2H30M'"},
	{"due_date sub date_create eq duration'PT'", "$filter: at position 28: duration'PT' is not a duration: T must be followed by hours, minutes or seconds; write e.g. duration'P1DT2H30M'"},
	{"due_date sub date_create eq duration'P1.5D'", "$filter: at position 28: duration'P1.5D' is not a duration: only seconds may have a fraction; write e.g. duration'P1DT2H30M'"},
	{"due_date sub date_create eq duration'1D", "$filter: at position 28: unterminated duration literal, e.g. duration'P1DT2H'"},
	{"due_date sub date_create eq 'P1X'", "$filter: at position 28: 'P1X' is not a duration: unexpected \"X\"; write e.g. duration'P1DT2H30M'"},
	{"due_date add 5 gt now()", "$filter: at position 0: 'add' needs numbers, or a date-time and a duration, but due_date is a date-time (with an integer on the other side)"},
	{"due_date mul duration'P1D' gt now()", "$filter: at position 0: 'mul' needs numbers on both sides, but due_date is a date-time"},
	{"estimated_time add INF gt 5", "$filter: at position 19: INF and NaN can only be compared (eq, ne, gt, ge, lt, le, in), not computed with"},
	{"round(NaN) eq 1", "$filter: at position 6: INF and NaN can only be compared (eq, ne, gt, ge, lt, le, in), not computed with"},
	{"estimated_time gt Inf", "$filter: at position 18: unknown property 'Inf' of jobs"},
	{"name eq @title", "$filter: at position 8: the parameter alias @title has no value: add &@title=<value> to the query string"},
	{"job_planning/$count gt 'x'", "$filter: at position 20: 'gt' cannot compare job_planning/$count (an integer) with 'x' (a string)"},
	{"name/$count gt 1", "$filter: at position 0: name is a property of jobs, not a collection: $count needs a collection"},
	{"project/$count gt 1", "$filter: at position 0: project is a single navigation, not a collection: $count needs a collection"},
	{"job_planning/$count/x gt 1", "$filter: at position 0: job_planning is a collection: use job_planning/any(x: ...) or job_planning/all(x: ...)"},
	{"name eq 'x' && 1", "$filter: at position 12: unexpected character '&'"},
	{"Contans(name, 'x')", "$filter: at position 0: unknown function 'Contans'"},
	{"foo(name) eq 1", "$filter: at position 0: unknown function 'foo'"},
	{"contains(name)", "$filter: at position 0: contains takes 2 argument(s), not 1"},
	{"substring(name, 1, 2, 3) eq 'x'", "$filter: at position 0: substring takes 2 or 3 argument(s), not 4"},
	{"now(1) lt due_date", "$filter: at position 0: now takes 0 argument(s), not 1"},
	{"contains(name 'x')", "$filter: at position 14: expected ',' or ')' in the arguments of contains, found string 'x'"},
	{"contains(name, 'x'", "$filter: at position 18: expected ')' to close contains( at position 8, found end of input"},
	{"name in 'x'", "$filter: at position 8: expected '(' or '[' after 'in', found string 'x'"},
	{"name in (,)", "$filter: at position 9: expected a literal in the 'in' list, found ','"},
	{"name in ['a')", "$filter: at position 12: expected ',' or ']' in the 'in' list, found ')'"},
	{"name in ('a' 'b')", "$filter: at position 13: expected ',' or ')' in the 'in' list, found string 'b'"},
	{"name in (description)", "$filter: at position 9: expected a literal in the 'in' list, found 'description'"},
	{"job_planning/any(p/user_code eq 'x')", "$filter: at position 17: expected a lambda variable and ':', e.g. any(x: x/name eq 'A'), found 'p'"},
	{"job_planning/all()", "$filter: at position 17: all needs a condition, e.g. all(x: x/name ne '')"},
	{"job_planning/any(p: p/user_code eq 'x'", "$filter: at position 38: expected ')' to close any(, found end of input"},
	{"name/", "$filter: at position 5: expected a property name after '/', found end of input"},
	{"estimated_time eq 99999999999999999999", "$filter: at position 18: the integer 99999999999999999999 is out of range"},
	{"db_address_latitude_decimal eq 1e999", "$filter: at position 31: the number 1e999 is out of range"},
	{"estimated_time eq 12abc", "$filter: at position 18: malformed literal '12abc'"},
	{"due_date eq 2026-13-01", "$filter: at position 12: 2026-13-01 is not a valid date (month 01-12, a day the month has, hours 00-23, minutes and seconds 00-59)"},
	{"due_date eq 2026-02-30T10:00:00Z", "$filter: at position 12: 2026-02-30T10:00:00Z is not a valid date-time (month 01-12, a day the month has, hours 00-23, minutes and seconds 00-59)"},
	{"time(due_date) eq 25:00", "$filter: at position 18: 25:00 is not a valid time of day"},
	{"name eq 'x' or", "$filter: at position 14: expected a literal or property after 'or', found end of input"},
	{"not", "$filter: at position 3: expected a literal or property after 'not', found end of input"},
	{"name eq 'x';DROP TABLE jobs", "$filter: at position 11: expected an operator such as eq, and, or, found ';'"},
	{"name eq 'x' -- comment", "$filter: at position 12: expected an operator such as eq, and, or, found '-'"},
	{"name eq 'x\x00'", "$filter: at position 10: a NUL character is not allowed"},
	{"name eq '\xff'", "$filter: at position 9: the text is not valid UTF-8"},
	// types
	{"name eq 1", "$filter: at position 5: 'eq' cannot compare name (a string) with 1 (an integer)"},
	{"estimated_time eq 'x'", "$filter: at position 15: 'eq' cannot compare estimated_time (an integer) with 'x' (a string)"},
	{"1 eq name", "$filter: at position 2: 'eq' cannot compare 1 (an integer) with name (a string)"},
	{"project_id eq name", "$filter: at position 11: 'eq' cannot compare project_id (a GUID) with name (a string)"},
	{"due_date eq 5", "$filter: at position 9: 'eq' cannot compare due_date (a date-time) with 5 (an integer)"},
	{"modified_dateutc gt 'yesterday'", "$filter: at position 20: 'yesterday' is not a date-time; write e.g. 2026-01-27T12:00:00Z or '2026-01-27T12:00:00.000Z'"},
	{"modified_dateutc gt '2026-01-27T25:00:00Z'", "$filter: at position 20: '2026-01-27T25:00:00Z' is not a date-time; write e.g. 2026-01-27T12:00:00Z or '2026-01-27T12:00:00.000Z'"},
	{"project_id eq 'nope'", "$filter: at position 14: 'nope' is not a GUID"},
	{"date(due_date) eq '2026-01-27T10:00:00Z'", "$filter: at position 18: '2026-01-27T10:00:00Z' is not a date; write e.g. 2026-01-27"},
	{"date(due_date) eq due_date", "$filter: at position 15: 'eq' cannot compare date(due_date) (a date) with due_date (a date-time)"},
	{"time(due_date) eq 'noon'", "$filter: at position 18: 'noon' is not a time of day; write e.g. 12:30:00"},
	{"contains(estimated_time, 'x')", "$filter: at position 9: contains needs a string as argument 1, but estimated_time is an integer"},
	{"year(name) eq 2026", "$filter: at position 5: year needs a date-time or a date as argument 1, but name is a string"},
	{"hour(date(due_date)) eq 1", "$filter: at position 5: hour needs a date-time or a time of day as argument 1, but date(due_date) is a date"},
	{"substring(name, 'a') eq 'x'", "$filter: at position 16: substring needs an integer as argument 2, but 'a' is a string"},
	{"round(name) eq 1", "$filter: at position 6: round needs a decimal or an integer as argument 1, but name is a string"},
	{"name add 1 eq 2", "$filter: at position 0: 'add' needs numbers, or a date-time and a duration, but name is a string (with an integer on the other side)"},
	{"estimated_time mul true eq 2", "$filter: at position 19: 'mul' needs numbers on both sides, but true is a boolean"},
	{"-name eq 'x'", "$filter: at position 1: unary '-' needs a number or a duration, but name is a string"},
	{"not name", "$filter: at position 4: 'not' needs a condition, but name is a string"},
	{"name eq 'x' and 5", "$filter: at position 16: 'and' needs conditions on both sides, but 5 is an integer"},
	{"name", "$filter: at position 0: the filter must be a condition (true or false), but name is a string"},
	{"estimated_time add 1", "$filter: at position 15: the filter must be a condition (true or false), but (add estimated_time 1) is an integer"},
	{"null eq null", "$filter: at position 5: 'eq' cannot compare null with null: one side must be a property or an expression"},
	{"null", "$filter: at position 0: the filter must be a condition (true or false), but null is null"},
	{"company: archived gt false", "$filter: at position 9: 'gt' cannot order booleans; use eq or ne"},
	{"estimated_time in (1, 'x')", "$filter: at position 22: 'in' cannot compare estimated_time (an integer) with 'x' (a string)"},
	{"null in (1)", "$filter: at position 0: 'in' needs a property or an expression on its left, not null"},
	{"job_planning/any(p: p/user_code)", "$filter: at position 20: the condition of any must be true or false, but p/user_code is a string"},
	{"project eq 'x'", "$filter: at position 11: 'x' is not a GUID"},
	// limits
	{deepParens(31), ""},
	{deepParens(32), "$filter: at position 32: the expression is nested deeper than 32 levels (the maximum nesting depth)"},
	{strings.Repeat("not ", 31) + "company/archived", ""},
	{strings.Repeat("not ", 32) + "company/archived", "$filter: at position 128: the expression is nested deeper than 32 levels (the maximum nesting depth)"},
	{strings.Repeat("-", 40) + "5 eq estimated_time", "$filter: at position 32: the expression is nested deeper than 32 levels (the maximum nesting depth)"},
	{"name eq '" + strings.Repeat("x", 4100) + "'", "$filter: at position 4096: the value is 4110 characters long; the maximum query option length is 4096"},
	{inList(500), ""},
	{inList(501), "$filter: at position 1909: the 'in' list has more than 500 values (the maximum 'in' list length)"},
	{parentChain(16), ""},
	{parentChain(17), "$filter: at position 192: the query follows more than 16 navigations (the maximum number of joins)"},
	// other options
	{"?$orderby=name DESC asc", "$orderby: at position 10: expected asc, desc, ',' or the end of $orderby, found 'asc'"},
	{"?$orderby=name desc desc", "$orderby: at position 10: expected asc, desc, ',' or the end of $orderby, found 'desc'"},
	{"?$orderby=nme", "$orderby: at position 0: unknown property 'nme' of jobs (did you mean 'name'?)"},
	{"?$orderby=contains(name,'x')", "$orderby: at position 0: $orderby takes property paths, e.g. name or project/name desc; contains(name, 'x') is not one"},
	{"?$orderby=job_planning/any()", "$orderby: at position 13: $orderby takes property paths, e.g. name or project/name desc; job_planning/any() is not one"},
	{"?$orderby=name,", "$orderby: at position 5: expected a literal or property, found end of input"},
	{"?$select=nme", "$select: at position 0: unknown property 'nme' of jobs (did you mean 'name'?)"},
	{"?$select=project", "$select: at position 0: project is a navigation of jobs: use $expand=project"},
	{"?$select=project/name", "$select: at position 7: $select takes property names of this entity; to include project use $expand"},
	{"?$select=name,,id", "$select: at position 5: expected a property name or *, found ','"},
	{"?$select=", "$select: at position 0: expected a property name or *, found end of input"},
	{"?$top=5000", "$top: at position 0: $top is 5000; the maximum $top is 1000"},
	{"?$top=-1", "$top: at position 0: $top needs a non-negative integer, found '-'"},
	{"?$top=1.5", "$top: at position 0: $top needs a non-negative integer, found '1.5'"},
	{"?$top=99999999999", "$top: at position 0: 99999999999 is out of range"},
	{"?$skip=x", "$skip: at position 0: $skip needs a non-negative integer, found 'x'"},
	{"?$skip=1 2", "$skip: at position 2: expected ',' or the end of $skip, found '2'"},
	{"?$count=yes", "$count: at position 0: expected true or false, found 'yes'"},
	{"?$count=yes", "$count: at position 0: expected true or false, found 'yes'"},
	{"?$filter= true", "$filter: at position 0: the value starts with a space; the OData grammar allows none after '='"},
	{"?filter=true&$filter=false", "$filter: the option is given more than once ($filter)"},
	{"?foo=1", "foo: unknown query option 'foo'; the supported ones are $filter, $orderby, $select, $expand, $top, $skip, $count, $apply (in any case, with or without '$'), $skiptoken, $deltatoken, $format and parameter aliases (@name)"},
	{"?$search=boiler", "$search: $search is not supported by this service (see docs/odata.md)"},
	{"?$filter=name eq @t&@t=", "$filter: at position 8: the parameter alias @t has an empty value"},
	{"?$filter=name eq @t&@t= 'x'", "$filter: at position 8: the value of @t starts with a space; the OData grammar allows none after '='"},
	{"?$filter=name eq @t&@t='x' and", "@t: at position 7: expected a literal or property after 'and', found end of input"},
	{"?$filter=name eq @t&@t=@u&@u='x'", "@t: at position 0: a parameter alias cannot be used here (inside the value of another alias)"},
	{"?$filter=estimated_time eq @n&@n='x'", "$filter: at position 15: 'eq' cannot compare estimated_time (an integer) with 'x' (a string)"},
	{"?@=1", "@: a parameter alias is @ and a name, e.g. @title"},
	{"?$expand=job_planning($filter= is_leader)", "$expand: at position 21: a space after '=' is not allowed by the OData grammar"},
	{"?$expand=job_planning(fltr=is_leader)", "$expand: at position 13: unknown query option fltr; the supported ones are $filter, $orderby, $select, $expand, $top, $skip, $count, $apply"},
	{"?$orderby=job_planning/$count/name", "$orderby: at position 0: job_planning is a collection: use job_planning/any(x: ...) or job_planning/all(x: ...)"},
	{"?$fitler=name eq 'x'", "$fitler: unknown query option '$fitler'; the supported ones are $filter, $orderby, $select, $expand, $top, $skip, $count, $apply (in any case, with or without '$'), $skiptoken, $deltatoken, $format and parameter aliases (@name)"},
	{"?$filter=name eq 'x'&$filter=name eq 'y'", "$filter: the option is given more than once ($filter)"},
	{"?$filter=name%zz", "$filter: bad percent-encoding in the value"},
	{"?$expand=nope", "$expand: at position 0: unknown property 'nope' of jobs"},
	{"?$expand=name", "$expand: at position 0: name is a property of jobs, not a navigation: use $select"},
	{"?$expand=project,project", "$expand: at position 8: project is expanded more than once"},
	{"?$expand=*", "$expand: at position 0: $expand=* is not supported: name the navigation properties"},
	{"?$expand=project/company", "$expand: at position 7: expand paths are not supported: write project($expand=...)"},
	{"?$expand=project(", "$expand: at position 8: expected a query option such as $select=... in the parentheses of project, found end of input"},
	{"?$expand=project()", "$expand: at position 8: expected a query option such as $select=... in the parentheses of project, found ')'"},
	{"?$expand=project($select=name", "$expand: at position 20: expected ')' to close the options of project, found end of input"},
	{"?$expand=project($select=)", "$expand: at position 16: expected a value for $select"},
	{"?$expand=project($select=nope)", "$expand: at position 16: unknown property 'nope' of project"},
	{"?$expand=project($search=x)", "$expand: at position 8: unknown query option $search; the supported ones are $filter, $orderby, $select, $expand, $top, $skip, $count, $apply"},
	{"?$expand=project($select=name;$select=id)", "$expand: at position 21: $select is given more than once for project"},
	{"?$expand=project($filter=name eq 'x')", "$expand: at position 16: $filter applies to collections; project is a single navigation (only $select and $expand apply)"},
	{"?$expand=job_planning($filter=nope eq 1)", "$expand: at position 21: unknown property 'nope' of job_planning"},
	{"?$expand=job_planning($filter=user_code eq 1)", "$expand: at position 31: 'eq' cannot compare user_code (a string) with 1 (an integer)"},
	{"?$expand=job_planning($filter=user_code eq 'a' and)", "$expand: at position 41: expected a literal or property after 'and', found end of input"},
	{"?$expand=job_planning($top=5000)", "$expand: at position 18: $top is 5000; the maximum $top is 1000"},
	{"?$expand=job_planning($orderby=date_from desc x)", "$expand: at position 37: expected asc, desc, ',' or the end of $orderby, found 'x'"},
	{"?$expand=job_planning($top=1 2)", "$expand: at position 20: expected ';' or ')' after the value of $top, found '2'"},
	{"?$expand=project($expand=company($expand=parent($expand=parent)))", "$expand: at position 47: $expand is nested deeper than 3 levels (the maximum expand depth)"},
	{"?$expand=project($expand=company($expand=parent))", ""},
}

// parseInput runs one error case: a $filter, or a raw query after '?'.
func parseInput(in string) (*Query, error) {
	e, filter := schema.Default.MustEntity("jobs"), in
	if rest, ok := strings.CutPrefix(in, "?"); ok {
		return ParseRawQuery(e, rest, Limits{})
	}
	if name, rest, ok := strings.Cut(in, ": "); ok {
		if ent, found := schema.Default.Entity(name); found {
			e, filter = ent, rest
		}
	}
	return ParseQuery(e, url.Values{"$filter": {filter}}, Limits{})
}

func TestErrors(t *testing.T) {
	for _, c := range errorCases {
		name := c.in
		if len(name) > 60 {
			name = name[:60] + "..."
		}
		_, err := parseInput(c.in)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: unexpected error %v", name, err)
			}
			continue
		}
		var oe *Error
		if !errors.As(err, &oe) {
			t.Errorf("%s: got %v, want an *Error", name, err)
			continue
		}
		if got := oe.Error(); got != c.want {
			t.Errorf("%s:\n got: %s\nwant: %s", name, got, c.want)
		}
	}
}
