package odata

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// reResultColumn matches the names TranslateApply gives its result columns.
var reResultColumn = regexp.MustCompile(`"(c[0-9]+|n)"`)

// FuzzParseApply feeds $apply values (with an $orderby on the result):
// every error is an *Error of one of the request's options with a position
// inside its text, and every accepted value translates, for both
// dialects, to SQL built only from fixed text, schema names and
// placeholders, which SQLite compiles.
func FuzzParseApply(f *testing.F) {
	for _, c := range applyCases {
		_, raw := entityOf(nil, c)
		v, _ := url.ParseQuery(strings.ReplaceAll(raw, "+", "%2B"))
		f.Add(v.Get("$apply"), v.Get("$orderby"))
	}
	f.Add("groupby((name))/filter(true)", "")
	f.Add("groupby((project/company/code),aggregate($count as n,estimated_time with average as a))/filter(n gt 2 and project/company/code ne 'X')/filter(a divby n lt 10)", "a")
	f.Add("filter(due_date sub duration'P1D' gt now())/aggregate($count as n)", "n desc")
	jobs := schema.Default.MustEntity("jobs")
	f.Fuzz(func(t *testing.T, apply, orderby string) {
		vals := url.Values{"$apply": {apply}}
		if orderby != "" {
			vals.Set("$orderby", orderby)
		}
		q, err := ParseQuery(jobs, vals, Limits{})
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("%q %q: error %v is not an *Error", apply, orderby, err)
			}
			text := map[string]string{"$apply": apply, "$orderby": orderby}[oe.Option]
			if (oe.Option != "$apply" && oe.Option != "$orderby" && !strings.HasPrefix(oe.Option, "@")) || oe.Pos > len(text) || oe.Msg == "" {
				t.Fatalf("%q %q: bad error %#v", apply, orderby, oe)
			}
			return
		}
		for _, d := range []sqldialect.Dialect{sqldialect.SQLite{}, sqldialect.Postgres{}} {
			args := &sqldialect.Args{D: d}
			s, err := Translator{Alias: "t", Args: args, Now: func() time.Time { return fixedNow }}.TranslateApply(q.Apply, q.ApplyOrder, true)
			if err != nil {
				t.Fatalf("%q: %v", apply, err)
			}
			full := "SELECT " + s.Select + " FROM" + s.Joins
			if s.Where != "" {
				full += " WHERE " + s.Where
			}
			if s.GroupBy != "" {
				full += " GROUP BY " + s.GroupBy
			}
			if s.Having != "" {
				full += " HAVING " + s.Having
			}
			if s.OrderBy != "" {
				full += " ORDER BY " + s.OrderBy
			}
			checkSQL(t, apply, reResultColumn.ReplaceAllString(full, " "), len(args.List))
			if d.Name() == "sqlite" {
				db, err := prepareDB()
				if err != nil {
					t.Fatal(err)
				}
				stmt, err := db.Prepare(strings.Replace(full, " FROM", ` FROM "jobs" t`, 1))
				if err != nil {
					t.Fatalf("%q: SQLite rejects %s: %v", apply, full, err)
				}
				stmt.Close()
			}
		}
	})
}
