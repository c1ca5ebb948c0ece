// Package odata parses the OData v4 system query options of a list request
// ($filter, $orderby, $select, $top, $skip, $count, $expand), checks every
// name and type against a schema.Entity, and translates $filter and $orderby
// into parameterised SQL for a sqldialect.Dialect.
//
// # Use
//
// Storage builds a list query like this:
//
//	q, err := odata.ParseRawQuery(schema.Default.MustEntity("jobs"), r.URL.RawQuery, odata.Limits{})
//	if err != nil { ... } // an *odata.Error: answer 400 with err.Error()
//	args := &sqldialect.Args{D: dialect}
//	tenant := args.AddRaw(tenantID)
//	s, err := q.SQL("t", args) // args now also holds the filter's values
//	sql := `SELECT t.* FROM "jobs" t` + s.Joins + ` WHERE t."tenant_id" = ` + tenant
//	if s.Where != "" {
//		sql += " AND (" + s.Where + ")"
//	}
//	if s.OrderBy != "" {
//		sql += " ORDER BY " + s.OrderBy
//	}
//	rows, err := db.QueryContext(ctx, sql, args.List...)
//
// Placeholders are numbered (?1 in SQLite, $1 in PostgreSQL), so the caller
// may bind its own arguments before or after, in any textual order. Every
// literal of the request becomes a bind argument converted by Dialect.Value;
// identifiers come from the schema only and are quoted. s.Sort gives the
// SQL of each order key. Query.PageSQL is Query.SQL for keyset paging: it
// ends the order with the id tie-breaker and, given the position of the
// last row sent (PageKeys), keeps only the rows after it;
// Query.EncodeSkipToken and DecodeSkipToken carry that position in a
// $skiptoken bound to the query. Each Expand has its own Query, translated
// the same way against the target table.
//
// # Semantics
//
//   - Names and operators are case-sensitive and lower case (and, eq, contains).
//   - not applies to a whole comparison: "not a eq b" is "not (a eq b)".
//   - Literals: 'strings' (a quote inside doubled), integers, decimals, true, false,
//     null, unquoted GUIDs, dates (2026-01-27), date-times
//     (2026-01-27T12:00:00.5+01:00; no zone means UTC) and times of day
//     (12:30:00). A quoted string compared with a date-time, date, time or GUID
//     is read as one ('2026-01-27T12:00:00.000Z'); null compared with anything
//     is that kind's default (schema.KindZero), as the API has no nulls.
//     Integers compare with decimals.
//   - A to-one navigation is named by its reference's embedded name, else by
//     the reference's name; as a value it stands for its _id column, so
//     "project eq null" finds jobs without a project. A path through it
//     (project/company/name) becomes LEFT JOINs on the tenant and id; a field
//     of a missing row reads as its default. Where that default cannot make
//     the comparison true (and not under not), the column is compared bare,
//     so that the databases may plan the joins as inner joins and start
//     from the joined table's indexes; an equality on a unique field also
//     repeats its partial index's condition (col <> default).
//   - coll/any(x: cond), coll/all(x: cond) and coll/any() become correlated
//     [NOT] EXISTS subqueries on the child table. Inside the condition, a
//     path that does not start with a lambda variable (or with $it) is a
//     property of the main entity.
//   - Strings compare exactly (case-sensitively) in both databases; the order
//     of gt/lt and $orderby on strings is the database's collation (byte
//     order under SQLite and under PostgreSQL's C collations). tolower and
//     toupper fold only ASCII letters under SQLite.
//   - Division and mod by zero give SQL NULL, which makes the comparison
//     that contains it false (and its negation false too), in both databases.
//
// # Errors and limits
//
// Every client mistake is an *Error giving the option, the byte offset into
// the option's decoded text, and what was expected. Options nested in
// $expand report the $expand option and offsets into its whole text. Limits
// bound the size of what one request may ask for; DefaultLimits are used for
// zero fields.
package odata
