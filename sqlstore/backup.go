package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// BackupTo writes a consistent copy of a SQLite database to path with
// VACUUM INTO, which reads one snapshot: writers go on meanwhile (WAL), and
// the copy holds every transaction committed before it started. PostgreSQL
// databases are copied with pg_dump instead.
func (db *DB) BackupTo(ctx context.Context, path string) error {
	if db.dialect.Name() != "sqlite" {
		return fmt.Errorf("backup copies SQLite databases; for PostgreSQL use pg_dump (see docs/operations.md)")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s already exists; backup does not overwrite", path)
	}
	if _, err := db.reader.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

// Pools names the connection pools, for metrics: on SQLite "writer" (one
// connection: its wait time is the writer queue) and "reader"; on
// PostgreSQL one "pool".
func (db *DB) Pools() map[string]*sql.DB {
	if db.reader == db.writer {
		return map[string]*sql.DB{"pool": db.writer}
	}
	return map[string]*sql.DB{"writer": db.writer, "reader": db.reader}
}
