package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo"
)

// Webhook subscriptions and their delivery attempts are the store's own
// tables, not registry entities: their rows are not change-logged and their
// secret never leaves the server. Every query names its tenant.

// webhookTables is migration 4.
func webhookTables(ctx context.Context, db *DB, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`CREATE TABLE IF NOT EXISTS ordo_webhook_subscription (
			tenant_id BIGINT NOT NULL,
			id VARCHAR(36) NOT NULL,
			url VARCHAR(2000) NOT NULL,
			secret VARCHAR(500) NOT NULL,
			entities VARCHAR(2000) NOT NULL,
			active INTEGER NOT NULL,
			disabled_reason VARCHAR(1000) NOT NULL DEFAULT '',
			created_at BIGINT NOT NULL,
			modified_at BIGINT NOT NULL,
			cursor_position BIGINT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			failing_since BIGINT NOT NULL DEFAULT 0,
			next_attempt_at BIGINT NOT NULL DEFAULT 0,
			lease_until BIGINT NOT NULL DEFAULT 0,
			lease_owner VARCHAR(64) NOT NULL DEFAULT '',
			PRIMARY KEY (tenant_id, id))`,
		`CREATE INDEX IF NOT EXISTS ix_ordo_webhook_subscription_due ON ordo_webhook_subscription (active, next_attempt_at)`,
		`CREATE TABLE IF NOT EXISTS ordo_webhook_delivery (
			tenant_id BIGINT NOT NULL,
			id VARCHAR(36) NOT NULL,
			webhook_id VARCHAR(36) NOT NULL,
			subscription_id VARCHAR(36) NOT NULL,
			attempted_at BIGINT NOT NULL,
			first_position BIGINT NOT NULL,
			last_position BIGINT NOT NULL,
			events INTEGER NOT NULL,
			status_code INTEGER NOT NULL,
			error VARCHAR(1000) NOT NULL,
			duration_us BIGINT NOT NULL,
			PRIMARY KEY (tenant_id, id))`,
		`CREATE INDEX IF NOT EXISTS ix_ordo_webhook_delivery_time ON ordo_webhook_delivery (tenant_id, attempted_at)`)
}

const subscriptionColumns = `tenant_id, id, url, secret, entities, active, disabled_reason, created_at, modified_at,
	cursor_position, attempts, failing_since, next_attempt_at`

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func scanSubscriptions(rows *sql.Rows) ([]ordo.WebhookSubscription, error) {
	defer rows.Close()
	var out []ordo.WebhookSubscription
	for rows.Next() {
		var s ordo.WebhookSubscription
		var entities string
		var active int
		var created, modified, failing, next int64
		if err := rows.Scan(&s.TenantID, &s.ID, &s.URL, &s.Secret, &entities, &active, &s.DisabledReason, &created, &modified,
			&s.Cursor, &s.Attempts, &failing, &next); err != nil {
			return nil, err
		}
		if entities != "" {
			s.Entities = strings.Split(entities, ",")
		}
		s.Active = active != 0
		s.Created, s.Modified, s.FailingSince, s.NextAttempt = fromMicros(created), fromMicros(modified), fromMicros(failing), fromMicros(next)
		out = append(out, s)
	}
	return out, rows.Err()
}

// SaveWebhookSubscription inserts s, or updates the row with its tenant and
// id: url, secret, entities, active and disabled_reason, and, when
// resetFailures (a re-activation), the failure state. The delivery cursor
// belongs to the worker and is never changed here.
func (db *DB) SaveWebhookSubscription(ctx context.Context, s ordo.WebhookSubscription, insert, resetFailures bool) error {
	p := db.dialect.Placeholder
	var err error
	if insert {
		_, err = db.writer.ExecContext(ctx, `INSERT INTO ordo_webhook_subscription (`+subscriptionColumns+`)
			VALUES (`+p(1)+`, `+p(2)+`, `+p(3)+`, `+p(4)+`, `+p(5)+`, `+p(6)+`, `+p(7)+`, `+p(8)+`, `+p(9)+`, `+p(10)+`, `+p(11)+`, `+p(12)+`, `+p(13)+`)`,
			s.TenantID, s.ID, s.URL, s.Secret, strings.Join(s.Entities, ","), boolInt(s.Active), s.DisabledReason,
			micros(s.Created), micros(s.Modified), s.Cursor, s.Attempts, micros(s.FailingSince), micros(s.NextAttempt))
		return db.mapError(err)
	}
	reset := ""
	if resetFailures {
		reset = ", attempts = 0, failing_since = 0, next_attempt_at = 0"
	}
	res, err := db.writer.ExecContext(ctx, `UPDATE ordo_webhook_subscription SET url = `+p(3)+`, secret = `+p(4)+`, entities = `+p(5)+`,
		active = `+p(6)+`, disabled_reason = `+p(7)+`, modified_at = `+p(8)+reset+`
		WHERE tenant_id = `+p(1)+` AND id = `+p(2),
		s.TenantID, s.ID, s.URL, s.Secret, strings.Join(s.Entities, ","), boolInt(s.Active), s.DisabledReason, micros(s.Modified))
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			return ordo.Errorf(ordo.ENotFound, "WebhookSubscriptions %s not found", s.ID)
		}
	}
	return db.mapError(err)
}

