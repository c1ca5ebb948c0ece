package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ordo-fsm/ordo/schema"
)

// ReserveID2 implements ordo.Tx: the n numbers NextID2 would return by n
// calls, in one increment of the counter row and one read of the numbers
// rows already hold in that range (through the partial unique index); the
// counter is left at the last number returned. prev is the counter's value
// before, for SetID2.
func (tx *Tx) ReserveID2(ctx context.Context, e *schema.Entity, n int) (prev int64, free []int64, err error) {
	if n <= 0 {
		return 0, nil, errors.New("sqlstore: ReserveID2 of no numbers")
	}
	first := true
	for len(free) < n {
		k := int64(n - len(free))
		last, err := tx.bumpID2(ctx, e, k)
		if err != nil {
			return 0, nil, err
		}
		if first {
			prev, first = last-k, false
		}
		taken, err := tx.takenID2(ctx, e, last-k+1, last)
		if err != nil {
			return 0, nil, err
		}
		for c := last - k + 1; c <= last; c++ {
			if !taken[c] {
				free = append(free, c)
			}
		}
	}
	return prev, free, nil
}

// SetID2 implements ordo.Tx: the counter of e becomes last (the last number
// a caller of ReserveID2 used; the numbers after it are handed out again).
func (tx *Tx) SetID2(ctx context.Context, e *schema.Entity, last int64) error {
	p := tx.db.dialect.Placeholder
	_, err := tx.exec(ctx, `UPDATE ordo_id2 SET last = `+p(3)+` WHERE tenant_id = `+p(1)+` AND entity = `+p(2), tx.tenant, e.Name, last)
	return err
}

// bumpID2 adds k to e's counter (seeding it as NextID2 does) and returns
// its new value.
func (tx *Tx) bumpID2(ctx context.Context, e *schema.Entity, k int64) (int64, error) {
	p := tx.db.dialect.Placeholder
	var last int64
	err := tx.queryRow(ctx, `UPDATE ordo_id2 SET last = last + `+p(3)+` WHERE tenant_id = `+p(1)+` AND entity = `+p(2)+` RETURNING last`,
		tx.tenant, e.Name, k).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.queryRow(ctx, `INSERT INTO ordo_id2 (tenant_id, entity, last)
			VALUES (`+p(1)+`, `+p(2)+`, (SELECT COALESCE(MAX(id2), 0) + `+p(3)+` FROM `+q(e.Table)+` WHERE tenant_id = `+p(1)+` AND id2 <> 0))
			ON CONFLICT (tenant_id, entity) DO UPDATE SET last = ordo_id2.last + `+p(3)+`
			RETURNING last`, tx.tenant, e.Name, k).Scan(&last)
	}
	return last, err
}

// takenID2 are the id2 numbers in [lo, hi] that rows of e hold.
func (tx *Tx) takenID2(ctx context.Context, e *schema.Entity, lo, hi int64) (map[int64]bool, error) {
	p := tx.db.dialect.Placeholder
	rows, err := tx.query(ctx, `SELECT id2 FROM `+q(e.Table)+` WHERE tenant_id = `+p(1)+` AND id2 <> 0 AND id2 BETWEEN `+p(2)+` AND `+p(3),
		tx.tenant, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	taken := map[int64]bool{}
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		taken[n] = true
	}
	return taken, rows.Err()
}
