package sqldialect

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsStorageFull: SQLITE_FULL ("database or disk is full"), whatever the
// extended code.
func (SQLite) IsStorageFull(err error) bool { return sqliteCode(err)&0xff == sqlite3.SQLITE_FULL }

// IsReadOnly: SQLITE_READONLY and its extended codes (a read-only file or
// directory, a database moved or replaced under the process, ...).
func (SQLite) IsReadOnly(err error) bool { return sqliteCode(err)&0xff == sqlite3.SQLITE_READONLY }

// IsStorageFull: class 53 disk_full (53100); out of memory and too many
// connections (53200, 53300) are not a full disk and stay internal.
func (Postgres) IsStorageFull(err error) bool { return pgCode(err) == "53100" }

// IsReadOnly: read_only_sql_transaction (25006), what a hot standby or a
// database set to default_transaction_read_only answers to a write.
func (Postgres) IsReadOnly(err error) bool { return pgCode(err) == "25006" }

// DriverMessage is the database's own message of a driver error, without the
// driver's prefixes ("" when err does not come from a database): the cause a
// client is told when the database cannot evaluate its request.
func DriverMessage(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return sqlite.ErrorCodeString[se.Code()]
	}
	return ""
}
