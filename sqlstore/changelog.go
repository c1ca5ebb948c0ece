package sqlstore

import (
	"context"
	"database/sql"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// The change log (table ordo_change) holds one entry per row written, in
// the writing transaction: every statement that writes rows of an entity
// calls Tx.recordChange with the ids it wrote, and the entries are flushed
// in one INSERT just before the transaction commits.
//
// Ordering. On SQLite one writer commits at a time, so the AUTOINCREMENT
// position is already commit order. On PostgreSQL transactions commit in
// any order, so an entry is written without a position; ChangeHead numbers
// the entries it can see, which are those of committed transactions, after
// the largest position given so far, one numbering at a time (an advisory
// lock). Positions are therefore assigned in commit order, after commit: an
// entry committed late gets a larger position than every one handed out
// before, so a reader that has seen up to P never finds a new entry at or
// below P. See docs/sync.md for the cost and the alternative.

// changeAdvisoryLock serialises ChangeHead's numbering on PostgreSQL.
const changeAdvisoryLock = 0x6f72646f01 // "ordo" + 1

// changeLogTables is migration 3.
func changeLogTables(ctx context.Context, db *DB, tx *sql.Tx) error {
	if db.dialect.Name() == "postgres" {
		return execAll(ctx, tx,
			`CREATE TABLE IF NOT EXISTS ordo_change (
				seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				position BIGINT UNIQUE,
				tenant_id BIGINT NOT NULL,
				entity VARCHAR(64) NOT NULL,
				entity_id VARCHAR(36) NOT NULL,
				op VARCHAR(8) NOT NULL,
				changed_at BIGINT NOT NULL)`,
			`CREATE INDEX IF NOT EXISTS ix_ordo_change_unnumbered ON ordo_change (seq) WHERE position IS NULL`,
			`CREATE INDEX IF NOT EXISTS ix_ordo_change_tenant ON ordo_change (tenant_id, entity, position)`,
			`CREATE INDEX IF NOT EXISTS ix_ordo_change_row ON ordo_change (tenant_id, entity, entity_id, position)`,
			`CREATE INDEX IF NOT EXISTS ix_ordo_change_time ON ordo_change (changed_at)`,
			`CREATE TABLE IF NOT EXISTS ordo_change_state (id INTEGER PRIMARY KEY, pruned_through BIGINT NOT NULL)`,
			`INSERT INTO ordo_change_state (id, pruned_through) VALUES (1, 0) ON CONFLICT DO NOTHING`)
	}
	return execAll(ctx, tx,
		`CREATE TABLE IF NOT EXISTS ordo_change (
			position INTEGER PRIMARY KEY AUTOINCREMENT,
			tenant_id BIGINT NOT NULL,
			entity VARCHAR(64) NOT NULL,
			entity_id VARCHAR(36) NOT NULL,
			op VARCHAR(8) NOT NULL,
			changed_at BIGINT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS ix_ordo_change_tenant ON ordo_change (tenant_id, entity, position)`,
		`CREATE INDEX IF NOT EXISTS ix_ordo_change_row ON ordo_change (tenant_id, entity, entity_id, position)`,
		`CREATE INDEX IF NOT EXISTS ix_ordo_change_time ON ordo_change (changed_at)`,
		`CREATE TABLE IF NOT EXISTS ordo_change_state (id INTEGER PRIMARY KEY, pruned_through BIGINT NOT NULL)`,
		`INSERT INTO ordo_change_state (id, pruned_through) VALUES (1, 0) ON CONFLICT DO NOTHING`)
}

// changedRow is one row a statement wrote: its id and, for the child of an
// owned list, the id of the parent it belongs to.
type changedRow struct{ id, parent string }

type changeKey struct {
	entity string
	id     string
}

// recordChange notes that a statement wrote rows of e. It is THE hook of the
// change log: every statement that inserts, updates or deletes rows of an
// entity calls it once with what it wrote (a new write statement returns its
// ids, e.g. with RETURNING id, and calls it too). A row written several times
// in one transaction keeps one entry; a change to an owned list's child is
// also a change of its parent, whose body holds the list.
func (tx *Tx) recordChange(e *schema.Entity, op ordo.ChangeOp, rows ...changedRow) {
	if tx.db.noChangeLog {
		return
	}
	for _, r := range rows {
		tx.noteChange(e.Name, r.id, op)
		if r.parent != "" {
			for _, l := range tx.db.listOwners[e] {
				tx.noteChange(l.owner.Name, r.parent, ordo.OpUpdate)
			}
		}
	}
}

func (tx *Tx) noteChange(entity, id string, op ordo.ChangeOp) {
	k := changeKey{entity, id}
	if i, ok := tx.changeIndex[k]; ok {
		prev := &tx.changes[i]
		switch {
		case op == ordo.OpDelete:
			prev.Op = op
		case prev.Op == ordo.OpDelete: // deleted then written again: it exists
			prev.Op = ordo.OpUpdate
		}
		return
	}
	if tx.changeIndex == nil {
		tx.changeIndex = map[changeKey]int{}
	}
	tx.changeIndex[k] = len(tx.changes)
	tx.changes = append(tx.changes, ordo.Change{Entity: entity, ID: id, Op: op})
}

// changeFlushChunk bounds the rows of one flushing INSERT.
const changeFlushChunk = 200

// flushChanges writes the noted entries, just before commit.
func (tx *Tx) flushChanges(ctx context.Context) error {
	now := time.Now().UnixMicro()
	for start := 0; start < len(tx.changes); start += changeFlushChunk {
		chunk := tx.changes[start:min(start+changeFlushChunk, len(tx.changes))]
		args := tx.args()
		var b strings.Builder
		b.WriteString("INSERT INTO ordo_change (tenant_id, entity, entity_id, op, changed_at) VALUES ")
		for i, c := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + args.AddRaw(tx.tenant) + ", " + args.AddRaw(c.Entity) + ", " + args.AddRaw(c.ID) + ", " +
				args.AddRaw(string(c.Op)) + ", " + args.AddRaw(now) + ")")
		}
		if _, err := tx.exec(ctx, b.String(), args.List...); err != nil {
			return err
		}
	}
	tx.changes, tx.changeIndex = nil, nil
	return nil
}

