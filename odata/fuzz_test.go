package odata

import (
	"database/sql"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// fuzzSeeds are realistic and odd filters; testdata/fuzz/FuzzParseFilter holds more.
var fuzzSeeds = []string{
	"name eq 'ACME'",
	"modified_dateutc gt '2026-01-27T12:00:00.000Z'",
	"project/company/name eq 'ACME' and job_planning/any(p: p/user_code eq 'T1')",
	"job_planning/all(p: p/date_from gt 2026-01-01T00:00:00Z)",
	"not (estimated_time add 5 mul 2 sub -3 gt 10.5) or year(due_date) eq 2026",
	"contains(tolower(name), 'x''y') and substring(name, 1, 2) eq 'ab'",
	"estimated_time in (1, 2, null) and project eq null",
	"name eq 'x'' OR 1=1 --'",
	"date(due_date) eq 2026-01-27 and time(due_date) lt 12:00",
	"((((name eq 'x'))))",
	"-(-estimated_time) eq - -5",
	"estimated_time gt +42 and db_address_latitude_decimal lt +0.314e+1 and estimated_time ne NaN and estimated_time lt INF",
	"due_date sub date_create eq duration'P6DT23H59M59.9999S' or due_date add duration'-PT1H' lt now()",
	"due_date sub 'P1D' gt 9999-12-31T23:59:59.999999Z or due_date gt 0001-01-01",
	"Name EQ 'x' AND NOT CONTAINS(name, \"y\") Or job_status_code IN [\"Open\"] or name in ()",
	"estimated_time divby 7 gt 1 and job_planning/$count ge 2 and project/jobs/$count lt 10",
	"name eq @alias",
}

// Fixed SQL vocabulary: the only words, numbers and quoted constants the
// translation may contain besides placeholders, schema names and aliases.
var (
	sqlWords = map[string]bool{}
	sqlConst []string
	sqlOnce  sync.Once
)

func vocabulary() {
	for _, w := range strings.Fields(`SELECT FROM LEFT JOIN ON WHERE AND OR NOT EXISTS IN CAST AS INTEGER integer
		NULLIF COALESCE instr substr length lower upper trim min max round floor ceil mod strpos starts_with right
		LEAST GREATEST EXTRACT YEAR MONTH DAY HOUR MINUTE SECOND FLOOR AT TIME ZONE date time numeric double
		precision text bigint boolean uuid timestamptz false ORDER BY DESC
		REAL strftime printf unixepoch EPOCH INTERVAL COUNT SUM AVG MIN MAX DISTINCT OVER GROUP HAVING
		0 1 2 4 6 7 9 10 12 15 18 21 1000000 2147483646 2147483647`) {
		sqlWords[w] = true
	}
	sqlConst = []string{"'UTC'", "'%s'", "'%Y-%m-%dT%H:%M:%S'", "'unixepoch'", "'.%06dZ'", "'1 microsecond'"}
	for _, d := range []sqldialect.Dialect{sqldialect.SQLite{}, sqldialect.Postgres{}} {
		for _, k := range []schema.Kind{schema.KindGUID, schema.KindString, schema.KindInt, schema.KindDecimal, schema.KindBool, schema.KindDate} {
			if c := d.Literal(k, schema.KindZero(k)); strings.HasPrefix(c, "'") {
				sqlConst = append(sqlConst, c) // unquoted ones (0, false) are words
			}
		}
	}
}

var (
	reQuotedIdent = regexp.MustCompile(`"[^"]*"`)
	rePlaceholder = regexp.MustCompile(`[?$]([0-9]+)`)
	reWord        = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*|[0-9]+`)
	reAlias       = regexp.MustCompile(`^(t|[jl][0-9]+)$`)
)

// checkSQL asserts that sql was built only from fixed text, schema names and
// placeholders: no text of the request can have reached it.
func checkSQL(t *testing.T, input, sql string, nargs int) {
	sqlOnce.Do(vocabulary)
	names := map[string]bool{"tenant_id": true}
	for _, e := range schema.Default.Entities {
		names[e.Table] = true
		for _, f := range e.Fields {
			names[f.Name] = true
		}
	}
	rest := reQuotedIdent.ReplaceAllStringFunc(sql, func(q string) string {
		if !names[q[1:len(q)-1]] {
			t.Fatalf("%q: unknown identifier %s in %s", input, q, sql)
		}
		return " "
	})
	for _, c := range sqlConst {
		rest = strings.ReplaceAll(rest, c, " ")
	}
	if strings.ContainsAny(rest, "'\";\\") || strings.Contains(rest, "--") || strings.Contains(rest, "/*") {
		t.Fatalf("%q: quote, comment or separator left in %s", input, sql)
	}
	used := map[int]bool{}
	for _, m := range rePlaceholder.FindAllStringSubmatch(rest, -1) {
		n, _ := strconv.Atoi(m[1])
		if n < 1 || n > nargs {
			t.Fatalf("%q: placeholder %s out of 1..%d in %s", input, m[0], nargs, sql)
		}
		used[n] = true
	}
	if len(used) != nargs {
		t.Fatalf("%q: %d arguments but %d distinct placeholders in %s", input, nargs, len(used), sql)
	}
	rest = rePlaceholder.ReplaceAllString(rest, " ")
	for _, w := range reWord.FindAllString(rest, -1) {
		if !sqlWords[w] && !reAlias.MatchString(w) {
			t.Fatalf("%q: unexpected word %q in %s", input, w, sql)
		}
	}
}

var (
	prepOnce sync.Once
	prepDB   *sql.DB
	prepErr  error
)

// prepareDB is an in-memory SQLite database with every table, to check
// that the generated SQL compiles.
func prepareDB() (*sql.DB, error) {
	prepOnce.Do(func() {
		prepDB, prepErr = sql.Open("sqlite", "file:fuzz?mode=memory&cache=shared")
		if prepErr != nil {
			return
		}
		prepDB.SetMaxOpenConns(1)
		d := sqldialect.SQLite{}
		for _, e := range schema.Default.Entities {
			cols := []string{`"tenant_id" INTEGER NOT NULL`}
			for _, f := range e.Fields {
				cols = append(cols, sqldialect.Quote(f.Name)+" "+d.ColumnType(f)+" NOT NULL DEFAULT "+d.Literal(f.Kind, f.Zero()))
			}
			if _, prepErr = prepDB.Exec(`CREATE TABLE ` + sqldialect.Quote(e.Table) + ` (` + strings.Join(cols, ", ") + `)`); prepErr != nil {
				return
			}
		}
	})
	return prepDB, prepErr
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	jobs := schema.Default.MustEntity("jobs")
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(jobs, url.Values{"$filter": {s}, "$orderby": {"project/name desc,name"}}, Limits{})
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("%q: error %v is not an *Error", s, err)
			}
			if oe.Option != "$filter" || oe.Pos < 0 || oe.Pos > len(s) || oe.Msg == "" {
				t.Fatalf("%q: bad error %#v", s, oe)
			}
			return
		}
		for _, d := range []sqldialect.Dialect{sqldialect.SQLite{}, sqldialect.Postgres{}} {
			args := &sqldialect.Args{D: d}
			out, err := Translator{Alias: "t", Args: args, Now: func() time.Time { return fixedNow }}.Translate(q.Filter, q.OrderBy)
			if err != nil {
				t.Fatalf("%q: %v", s, err)
			}
			full := out.Joins + " WHERE " + out.Where + " ORDER BY " + out.OrderBy
			checkSQL(t, s, full, len(args.List))
			if d.Name() == "sqlite" {
				db, err := prepareDB()
				if err != nil {
					t.Fatal(err)
				}
				stmt, err := db.Prepare(`SELECT 1 FROM "jobs" t` + full)
				if err != nil {
					t.Fatalf("%q: SQLite rejects %s: %v", s, full, err)
				}
				stmt.Close()
			}
		}
		// The tree written back as OData parses to the same tree.
		text := odataText(q.Filter.Expr)
		again, err := ParseFilter(text, Limits{MaxOptionLength: 1 << 20, MaxDepth: 1 << 10})
		if err != nil {
			t.Fatalf("%q: its text %s does not parse: %v", s, text, err)
		}
		if again.String() != q.Filter.Expr.String() {
			t.Fatalf("%q: tree %s parses back from %s as %s", s, q.Filter.Expr, text, again)
		}
	})
}

// odataText writes a syntax tree back as fully parenthesised OData.
func odataText(x Expr) string {
	switch x := x.(type) {
	case *Binary:
		return "(" + odataText(x.L) + " " + x.Op + " " + odataText(x.R) + ")"
	case *Unary:
		return "(" + x.Op + " " + odataText(x.X) + ")"
	case *Call:
		args := make([]string, len(x.Args))
		for i, a := range x.Args {
			args[i] = odataText(a)
		}
		return x.Name + "(" + strings.Join(args, ", ") + ")"
	case *In:
		items := make([]string, len(x.List))
		for i, a := range x.List {
			items[i] = a.String()
		}
		return "(" + odataText(x.X) + " in (" + strings.Join(items, ", ") + "))"
	case *Lambda:
		if x.Body == nil {
			return x.Collection.String() + "/" + x.Op + "()"
		}
		return x.Collection.String() + "/" + x.Op + "(" + x.Var + ": " + odataText(x.Body) + ")"
	}
	return x.String() // literals and paths are already OData
}
