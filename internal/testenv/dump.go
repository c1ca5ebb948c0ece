package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/sqlstore"
)

// Dump renders the content of every table of the database at dsn as text,
// rows sorted, so two dumps are equal exactly when the content is.
func Dump(t testing.TB, dsn string) string {
	t.Helper()
	ctx := context.Background()
	db := RawDB(t, dsn)
	driver := "sqlite"
	if sqlstore.IsPostgres(dsn) {
		driver = "pgx"
	}
	listTables := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if driver == "pgx" {
		listTables = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
	}
	tables, err := column(ctx, db, listTables)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				fmt.Fprintf(&b, "%s=%v|", cols[i], v)
			}
			lines = append(lines, b.String())
		}
		rows.Close()
		sort.Strings(lines)
		fmt.Fprintf(&out, "## %s (%d rows)\n%s\n", table, len(lines), strings.Join(lines, "\n"))
	}
	return out.String()
}

func column(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