// listOwner is an owned list whose child an entity is.
type listOwner struct {
	owner *schema.Entity
	list  *schema.OwnedList
}

func listOwners(reg *schema.Registry) map[*schema.Entity][]listOwner {
	out := map[*schema.Entity][]listOwner{}
	for _, e := range reg.Entities {
		for _, l := range e.Lists {
			out[l.Child] = append(out[l.Child], listOwner{e, l})
		}
	}
	return out
}

// insertedRow is the changedRow of a record an INSERT wrote.
func (tx *Tx) insertedRow(e *schema.Entity, r ordo.Record) changedRow {
	row := changedRow{id: r.ID()}
	if owners := tx.db.listOwners[e]; len(owners) > 0 {
		row.parent = r.String(owners[0].list.Ref.IDField)
	}
	return row
}

// returning is the RETURNING list of a statement writing rows of e: the id,
// and the parent reference of an owned list's child.
func (tx *Tx) returning(e *schema.Entity) string {
	s := " RETURNING id"
	if owners := tx.db.listOwners[e]; len(owners) > 0 {
		s += ", " + q(owners[0].list.Ref.IDField)
	}
	return s
}

// scanChanged reads the rows of a statement ending with returning(e).
func (tx *Tx) scanChanged(e *schema.Entity, rows *sql.Rows) ([]changedRow, error) {
	defer rows.Close()
	hasParent := len(tx.db.listOwners[e]) > 0
	var out []changedRow
	for rows.Next() {
		var id, parent any
		dest := []any{&id}
		if hasParent {
			dest = append(dest, &parent)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		idv, err := tx.db.dialect.Scan(schema.KindGUID, id)
		if err != nil {
			return nil, err
		}
		r := changedRow{id: idv.(string)}
		if hasParent {
			pv, err := tx.db.dialect.Scan(schema.KindGUID, parent)
			if err != nil {
				return nil, err
			}
			if r.parent, _ = pv.(string); schema.IsZero(schema.KindGUID, r.parent) {
				r.parent = ""
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

var _ ordo.ChangeLog = (*DB)(nil)

// ChangeHead implements ordo.ChangeLog. In the steady state it is one
// indexed read; on PostgreSQL, when entries without a position exist, it
// numbers them first.
func (db *DB) ChangeHead(ctx context.Context) (head, pruned int64, err error) {
	for attempt := 0; ; attempt++ {
		var h sql.NullInt64
		var unnumbered bool
		q := `SELECT (SELECT MAX(position) FROM ordo_change),
			(SELECT pruned_through FROM ordo_change_state WHERE id = 1), `
		if db.dialect.Name() == "postgres" {
			q += `EXISTS (SELECT 1 FROM ordo_change WHERE position IS NULL)`
		} else {
			q += `0 = 1`
		}
		if err := db.reader.QueryRowContext(ctx, q).Scan(&h, &pruned, &unnumbered); err != nil {
			return 0, 0, db.mapError(err)
		}
		if !unnumbered || attempt > 0 {
			return max(h.Int64, pruned), pruned, nil
		}
		if err := db.numberChanges(ctx); err != nil {
			return 0, 0, db.mapError(err)
		}
	}
}

// numberChanges gives positions to the committed PostgreSQL entries that
// have none yet, in entry order, after the largest position given so far.
func (db *DB) numberChanges(ctx context.Context) error {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", changeAdvisoryLock); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `WITH ready AS (
			SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM ordo_change
			WHERE position IS NULL
			ORDER BY seq LIMIT 100000),
		base AS (SELECT GREATEST(COALESCE(MAX(position), 0), (SELECT pruned_through FROM ordo_change_state WHERE id = 1)) AS top FROM ordo_change)
		UPDATE ordo_change c SET position = base.top + ready.n FROM ready, base WHERE c.seq = ready.seq`)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // nothing to commit
	}
	return tx.Commit()
}

// PruneChanges implements ordo.ChangeLog: it removes the entries written
// before the cutoff and remembers the highest position removed, so that a
// reader behind it learns it has lost entries.
func (db *DB) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	if db.dialect.Name() == "postgres" {
		if err := db.numberChanges(ctx); err != nil { // only numbered entries are pruned
			return 0, db.mapError(err)
		}
	}
	var n int64
	err := db.runRaw(ctx, func(tx *sql.Tx) error {
		p := db.dialect.Placeholder
		var upto sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT MAX(position) FROM ordo_change WHERE changed_at < "+p(1),
			before.UnixMicro()).Scan(&upto); err != nil || !upto.Valid {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM ordo_change WHERE position <= "+p(1), upto.Int64)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, "UPDATE ordo_change_state SET pruned_through = "+p(1)+
			" WHERE id = 1 AND pruned_through < "+p(1), upto.Int64)
		return err
	})
	return n, db.mapError(err)
}

// runRaw runs fn in a write transaction outside any tenant, for the
// store's own maintenance.
func (db *DB) runRaw(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

var _ ordo.ChangeReader = (*Tx)(nil)

// LatestChanges implements ordo.ChangeReader in one statement: the log's
// head, its pruned position and whether entries wait for a position, with
// the window's latest entries (none when the window is empty). Without an
// upper bound the window ends at the head the same statement saw. An entry
// is a row's latest when it is the row's largest position in the window: a
// correlated MAX, one descent of ix_ordo_change_row per entry (PostgreSQL
// turns the equivalent NOT EXISTS into an anti-join that, with a young
// table's statistics, rescans the tenant's entries for each one).
func (tx *Tx) LatestChanges(ctx context.Context, entity string, after, upto, cursor int64, limit int) ([]ordo.Change, ordo.ChangeWindow, error) {
	var win ordo.ChangeWindow
	p := tx.db.dialect.Placeholder
	if upto <= 0 {
		upto = math.MaxInt64
	}
	unnumbered := "0 = 1"
	if tx.db.dialect.Name() == "postgres" {
		unnumbered = "EXISTS (SELECT 1 FROM ordo_change WHERE position IS NULL)"
	}
	rows, err := tx.query(ctx, `SELECT h.head, h.pruned, h.unnumbered, w.position, w.entity, w.entity_id, w.op, w.changed_at
		FROM (SELECT COALESCE(MAX(position), 0) AS head,
			(SELECT pruned_through FROM ordo_change_state WHERE id = 1) AS pruned, `+unnumbered+` AS unnumbered
			FROM ordo_change) h
		LEFT JOIN (SELECT c.position, c.entity, c.entity_id, c.op, c.changed_at FROM ordo_change c
			WHERE c.tenant_id = `+p(1)+` AND c.entity = `+p(2)+` AND c.position > `+p(3)+` AND c.position <= `+p(4)+`
			AND c.position = (SELECT MAX(d.position) FROM ordo_change d WHERE d.tenant_id = c.tenant_id AND d.entity = c.entity
				AND d.entity_id = c.entity_id AND d.position <= `+p(4)+`)
			ORDER BY c.position LIMIT `+p(5)+`) w ON 1 = 1
		ORDER BY w.position`, tx.tenant, entity, max(after, cursor), upto, limit)
	if err != nil {
		return nil, win, err
	}
	defer rows.Close()
	var out []ordo.Change
	for rows.Next() {
		var pos, at sql.NullInt64
		var ent, id, op sql.NullString
		if err := rows.Scan(&win.Head, &win.Pruned, &win.Unnumbered, &pos, &ent, &id, &op, &at); err != nil {
			return nil, win, err
		}
		if pos.Valid {
			out = append(out, ordo.Change{Position: pos.Int64, Entity: ent.String, ID: id.String, Op: ordo.ChangeOp(op.String),
				Time: time.UnixMicro(at.Int64).UTC()})
		}
	}
	win.Head = max(win.Head, win.Pruned)
	return out, win, rows.Err()
}

// ChangesAfter implements ordo.ChangeReader.
func (tx *Tx) ChangesAfter(ctx context.Context, entities []string, after, upto int64, limit int) ([]ordo.Change, error) {
	args := tx.args()
	s := `SELECT position, entity, entity_id, op, changed_at FROM ordo_change WHERE tenant_id = ` + args.AddRaw(tx.tenant) +
		` AND position > ` + args.AddRaw(after) + ` AND position <= ` + args.AddRaw(upto)
	if len(entities) > 0 {
		phs := make([]string, len(entities))
		for i, e := range entities {
			phs[i] = args.AddRaw(e)
		}
		s += " AND entity IN (" + strings.Join(phs, ", ") + ")"
	}
	s += " ORDER BY position LIMIT " + args.AddRaw(limit)
	rows, err := tx.query(ctx, s, args.List...)
	if err != nil {
		return nil, err
	}
	return scanChanges(rows)
}

func scanChanges(rows *sql.Rows) ([]ordo.Change, error) {
	defer rows.Close()
	var out []ordo.Change
	for rows.Next() {
		var c ordo.Change
		var op string
		var at int64
		if err := rows.Scan(&c.Position, &c.Entity, &c.ID, &op, &at); err != nil {
			return nil, err
		}
		c.Op, c.Time = ordo.ChangeOp(op), time.UnixMicro(at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// PruneChangesEvery removes, every interval until ctx ends, the entries
// older than retention (ordo serve --change-retention).
func (db *DB) PruneChangesEvery(ctx context.Context, retention, interval time.Duration) {
	for {
		cutoff := time.Now().Add(-retention)
		n, err := db.PruneChanges(ctx, cutoff)
		if err != nil && ctx.Err() == nil {
			db.log.Warn("change log: pruning failed", "err", err)
		} else if n > 0 {
			db.log.Info("change log: pruned", "entries", n, "retention", retention.String())
		}
		if n, err := db.PruneWebhookDeliveries(ctx, cutoff); err != nil && ctx.Err() == nil {
			db.log.Warn("webhook delivery log: pruning failed", "err", err)
		} else if n > 0 {
			db.log.Info("webhook delivery log: pruned", "entries", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// changesMark is the change-log buffer as it was when a savepoint was set:
// a joined call that fails is rolled back to its savepoint, and the entries
// it noted must go with it (see nested).
type changesMark struct {
	changes []ordo.Change
	index   map[changeKey]int
}

func (tx *Tx) markChanges() changesMark {
	return changesMark{slices.Clone(tx.changes), maps.Clone(tx.changeIndex)}
}

func (tx *Tx) resetChanges(m changesMark) { tx.changes, tx.changeIndex = m.changes, m.index }
