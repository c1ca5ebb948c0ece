package sqldialect_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/ordo-fsm/ordo/sqldialect"
	_ "modernc.org/sqlite"
)

// TestSQLiteStorageClassification: the errors SQLite gives for a database
// that refuses writes and for one that ran out of pages are classified as
// read-only and full, and nothing else is.
func TestSQLiteStorageClassification(t *testing.T) {
	ctx := context.Background()
	open := func(pragma string) *sql.DB {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "x.db")+"?_pragma="+pragma)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { db.Close() })
		return db
	}
	d := sqldialect.SQLite{}

	full := open("max_page_count(3)")
	if _, err := full.ExecContext(ctx, "CREATE TABLE t (s TEXT)"); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = full.ExecContext(ctx, "INSERT INTO t VALUES (printf('%.4000c', 'x'))")
	}
	if !d.IsStorageFull(err) || d.IsReadOnly(err) || d.IsUnavailable(err) {
		t.Fatalf("out of pages: %v: full %v read-only %v", err, d.IsStorageFull(err), d.IsReadOnly(err))
	}

	ro := open("query_only(1)")
	_, err = ro.ExecContext(ctx, "CREATE TABLE t (s TEXT)")
	if !d.IsReadOnly(err) || d.IsStorageFull(err) {
		t.Fatalf("query_only: %v: full %v read-only %v", err, d.IsStorageFull(err), d.IsReadOnly(err))
	}
	if msg := sqldialect.DriverMessage(err); msg == "" {
		t.Fatalf("no driver message for %v", err)
	}
}
