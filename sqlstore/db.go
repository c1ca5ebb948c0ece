// Package sqlstore implements ordo.Store on SQLite (embedded, the default)
// and PostgreSQL, with one body of SQL and a dialect seam for the differences.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options tune a DB.
type Options struct {
	// MaxConns bounds the PostgreSQL pool and the SQLite reader pool.
	MaxConns int
	// Registry is the entity registry; schema.Default when nil.
	Registry *schema.Registry
	Logger   *slog.Logger
	// BeforeCommit, when set, runs before each write transaction commits
	// (after its change-log entries are written): tests use it to hold
	// some transactions open so that commits land out of start order.
	BeforeCommit func(ctx context.Context, tenantID int64)
	// NoChangeLog stops writing the change log. Only benchmarks set it, to
	// measure what the log costs: without it delta links and webhooks miss
	// every change.
	NoChangeLog bool
}

// DB is an open database. It is safe for concurrent use.
type DB struct {
	dialect  sqldialect.Dialect
	registry *schema.Registry
	// writer and reader are one pool on PostgreSQL. On SQLite the writer has a
	// single connection with immediate transactions, so writers queue in Go
	// instead of failing with SQLITE_BUSY, while readers use WAL snapshots.
	writer, reader *sql.DB
	log            *slog.Logger
	stmts          map[*sql.DB]*stmtCache
	statements     atomic.Int64 // statements run by transactions, for tests and benchmarks
	trace          atomic.Pointer[func(query string, args []any)]
	listOwners     map[*schema.Entity][]listOwner
	beforeCommit   func(ctx context.Context, tenantID int64)
	noChangeLog    bool
	health         writeHealth // full disk / read-only episodes (health.go)
	inserts        sync.Map    // *schema.Entity → its INSERT statement (Tx.insertSQL)
	dsn            string      // PostgreSQL: for the credential listener's own connection
	credWatch      credentialWatch
}

// TraceStatements calls fn with the text and arguments of every statement
// transactions run from now on (nil stops): for tests that explain a
// statement budget or read the plans of a request's statements.
func (db *DB) TraceStatements(fn func(query string, args []any)) {
	if fn == nil {
		db.trace.Store(nil)
		return
	}
	db.trace.Store(&fn)
}

func (db *DB) counted(query string, args []any) {
	db.statements.Add(1)
	if fn := db.trace.Load(); fn != nil {
		(*fn)(query, args)
	}
}

// Statements counts the statements transactions have run since Open: tests
// use it to hold request paths to a budget (no query per row).
func (db *DB) Statements() int64 { return db.statements.Load() }

