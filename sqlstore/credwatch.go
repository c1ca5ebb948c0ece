package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Credential changes.
//
// A node may trust credentials it verified earlier only while it learns of
// every change to them. On PostgreSQL a trigger on the credential table
// (migration 6) notifies the ordo_credential channel at the commit of any
// change, whoever makes it (this process, another node, a SQL console); each
// process listens on one dedicated connection. A change made through this
// DB also reaches the watchers at once, before the notification. While the
// listener is not connected (start-up, a lost connection, SQLite, which has
// no notifications) CredentialEpoch is 0 and callers re-read what they need.

// credentialChannel is the PostgreSQL notification channel.
const credentialChannel = "ordo_credential"

type credentialWatch struct {
	mu      sync.Mutex
	changed []func()
	// epoch numbers the listener's connections (0: not listening): what was
	// checked against the database during one epoch stays true until a
	// notification says otherwise.
	epoch, epochs atomic.Uint64
	started       bool
	stop          context.CancelFunc
	done          chan struct{}
}

// OnCredentialChange registers fn, called after any credential changes, and
// starts listening for changes made elsewhere (PostgreSQL).
func (db *DB) OnCredentialChange(fn func()) {
	w := &db.credWatch
	w.mu.Lock()
	defer w.mu.Unlock()
	w.changed = append(w.changed, fn)
	if w.started || db.dialect.Name() != "postgres" || db.dsn == "" {
		return
	}
	w.started = true
	ctx, cancel := context.WithCancel(context.Background())
	w.stop, w.done = cancel, make(chan struct{})
	go db.listenCredentials(ctx)
}

// CredentialEpoch is the current listening epoch, 0 when changes made
// elsewhere may go unnoticed. A credential checked against the database
// during epoch e > 0 stays valid while CredentialEpoch is still e, until a
// change is signalled to the OnCredentialChange functions.
func (db *DB) CredentialEpoch() uint64 { return db.credWatch.epoch.Load() }

func (db *DB) credentialsChanged() {
	w := &db.credWatch
	w.mu.Lock()
	fns := append([]func(){}, w.changed...)
	w.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// listenCredentials keeps one connection listening, reconnecting with a
// growing pause; each connection starts a new epoch.
func (db *DB) listenCredentials(ctx context.Context) {
	defer close(db.credWatch.done)
	pause := 100 * time.Millisecond
	for ctx.Err() == nil {
		if err := db.listenOnce(ctx); err != nil && ctx.Err() == nil {
			db.log.Warn("credential change listener lost; verifying credentials on every request until it is back", "err", err)
		}
		db.credWatch.epoch.Store(0)
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 30*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+credentialChannel); err != nil {
		return err
	}
	// Credentials checked before this point are trusted only once checked
	// again: a change may have gone unnoticed meanwhile.
	db.credWatch.epoch.Store(db.credWatch.epochs.Add(1))
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		db.credentialsChanged()
	}
}

func (db *DB) stopCredentialWatch() {
	w := &db.credWatch
	w.mu.Lock()
	stop, done := w.stop, w.done
	w.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// credentialNotify is migration 6: on PostgreSQL, a trigger notifies
// credentialChannel at the commit of any change to the credential table.
func credentialNotify(ctx context.Context, db *DB, tx *sql.Tx) error {
	if db.dialect.Name() != "postgres" {
		return nil
	}
	return execAll(ctx, tx,
		`CREATE OR REPLACE FUNCTION ordo_credential_changed() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM pg_notify('`+credentialChannel+`', '');
			RETURN NULL;
		END $$`,
		`DROP TRIGGER IF EXISTS ordo_credential_changed ON credential`,
		`CREATE TRIGGER ordo_credential_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON credential
			FOR EACH STATEMENT EXECUTE FUNCTION ordo_credential_changed()`)
}
