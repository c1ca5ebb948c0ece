package sqlstore

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ordo-fsm/ordo"
)

// storageRetryAfter is what a client refused for a full or read-only
// database is told to wait: freeing disk space takes an operator.
const storageRetryAfter = 30 * time.Second

// storageLogEvery bounds the ERROR lines a full or read-only database writes:
// one line per interval, with the count of failures it stands for.
const storageLogEvery = 10 * time.Second

// writeHealth remembers whether the last write failed because the database
// could not store it (disk full, read-only). It is what /readyz reports as
// "not ready for writes" until a write succeeds again.
type writeHealth struct {
	mu         sync.Mutex
	failing    ordo.Code // "" when writes work
	since      time.Time // first failure of the current episode
	cause      string
	lastLog    time.Time
	suppressed int // failures not logged since lastLog
}

// storageError turns a full-disk or read-only error into the client's 503
// and records it; other errors give nil.
func (db *DB) storageError(err error) *ordo.Error {
	var oe *ordo.Error
	switch {
	case db.dialect.IsStorageFull(err):
		oe = ordo.Errorf(ordo.EStorageFull, "the database's disk is full: writes are refused until space is freed; reads still work")
	case db.dialect.IsReadOnly(err):
		oe = ordo.Errorf(ordo.EReadOnly, "the database is read-only: writes are refused until it accepts them again; reads still work")
	default:
		return nil
	}
	oe.RetryAfter = storageRetryAfter
	db.health.failed(db.log, oe.Code, err)
	return oe
}

func (h *writeHealth) failed(log *slog.Logger, code ordo.Code, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if h.failing == "" {
		h.since = now
	}
	h.failing, h.cause = code, err.Error()
	if now.Sub(h.lastLog) < storageLogEvery {
		h.suppressed++
		return
	}
	log.LogAttrs(context.Background(), slog.LevelError, "database refuses writes",
		slog.String("code", string(code)), slog.String("err", h.cause),
		slog.Time("since", h.since), slog.Int("failures_not_logged", h.suppressed))
	h.lastLog, h.suppressed = now, 0
}

// succeeded ends a failure episode: a write committed.
func (h *writeHealth) succeeded(log *slog.Logger) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failing == "" {
		return
	}
	log.LogAttrs(context.Background(), slog.LevelWarn, "database accepts writes again",
		slog.String("after", string(h.failing)), slog.Duration("down_for", time.Since(h.since)),
		slog.Int("failures_not_logged", h.suppressed))
	h.failing, h.cause, h.suppressed, h.lastLog = "", "", 0, time.Time{}
}

func (h *writeHealth) state() (ordo.Code, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failing, h.since
}

// WriteReadiness reports whether writes work: nil when the last write
// committed, else the StorageFull/StorageReadOnly error of the last failure.
// While failing, each call probes with a real write (a counter row of its
// own, committed), so readiness recovers as soon as space is freed, without
// waiting for a client to retry and without a restart.
func (db *DB) WriteReadiness(ctx context.Context) error {
	code, _ := db.health.state()
	if code == "" {
		return nil
	}
	err := db.probeWrite(ctx)
	if err == nil {
		db.health.succeeded(db.log)
		return nil
	}
	return db.mapError(err)
}

// probeWrite commits one small change. The probe row lives in a table of its
// own, created on first use (not a migration: an older node ignores it).
func (db *DB) probeWrite(ctx context.Context) error {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS ordo_write_probe (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ordo_write_probe (id, n) VALUES (1, 1)
		ON CONFLICT (id) DO UPDATE SET n = ordo_write_probe.n + 1`); err != nil {
		return err
	}
	return tx.Commit()
}
