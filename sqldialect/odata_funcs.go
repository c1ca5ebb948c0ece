package sqldialect

// The SQL of OData's $filter building blocks, per dialect. Each entry is a
// fmt format whose %[1]s, %[2]s, ... stand for argument expressions the caller
// has already rendered (columns, placeholders, parenthesised expressions), so
// an argument may appear twice in a template without binding its parameters
// twice: placeholders are numbered in both databases.
//
// Every template yields an expression that needs no further parentheses when
// used as an operand. The only constant text in them is 'UTC'; literal values
// never pass through here.
//
// Dates are fixed-width UTC text in SQLite (2006-01-02T15:04:05.000000Z), so the
// parts of a date are substrings there; a date-only value is "2006-01-02" and a
// time of day "15:04:05.000000" in both databases' text form.
var odataFuncs = map[string]map[string]string{
	"sqlite": {
		// Placeholders need no cast: SQLite compares by storage class.
		"param.guid": "%[1]s", "param.string": "%[1]s", "param.int": "%[1]s", "param.decimal": "%[1]s",
		"param.bool": "%[1]s", "param.date": "%[1]s", "param.dateonly": "%[1]s", "param.time": "%[1]s",

		// instr and substr compare exactly; LIKE would fold ASCII case in SQLite.
		"contains":   "(instr(%[1]s, %[2]s) > 0)",
		"startswith": "(substr(%[1]s, 1, length(%[2]s)) = %[2]s)",
		"endswith":   "(substr(%[1]s, length(%[1]s) - length(%[2]s) + 1) = %[2]s)",
		"length":     "length(%[1]s)",
		"indexof":    "(instr(%[1]s, %[2]s) - 1)",
		// OData counts from 0; negative starts and lengths are clamped to 0 so
		// that both databases agree (SQLite would count them from the end).
		"substring":  "substr(%[1]s, min(max(%[2]s, 0), 2147483646) + 1)",
		"substring3": "substr(%[1]s, min(max(%[2]s, 0), 2147483646) + 1, min(max(%[3]s, 0), 2147483647))",
		"tolower":    "lower(%[1]s)",
		"toupper":    "upper(%[1]s)",
		"trim":       "trim(%[1]s)",
		"concat":     "(%[1]s || %[2]s)",

		"year":        "CAST(substr(%[1]s, 1, 4) AS INTEGER)",
		"month":       "CAST(substr(%[1]s, 6, 2) AS INTEGER)",
		"day":         "CAST(substr(%[1]s, 9, 2) AS INTEGER)",
		"hour":        "CAST(substr(%[1]s, 12, 2) AS INTEGER)",
		"minute":      "CAST(substr(%[1]s, 15, 2) AS INTEGER)",
		"second":      "CAST(substr(%[1]s, 18, 2) AS INTEGER)",
		"year.date":   "CAST(substr(%[1]s, 1, 4) AS INTEGER)",
		"month.date":  "CAST(substr(%[1]s, 6, 2) AS INTEGER)",
		"day.date":    "CAST(substr(%[1]s, 9, 2) AS INTEGER)",
		"hour.time":   "CAST(substr(%[1]s, 1, 2) AS INTEGER)",
		"minute.time": "CAST(substr(%[1]s, 4, 2) AS INTEGER)",
		"second.time": "CAST(substr(%[1]s, 7, 2) AS INTEGER)",
		"date":        "substr(%[1]s, 1, 10)",
		"time":        "substr(%[1]s, 12, 15)",

		"round":   "round(%[1]s)",
		"floor":   "floor(%[1]s)",
		"ceiling": "ceil(%[1]s)",
		// Division by zero gives NULL in both databases instead of an error in one.
		"div":         "(%[1]s / NULLIF(%[2]s, 0))",
		"mod":         "(%[1]s %% NULLIF(%[2]s, 0))",
		"mod.decimal": "mod(%[1]s, NULLIF(%[2]s, 0))",
		"divby":       "(CAST(%[1]s AS REAL) / NULLIF(%[2]s, 0))",
		// $apply's aggregation methods; a sum of no rows is 0.
		"agg.sum.int": "COALESCE(SUM(%[1]s), 0)", "agg.sum.decimal": "COALESCE(SUM(%[1]s), 0.0)",
		"agg.average": "AVG(%[1]s)", "agg.min": "MIN(%[1]s)", "agg.max": "MAX(%[1]s)",
		"agg.countdistinct": "COUNT(DISTINCT %[1]s)",
		// Date-times are text; durations are microseconds.
		"datetime.diff": "(" + sqliteMicros("%[1]s") + " - " + sqliteMicros("%[2]s") + ")",
		"datetime.add":  sqliteFromMicros("(" + sqliteMicros("%[1]s") + " + %[2]s)"),
	},
	"postgres": {
		// Typed placeholders let PostgreSQL resolve function overloads; a cast
		// of a parameter is a constant, so indexed comparisons stay sargable.
		"param.guid": "%[1]s::uuid", "param.string": "%[1]s::text", "param.int": "%[1]s::bigint",
		"param.decimal": "%[1]s::double precision", "param.bool": "%[1]s::boolean",
		"param.date": "%[1]s::timestamptz", "param.dateonly": "%[1]s::date", "param.time": "%[1]s::time",

		"contains":   "(strpos(%[1]s, %[2]s) > 0)",
		"startswith": "starts_with(%[1]s, %[2]s)",
		"endswith":   "(right(%[1]s, length(%[2]s)) = %[2]s)",
		"length":     "length(%[1]s)",
		"indexof":    "(strpos(%[1]s, %[2]s) - 1)",
		"substring":  "substr(%[1]s, CAST(LEAST(GREATEST(%[2]s, 0), 2147483646) + 1 AS integer))",
		"substring3": "substr(%[1]s, CAST(LEAST(GREATEST(%[2]s, 0), 2147483646) + 1 AS integer), CAST(LEAST(GREATEST(%[3]s, 0), 2147483647) AS integer))",
		"tolower":    "lower(%[1]s)",
		"toupper":    "upper(%[1]s)",
		"trim":       "trim(%[1]s)",
		"concat":     "(%[1]s || %[2]s)",

		// AT TIME ZONE 'UTC' makes the parts independent of the session's zone.
		"year":        "CAST(EXTRACT(YEAR FROM %[1]s AT TIME ZONE 'UTC') AS integer)",
		"month":       "CAST(EXTRACT(MONTH FROM %[1]s AT TIME ZONE 'UTC') AS integer)",
		"day":         "CAST(EXTRACT(DAY FROM %[1]s AT TIME ZONE 'UTC') AS integer)",
		"hour":        "CAST(EXTRACT(HOUR FROM %[1]s AT TIME ZONE 'UTC') AS integer)",
		"minute":      "CAST(EXTRACT(MINUTE FROM %[1]s AT TIME ZONE 'UTC') AS integer)",
		"second":      "CAST(FLOOR(EXTRACT(SECOND FROM %[1]s AT TIME ZONE 'UTC')) AS integer)",
		"year.date":   "CAST(EXTRACT(YEAR FROM %[1]s) AS integer)",
		"month.date":  "CAST(EXTRACT(MONTH FROM %[1]s) AS integer)",
		"day.date":    "CAST(EXTRACT(DAY FROM %[1]s) AS integer)",
		"hour.time":   "CAST(EXTRACT(HOUR FROM %[1]s) AS integer)",
		"minute.time": "CAST(EXTRACT(MINUTE FROM %[1]s) AS integer)",
		"second.time": "CAST(FLOOR(EXTRACT(SECOND FROM %[1]s)) AS integer)",
		"date":        "CAST(%[1]s AT TIME ZONE 'UTC' AS date)",
		"time":        "CAST(%[1]s AT TIME ZONE 'UTC' AS time)",

		// round(double precision) rounds half to even; numeric rounds half away
		// from zero, as SQLite does.
		"round":       "CAST(round(CAST(%[1]s AS numeric)) AS double precision)",
		"floor":       "floor(%[1]s)",
		"ceiling":     "ceil(%[1]s)",
		"div":         "(%[1]s / NULLIF(%[2]s, 0))",
		"mod":         "(%[1]s %% NULLIF(%[2]s, 0))",
		"mod.decimal": "CAST(mod(CAST(%[1]s AS numeric), CAST(NULLIF(%[2]s, 0) AS numeric)) AS double precision)",
		"divby":       "(CAST(%[1]s AS double precision) / NULLIF(%[2]s, 0))",
		// SUM and AVG of bigint are numeric in PostgreSQL: cast back.
		"agg.sum.int": "CAST(COALESCE(SUM(%[1]s), 0) AS bigint)", "agg.sum.decimal": "COALESCE(SUM(%[1]s), 0)",
		"agg.average": "CAST(AVG(%[1]s) AS double precision)", "agg.min": "MIN(%[1]s)", "agg.max": "MAX(%[1]s)",
		"agg.countdistinct": "COUNT(DISTINCT %[1]s)",
		// Durations are microseconds (bigint) in both databases.
		"datetime.diff": "CAST(EXTRACT(EPOCH FROM (%[1]s - %[2]s)) * 1000000 AS bigint)",
		"datetime.add":  "(%[1]s + %[2]s * INTERVAL '1 microsecond')",
	},
}