// WebhookSubscriptions lists a tenant's subscriptions (one when id is set).
func (db *DB) WebhookSubscriptions(ctx context.Context, tenant int64, id string) ([]ordo.WebhookSubscription, error) {
	p := db.dialect.Placeholder
	s := `SELECT ` + subscriptionColumns + ` FROM ordo_webhook_subscription WHERE tenant_id = ` + p(1)
	args := []any{tenant}
	if id != "" {
		s += ` AND id = ` + p(2)
		args = append(args, id)
	}
	rows, err := db.reader.QueryContext(ctx, s+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, db.mapError(err)
	}
	subs, err := scanSubscriptions(rows)
	return subs, db.mapError(err)
}

// DeleteWebhookSubscription removes a subscription and its delivery log.
func (db *DB) DeleteWebhookSubscription(ctx context.Context, tenant int64, id string) error {
	return db.mapError(db.runRaw(ctx, func(tx *sql.Tx) error {
		p := db.dialect.Placeholder
		res, err := tx.ExecContext(ctx, `DELETE FROM ordo_webhook_subscription WHERE tenant_id = `+p(1)+` AND id = `+p(2), tenant, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ordo.Errorf(ordo.ENotFound, "WebhookSubscriptions %s not found", id)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM ordo_webhook_delivery WHERE tenant_id = `+p(1)+` AND subscription_id = `+p(2), tenant, id)
		return err
	}))
}

// DueWebhookSubscriptions lists the active subscriptions of every tenant
// whose next try is due, whose lease has expired and that are behind head.
func (db *DB) DueWebhookSubscriptions(ctx context.Context, now time.Time, head int64, limit int) ([]ordo.WebhookSubscription, error) {
	p := db.dialect.Placeholder
	rows, err := db.reader.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM ordo_webhook_subscription
		WHERE active = 1 AND next_attempt_at <= `+p(1)+` AND lease_until < `+p(1)+` AND cursor_position < `+p(2)+`
		ORDER BY next_attempt_at LIMIT `+p(3), now.UnixMicro(), head, limit)
	if err != nil {
		return nil, db.mapError(err)
	}
	subs, err := scanSubscriptions(rows)
	return subs, db.mapError(err)
}

// ClaimWebhookSubscription takes the delivery lease of a subscription until
// now+lease for owner, if nobody holds it and it is still at cursor. On
// PostgreSQL the row is locked with SKIP LOCKED, so a node never waits for
// another that is claiming it; the condition on lease_until makes the claim
// exclusive on both databases. It reports whether the lease was taken.
func (db *DB) ClaimWebhookSubscription(ctx context.Context, s ordo.WebhookSubscription, owner string, now time.Time, lease time.Duration) (bool, error) {
	var claimed bool
	err := db.runRaw(ctx, func(tx *sql.Tx) error {
		p := db.dialect.Placeholder
		lock := ""
		if db.dialect.Name() == "postgres" {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM ordo_webhook_subscription WHERE tenant_id = `+p(1)+` AND id = `+p(2)+`
			AND active = 1 AND lease_until < `+p(3)+` AND cursor_position = `+p(4)+lock, s.TenantID, s.ID, now.UnixMicro(), s.Cursor).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE ordo_webhook_subscription SET lease_until = `+p(3)+`, lease_owner = `+p(4)+`
			WHERE tenant_id = `+p(1)+` AND id = `+p(2), s.TenantID, s.ID, now.Add(lease).UnixMicro(), owner)
		claimed = err == nil
		return err
	})
	return claimed, db.mapError(err)
}

// WebhookOutcome is what a delivery attempt changes on its subscription.
type WebhookOutcome struct {
	Delivery ordo.WebhookDelivery
	// The subscription's new delivery state. Disable sets it inactive
	// with DisabledReason (the retry window is over).
	Cursor         int64
	Attempts       int
	FailingSince   time.Time
	NextAttempt    time.Time
	Disable        bool
	DisabledReason string
	// LeaseUntil keeps the lease (the worker sends the next batch) or,
	// when zero, releases it.
	LeaseUntil time.Time
}

// RecordWebhookAttempt stores a delivery attempt and the subscription's new
// state in one transaction, if owner still holds the lease. It reports
// whether it did.
func (db *DB) RecordWebhookAttempt(ctx context.Context, s ordo.WebhookSubscription, owner string, o WebhookOutcome) (bool, error) {
	var ok bool
	keptOwner := owner
	if o.LeaseUntil.IsZero() {
		keptOwner = "" // released
	}
	err := db.runRaw(ctx, func(tx *sql.Tx) error {
		p := db.dialect.Placeholder
		args := []any{s.TenantID, s.ID, o.Cursor, o.Attempts, micros(o.FailingSince), micros(o.NextAttempt),
			micros(o.LeaseUntil), owner, keptOwner}
		disable := ""
		if o.Disable {
			args = append(args, o.DisabledReason)
			disable = ", active = 0, disabled_reason = " + p(len(args))
		}
		res, err := tx.ExecContext(ctx, `UPDATE ordo_webhook_subscription SET cursor_position = `+p(3)+`, attempts = `+p(4)+`,
			failing_since = `+p(5)+`, next_attempt_at = `+p(6)+disable+`,
			lease_until = `+p(7)+`, lease_owner = `+p(9)+`
			WHERE tenant_id = `+p(1)+` AND id = `+p(2)+` AND lease_owner = `+p(8), args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // the lease was lost (or the subscription deleted): another node redelivers
		}
		ok = true
		if o.Delivery.ID == "" {
			return nil
		}
		d := o.Delivery
		_, err = tx.ExecContext(ctx, `INSERT INTO ordo_webhook_delivery (tenant_id, id, webhook_id, subscription_id, attempted_at,
			first_position, last_position, events, status_code, error, duration_us)
			VALUES (`+p(1)+`, `+p(2)+`, `+p(3)+`, `+p(4)+`, `+p(5)+`, `+p(6)+`, `+p(7)+`, `+p(8)+`, `+p(9)+`, `+p(10)+`, `+p(11)+`)`,
			s.TenantID, d.ID, d.WebhookID, s.ID, micros(d.Attempted), d.FirstPosition, d.LastPosition, d.Events, d.StatusCode,
			truncate(d.Error, 1000), d.Duration.Microseconds())
		return err
	})
	return ok, db.mapError(err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// webhookDeliveryIndexes is migration 7: a subscription's deliveries (its
// delivery log, its deletion) and the pruning of old ones read only their
// own rows.
func webhookDeliveryIndexes(ctx context.Context, db *DB, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`CREATE INDEX IF NOT EXISTS ix_ordo_webhook_delivery_subscription ON ordo_webhook_delivery (tenant_id, subscription_id, attempted_at)`,
		`CREATE INDEX IF NOT EXISTS ix_ordo_webhook_delivery_attempted ON ordo_webhook_delivery (attempted_at)`)
}

// PruneWebhookDeliveries removes the delivery log entries attempted before
// the cutoff (the log is kept as long as the change log).
func (db *DB) PruneWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.writer.ExecContext(ctx, "DELETE FROM ordo_webhook_delivery WHERE attempted_at < "+db.dialect.Placeholder(1), micros(before))
	if err != nil {
		return 0, db.mapError(err)
	}
	return res.RowsAffected()
}

// WebhookDeliveries lists a tenant's latest delivery attempts, newest
// first (of one subscription when subscription is set).
func (db *DB) WebhookDeliveries(ctx context.Context, tenant int64, subscription string, limit int) ([]ordo.WebhookDelivery, error) {
	p := db.dialect.Placeholder
	s := `SELECT id, webhook_id, subscription_id, attempted_at, first_position, last_position, events, status_code, error, duration_us
		FROM ordo_webhook_delivery WHERE tenant_id = ` + p(1)
	args := []any{tenant}
	if subscription != "" {
		s += ` AND subscription_id = ` + p(2)
		args = append(args, subscription)
	}
	args = append(args, limit)
	rows, err := db.reader.QueryContext(ctx, s+` ORDER BY attempted_at DESC, id LIMIT `+p(len(args)), args...)
	if err != nil {
		return nil, db.mapError(err)
	}
	defer rows.Close()
	var out []ordo.WebhookDelivery
	for rows.Next() {
		var d ordo.WebhookDelivery
		var at, dur int64
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.SubscriptionID, &at, &d.FirstPosition, &d.LastPosition, &d.Events,
			&d.StatusCode, &d.Error, &dur); err != nil {
			return nil, db.mapError(err)
		}
		d.Attempted, d.Duration = fromMicros(at), time.Duration(dur)*time.Microsecond
		out = append(out, d)
	}
	return out, db.mapError(rows.Err())
}
