// Package testenv runs test suites against real databases: a SQLite file in
// a temporary directory always, and PostgreSQL when ORDO_TEST_POSTGRES_URL is
// set (each test in a schema of its own, dropped at the end).
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/ordo-fsm/ordo/auth"
	"golang.org/x/crypto/bcrypt"
)

// PostgresEnv names the variable that points tests at a PostgreSQL server.
const PostgresEnv = "ORDO_TEST_POSTGRES_URL"

func init() {
	// Tests create many users; the production cost would only slow them down.
	auth.Cost = bcrypt.MinCost
}

// Each runs fn as a subtest per available database, with a fresh, empty
// database (a DSN for sqlstore.Open) for each.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { report(t, "sqlite"); fn(t, SQLite(t)) })
	if os.Getenv(PostgresEnv) == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL suite", PostgresEnv)
		}
		return
	}
	t.Run("postgres", func(t *testing.T) { report(t, "postgres"); fn(t, Postgres(t)) })
}

// ReportEnv names a file to which every database subtest appends its
// database, name and outcome, so CI can show what ran where.
const ReportEnv = "ORDO_TEST_REPORT"

func report(t *testing.T, db string) {
	path := os.Getenv(ReportEnv)
	if path == "" {
		return
	}
	t.Cleanup(func() {
		outcome := "pass"
		if t.Failed() {
			outcome = "fail"
		} else if t.Skipped() {
			outcome = "skip"
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return
		}
		defer f.Close()
		f.WriteString(db + " " + outcome + " " + t.Name() + "\n")
	})
}

// SQLite returns the path of a new database file.
func SQLite(t testing.TB) string {
	return filepath.Join(t.TempDir(), "ordo.db")
}

// Postgres returns a URL whose search_path is a new schema, dropped when the
// test ends. It skips the test when no server is configured.
func Postgres(t testing.TB) string {
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("%s not set", PostgresEnv)
	}
	var b [6]byte
	rand.Read(b[:])
	schemaName := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schemaName); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schemaName+" CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schemaName)
	u.RawQuery = q.Encode()
	return u.String()
}

// RawDB opens a plain database/sql handle on dsn, for tests that must reach
// under the storage layer (dumps, simulated old schemas, bulk loads). It is
// closed when the test ends.
func RawDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	driver, conn := "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)"
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		driver, conn = "pgx", dsn
	}
	db, err := sql.Open(driver, conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
