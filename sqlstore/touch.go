package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// Touch implements ordo.Store. On PostgreSQL the check, the touch and its
// change-log entry are one statement run outside a transaction block: one
// round trip instead of five (BEGIN, the reads, the UPDATE, the change-log
// INSERT, COMMIT), which is most of what a re-sent PUT costs there. SQLite
// has no round trips to save, so it makes the touch in a transaction
// (touchInTx), as does a touch joining a caller's transaction or one with a
// Then.
func (db *DB) Touch(ctx context.Context, tenantID int64, t *ordo.CheckedTouch) (ordo.TouchOutcome, error) {
	if tenantID <= 0 {
		return 0, errors.New("sqlstore: touch without a tenant")
	}
	if db.dialect.Name() == "postgres" && t.Then == nil && db.joined(ctx) == nil && db.beforeCommit == nil &&
		len(db.listOwners[t.Entity]) == 0 {
		var outcome ordo.TouchOutcome
		err := db.retrying(ctx, false, func() (err error) {
			outcome, err = db.touchStatement(ctx, tenantID, t)
			return err
		})
		return outcome, err
	}
	var outcome ordo.TouchOutcome
	err := db.Write(ctx, tenantID, func(tx ordo.Tx) (err error) {
		outcome, err = tx.(*Tx).touchInTx(ctx, t) // Write's transactions are this package's
		return err
	})
	return outcome, err
}

// touchInTx makes t in tx: the reads in one statement, compared here, then
// the conditional update.
func (tx *Tx) touchInTx(ctx context.Context, t *ordo.CheckedTouch) (ordo.TouchOutcome, error) {
	got, err := tx.RowVersions(ctx, t.Reads)
	if err != nil {
		return 0, err
	}
	if !t.Matches(got) {
		return ordo.ReadsDiffer, nil
	}
	versions := t.Versions()
	if len(versions) == 0 {
		return ordo.VersionDiffers, nil
	}
	n, err := tx.update(ctx, t.Entity, t.Changes, versions, ordo.Cond{Field: "id", Value: t.ID})
	if err != nil || n != 1 {
		return ordo.VersionDiffers, err
	}
	if t.Written != nil {
		t.Written()
	}
	if t.Then != nil {
		if err := t.Then(tx); err != nil {
			return 0, err
		}
	}
	return ordo.Touched, nil
}

// touchStatement is a CheckedTouch as one PostgreSQL statement:
//
//	WITH got(n, id, token) AS (the reads, as RowVersions runs them),
//	     want(n, id, token) AS (Expect, as three arrays),
//	     same(ok) AS (got and want are equal multisets, the row's own token aside),
//	     touched AS (UPDATE ... WHERE id = ? AND ordo_etag = ANY(?) AND (SELECT ok FROM same) RETURNING id),
//	     logged AS (INSERT INTO ordo_change ... SELECT ... FROM touched)
//	SELECT (SELECT ok FROM same), (SELECT count(*) FROM touched)
//
// The reads see the statement's snapshot, as they would at the start of a
// READ COMMITTED transaction; the UPDATE waits for a concurrent writer of
// the row and then finds another version.
//
// relaxedCommit: the statement commits asynchronously (synchronous_commit
// off for its own transaction only), as every SQLite commit does here
// (synchronous=NORMAL). A touch carries no data: it moves modified_dateutc,
// date_update and the version of a row whose content is already stored. A
// crash of PostgreSQL or its host within wal_writer_delay (x3) of the
// commit can lose it, which leaves the row as the previous write left it.
// The change log loses nothing a reader saw: an entry gets its position
// from a later, synchronous transaction (ChangeHead), whose flush covers
// the earlier WAL, this commit included. Waiting for the flush was a third
// of the touch's time.
func (db *DB) touchStatement(ctx context.Context, tenantID int64, t *ordo.CheckedTouch) (ordo.TouchOutcome, error) {
	tx := &Tx{db: db, tenant: tenantID}
	args := tx.args()
	var b strings.Builder
	// The statement's own transaction commits without waiting for the WAL
	// flush (set_config(..., true) is SET LOCAL): see relaxedCommit.
	b.WriteString("WITH relaxed(v) AS (SELECT set_config('synchronous_commit', 'off', true)), ")
	if len(t.Reads) > 0 {
		union, err := tx.unionAll(args, t.Reads, func(_ *schema.Entity, b *strings.Builder) {
			b.WriteString(alias + ".id, " + alias + "." + etagColumn)
		})
		if err != nil {
			return 0, err
		}
		var ns []int64
		var ids, tokens []string
		for n, rows := range t.Expect {
			for _, r := range rows {
				ns, ids, tokens = append(ns, int64(n)), append(ids, r.ID), append(tokens, r.Token)
			}
		}
		top := args.Add(schema.KindGUID, t.ID)
		ownToken := "CASE WHEN id = " + top + " THEN '' ELSE token::text END"
		b.WriteString("got(n, id, token) AS (" + union + "), ")
		b.WriteString("want(n, id, token) AS (SELECT n, id::uuid, token FROM unnest(" + args.AddRaw(ns) + "::int8[], " +
			args.AddRaw(ids) + "::text[], " + args.AddRaw(tokens) + "::text[]) AS w(n, id, token)), ")
		b.WriteString("same(ok) AS (SELECT NOT EXISTS ((SELECT n, id, " + ownToken + " FROM got EXCEPT ALL SELECT n, id, token FROM want)" +
			" UNION ALL (SELECT n, id, token FROM want EXCEPT ALL SELECT n, id, " + ownToken + " FROM got))), ")
	} else {
		b.WriteString("same(ok) AS (SELECT true), ")
	}
	versions := t.Versions()
	if len(versions) == 0 {
		return ordo.VersionDiffers, nil
	}
	token := ordo.NewVersionToken()
	update, err := tx.updateSQL(t.Entity, args, t.Changes, token, versions, []ordo.Cond{{Field: "id", Value: t.ID}})
	if err != nil {
		return 0, err
	}
	b.WriteString("touched AS (" + update + " AND (SELECT ok FROM same) RETURNING id)")
	if !db.noChangeLog {
		b.WriteString(", logged AS (INSERT INTO ordo_change (tenant_id, entity, entity_id, op, changed_at) SELECT " +
			args.AddRaw(tenantID) + ", " + args.AddRaw(t.Entity.Name) + ", id::text, " + args.AddRaw(string(ordo.OpUpdate)) + ", " +
			args.AddRaw(time.Now().UnixMicro()) + " FROM touched)")
	}
	b.WriteString(" SELECT (SELECT ok FROM same), (SELECT count(*) FROM touched), (SELECT v FROM relaxed)")
	statement := b.String()
	db.counted(statement, args.List)
	var same bool
	var touched int64
	var relaxed string
	if err := db.writer.QueryRowContext(ctx, statement, args.List...).Scan(&same, &touched, &relaxed); err != nil {
		return 0, err
	}
	switch {
	case !same:
		return ordo.ReadsDiffer, nil
	case touched != 1:
		return ordo.VersionDiffers, nil
	}
	t.Changes[ordo.ETagKey] = token
	if t.Written != nil {
		t.Written()
	}
	return ordo.Touched, nil
}