// IsPostgres reports whether a --db value selects PostgreSQL.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens (creating if needed) the database named by dsn: a postgres:// URL
// or a SQLite file path. It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	if opt.Registry == nil {
		opt.Registry = schema.Default
	}
	if opt.MaxConns <= 0 {
		opt.MaxConns = 8
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	db := &DB{registry: opt.Registry, log: opt.Logger, stmts: map[*sql.DB]*stmtCache{},
		listOwners: listOwners(opt.Registry), beforeCommit: opt.BeforeCommit, noChangeLog: opt.NoChangeLog}
	if IsPostgres(dsn) {
		db.dialect = sqldialect.Postgres{}
		pool, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, err
		}
		pool.SetMaxOpenConns(opt.MaxConns)
		pool.SetMaxIdleConns(opt.MaxConns)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		db.writer, db.reader = pool, pool
		db.dsn = dsn
	} else {
		db.dialect = sqldialect.SQLite{}
		path := strings.TrimPrefix(dsn, "sqlite://")
		// A page cache of 32 MiB per connection keeps a
		// tenant's indexes in memory at a million jobs (SQLite's default cache
		// is 2 MiB), so a read by key costs the same at 10k rows and at 1M.
		pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(OFF)" +
			"&_pragma=cache_size(-32768)"
		base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
		// No mmap: a connection that maps the file unmaps it whenever it
		// starts a read after another connection's commit (SQLite's pager
		// resets its mapping then), which made every request following a
		// write pay a munmap of the whole mapping.
		w, err := sql.Open("sqlite", base+"&_txlock=immediate")
		if err != nil {
			return nil, err
		}
		w.SetMaxOpenConns(1)
		r, err := sql.Open("sqlite", base)
		if err != nil {
			w.Close()
			return nil, err
		}
		r.SetMaxOpenConns(opt.MaxConns)
		r.SetMaxIdleConns(opt.MaxConns)
		db.writer, db.reader = w, r
	}
	if db.dialect.Name() == "sqlite" { // pgx keeps its own per-connection statement cache
		db.stmts[db.writer] = newStmtCache(db.writer)
		db.stmts[db.reader] = newStmtCache(db.reader)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Switching a new SQLite file to WAL takes a lock that another process
	// opening it at the same moment may hold; that wait is not covered by
	// busy_timeout, so it is retried here.
	var err error
	for attempt := 0; attempt < 100; attempt++ {
		if err = db.writer.PingContext(pingCtx); err == nil || !db.dialect.IsRetryable(err) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// Close closes the pools; in-flight transactions finish first.
func (db *DB) Close() error {
	db.stopCredentialWatch()
	for _, c := range db.stmts {
		c.close()
	}
	err := db.writer.Close()
	if db.reader != db.writer {
		if e := db.reader.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Dialect is the database's dialect.
func (db *DB) Dialect() sqldialect.Dialect { return db.dialect }

// Registry is the entity registry the database was opened with.
func (db *DB) Registry() *schema.Registry { return db.registry }

// Ping checks that the database answers (readiness).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.writer.PingContext(ctx); err != nil {
		return db.mapError(err)
	}
	return nil
}

// maxRetries bounds how often a transaction is replayed after a serialization
// failure or deadlock before the request is answered 409.
const maxRetries = 5

// maxUniqueRetries bounds replays after a unique violation on PostgreSQL: two
// requests inserting the same new ERP key at once collide on the unique
// index, and the replay finds the row the other committed and updates it.
// A genuine duplicate fails the same way again and is answered 409.
const maxUniqueRetries = 2

// Write implements ordo.Store.
func (db *DB) Write(ctx context.Context, tenantID int64, fn func(ordo.Tx) error) error {
	return db.run(ctx, db.writer, false, tenantID, fn)
}

// Read implements ordo.Store.
func (db *DB) Read(ctx context.Context, tenantID int64, fn func(ordo.Tx) error) error {
	return db.run(ctx, db.reader, true, tenantID, fn)
}

func (db *DB) run(ctx context.Context, pool *sql.DB, readOnly bool, tenantID int64, fn func(ordo.Tx) error) error {
	if tenantID <= 0 {
		return errors.New("sqlstore: transaction without a tenant")
	}
	if tx := db.joined(ctx); tx != nil { // ordo.WithTx: join the caller's transaction
		return tx.nested(ctx, tenantID, fn)
	}
	return db.retrying(ctx, readOnly, func() error { return db.runOnce(ctx, pool, readOnly, tenantID, fn) })
}

// retrying runs attempt (one transaction, or one statement) again while it
// fails with a deadlock or a serialization failure (on PostgreSQL also a
// unique violation between concurrent inserts), and maps its error.
func (db *DB) retrying(ctx context.Context, readOnly bool, attempt func() error) error {
	var err error
	for n := 0; ; n++ {
		err = attempt()
		if err == nil || ctx.Err() != nil {
			break
		}
		retry := (db.dialect.IsRetryable(err) && n < maxRetries) ||
			(db.dialect.Name() == "postgres" && db.dialect.IsUniqueViolation(err) && n < maxUniqueRetries)
		if !retry {
			break
		}
		time.Sleep(time.Duration(n+1)*5*time.Millisecond + time.Duration(rand.IntN(5000))*time.Microsecond)
	}
	if err != nil && db.dialect.IsRetryable(err) {
		return ordo.Errorf(ordo.EConflict, "the request conflicted with concurrent updates; retry it")
	}
	if err == nil && !readOnly {
		db.health.succeeded(db.log)
	}
	return db.mapError(err)
}

func (db *DB) runOnce(ctx context.Context, pool *sql.DB, readOnly bool, tenantID int64, fn func(ordo.Tx) error) error {
	if readOnly && db.dialect.Name() == "postgres" {
		// At READ COMMITTED every statement sees its own snapshot, inside a
		// transaction or not, so a read needs no BEGIN and ROLLBACK: two
		// round trips saved on every GET. The connection is pinned so the
		// read's statements run one after another on one session.
		conn, err := pool.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return fn(&Tx{db: db, q: conn, tenant: tenantID})
	}
	sqlTx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &Tx{db: db, q: sqlTx, tx: sqlTx, tenant: tenantID, stmts: db.stmts[pool]}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if readOnly {
		return sqlTx.Rollback()
	}
	if err := tx.flushChanges(ctx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if db.beforeCommit != nil {
		db.beforeCommit(ctx, tenantID)
	}
	return sqlTx.Commit()
}

// mapError turns driver errors into client-safe ordo errors where they have a
// meaning for the client; other errors pass through and become 500s.
func (db *DB) mapError(err error) error {
	if err == nil {
		return nil
	}
	var oe *ordo.Error
	if errors.As(err, &oe) {
		return err
	}
	switch {
	case db.dialect.IsUniqueViolation(err):
		cols := db.dialect.UniqueColumns(err)
		if cols == "" {
			cols = "key"
		}
		return ordo.Errorf(ordo.EConflict, "a row with the same %s already exists", cols)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case db.dialect.IsDataError(err):
		return ordo.Errorf(ordo.EInvalid, "the database cannot compute the request's values: %s", sqldialect.DriverMessage(err))
	case db.dialect.IsStorageFull(err) || db.dialect.IsReadOnly(err):
		return db.storageError(err)
	case db.dialect.IsUnavailable(err):
		return ordo.Errorf(ordo.EUnavailable, "the database is unavailable; retry shortly")
	}
	return err
}
