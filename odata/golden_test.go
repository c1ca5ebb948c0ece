package odata

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites the file with -update.
// The files are reviewed like code: a diff in them is a change of behaviour.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
		for i := 0; i < len(wl) || i < len(gl); i++ {
			var w, g string
			if i < len(wl) {
				w = wl[i]
			}
			if i < len(gl) {
				g = gl[i]
			}
			if w != g {
				t.Fatalf("%s differs at line %d:\nwant: %s\ngot:  %s\n(run go test -update and review the diff)", path, i+1, w, g)
			}
		}
	}
}

// entityOf splits an optional "entity: " prefix off a test input; the
// default entity is jobs.
func entityOf(t *testing.T, in string) (*schema.Entity, string) {
	name, rest, ok := strings.Cut(in, ": ")
	if ok && !strings.ContainsAny(name, " ('/") {
		if e, found := schema.Default.Entity(name); found {
			return e, rest
		}
	}
	return schema.Default.MustEntity("jobs"), in
}

var fixedNow = time.Date(2026, 2, 3, 4, 5, 6, 123456789, time.UTC)

// formatArgs renders bind arguments unambiguously.
func formatArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			parts[i] = fmt.Sprintf("%q", v)
		case time.Time:
			parts[i] = "time(" + v.Format(time.RFC3339Nano) + ")"
		case float64:
			parts[i] = fmt.Sprintf("float(%v)", v)
		default:
			parts[i] = fmt.Sprintf("%T(%v)", v, v)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// translate renders a query's SQL for d with a fixed clock, as one line.
func translate(t *testing.T, q *Query, d sqldialect.Dialect) (string, []any) {
	t.Helper()
	args := &sqldialect.Args{D: d}
	s, err := Translator{Alias: "t", Args: args, Now: func() time.Time { return fixedNow }}.Translate(q.Filter, q.OrderBy)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("FROM t" + s.Joins)
	if s.Where != "" {
		b.WriteString(" WHERE " + s.Where)
	}
	if s.OrderBy != "" {
		b.WriteString(" ORDER BY " + s.OrderBy)
	}
	return b.String(), args.List
}

func schema_jobs() *schema.Entity { return schema.Default.MustEntity("jobs") }
