package sqlstore

import "database/sql"

// WriterPool exposes the write pool to this package's external tests.
func (db *DB) WriterPool() *sql.DB { return db.writer }