// sqliteMicros is the microseconds since 1970 of a date-time stored as
// fixed-width text (2006-01-02T15:04:05.000000Z).
func sqliteMicros(x string) string {
	return "(CAST(strftime('%%s', " + x + ") AS INTEGER) * 1000000 + CAST(substr(" + x + ", 21, 6) AS INTEGER))"
}

// sqliteFromMicros writes microseconds since 1970 back in the stored text
// form, so that the result compares with stored date-times as text.
func sqliteFromMicros(m string) string {
	frac := "((" + m + " %% 1000000 + 1000000) %% 1000000)"
	return "(strftime('%%Y-%%m-%%dT%%H:%%M:%%S', (" + m + " - " + frac + ") / 1000000, 'unixepoch') || printf('.%%06dZ', " + frac + "))"
}

// ODataFunc returns dialect d's SQL template for an OData $filter building
// block: a function name ("contains", "year", ...), a variant of one
// ("year.date" for a date-only argument, "hour.time" for a time of day,
// "substring3", "mod.decimal"), an operator that needs care ("div", "mod"), or
// a placeholder cast ("param.<kind>" with kind guid, string, int, decimal,
// bool, date, dateonly or time). ok is false when d has no such template.
func ODataFunc(d Dialect, key string) (template string, ok bool) {
	template, ok = odataFuncs[d.Name()][key]
	return template, ok
}
