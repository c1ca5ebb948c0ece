package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/ordo-fsm/ordo"
)

// idempotencyKeys is migration 3: the responses of requests sent with an
// Idempotency-Key, one row per tenant and key, written in the transaction of
// the request's own writes.
func idempotencyKeys(ctx context.Context, db *DB, tx *sql.Tx) error {
	body := "BLOB"
	if db.dialect.Name() == "postgres" {
		body = "BYTEA"
	}
	return execAll(ctx, tx, `CREATE TABLE IF NOT EXISTS ordo_idempotency (
		tenant_id BIGINT NOT NULL,
		idem_key VARCHAR(255) NOT NULL,
		username VARCHAR(255) NOT NULL,
		fingerprint VARCHAR(64) NOT NULL,
		status INTEGER NOT NULL,
		headers TEXT NOT NULL,
		body `+body+` NOT NULL,
		created_at BIGINT NOT NULL,
		PRIMARY KEY (tenant_id, idem_key))`,
		`CREATE INDEX IF NOT EXISTS ordo_idempotency_created ON ordo_idempotency (created_at)`)
}

var _ ordo.IdempotencyTx = (*Tx)(nil)

// LockIdempotencyKey implements ordo.IdempotencyTx. On PostgreSQL it takes a
// transaction-scoped advisory lock on a hash of tenant and key without
// waiting, so a second node sending the same key while the first request is
// still running learns it at once; a hash collision only costs a spurious
// 409. On SQLite write transactions are serial: the key is always free.
func (tx *Tx) LockIdempotencyKey(ctx context.Context, key string) (bool, error) {
	if tx.db.dialect.Name() != "postgres" {
		return true, nil
	}
	h := fnv.New64a()
	h.Write([]byte("ordo-idempotency\x00" + strconv.FormatInt(tx.tenant, 10) + "\x00" + key))
	var ok bool
	err := tx.queryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", int64(h.Sum64())).Scan(&ok)
	return ok, err
}

// IdempotentResponse implements ordo.IdempotencyTx.
func (tx *Tx) IdempotentResponse(ctx context.Context, key string) (*ordo.StoredResponse, error) {
	p := tx.db.dialect.Placeholder
	r := &ordo.StoredResponse{Key: key}
	var headers string
	var created int64
	err := tx.queryRow(ctx, `SELECT username, fingerprint, status, headers, body, created_at FROM ordo_idempotency
		WHERE tenant_id = `+p(1)+` AND idem_key = `+p(2), tx.tenant, key).
		Scan(&r.User, &r.Fingerprint, &r.Status, &headers, &r.Body, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.Created = time.Unix(created, 0).UTC()
	if err := json.Unmarshal([]byte(headers), &r.Header); err != nil {
		return nil, err
	}
	return r, nil
}

// SaveIdempotentResponse implements ordo.IdempotencyTx.
func (tx *Tx) SaveIdempotentResponse(ctx context.Context, r *ordo.StoredResponse) error {
	headers, err := json.Marshal(r.Header)
	if err != nil {
		return err
	}
	if r.Header == nil {
		headers = []byte("{}")
	}
	body := r.Body
	if body == nil {
		body = []byte{}
	}
	p := tx.db.dialect.Placeholder
	_, err = tx.exec(ctx, `INSERT INTO ordo_idempotency (tenant_id, idem_key, username, fingerprint, status, headers, body, created_at)
		VALUES (`+p(1)+`, `+p(2)+`, `+p(3)+`, `+p(4)+`, `+p(5)+`, `+p(6)+`, `+p(7)+`, `+p(8)+`)
		ON CONFLICT (tenant_id, idem_key) DO UPDATE SET username = excluded.username, fingerprint = excluded.fingerprint,
			status = excluded.status, headers = excluded.headers, body = excluded.body, created_at = excluded.created_at`,
		tx.tenant, r.Key, r.User, r.Fingerprint, r.Status, string(headers), body, r.Created.Unix())
	return err
}

// PruneIdempotencyKeys deletes the keys of every tenant stored before
// cutoff and returns how many went.
func (db *DB) PruneIdempotencyKeys(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := db.writer.ExecContext(ctx, "DELETE FROM ordo_idempotency WHERE created_at < "+db.dialect.Placeholder(1), cutoff.Unix())
	if err != nil {
		return 0, db.mapError(err)
	}
	return res.RowsAffected()
}

// PruneIdempotencyKeysEvery prunes keys older than ttl every interval until
// ctx ends (ordo serve runs it in the background).
func (db *DB) PruneIdempotencyKeysEvery(ctx context.Context, ttl, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := db.PruneIdempotencyKeys(ctx, time.Now().Add(-ttl)); err != nil && ctx.Err() == nil {
			db.log.Warn("pruning idempotency keys failed", "err", err)
		} else if n > 0 {
			db.log.Info("idempotency keys pruned", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
