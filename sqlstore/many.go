package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// ListMany implements ordo.Tx: the queries become the members of one UNION
// ALL, each row tagged with its query's position and padded with NULLs to
// the widest entity, so a request that needs rows of many tables (the
// references of a body) pays one statement and one round trip.
func (tx *Tx) ListMany(ctx context.Context, qs []ordo.EntityQuery) ([][]ordo.Record, error) {
	out := make([][]ordo.Record, len(qs))
	width := 0
	for _, eq := range qs {
		if qr := eq.Query; qr.OrderBy != nil || qr.Limit != 0 || qr.ForUpdate {
			return nil, errors.New("sqlstore: ListMany takes conditions only")
		}
		width = max(width, len(eq.Entity.Fields))
	}
	d := tx.db.dialect
	err := tx.queryUnion(ctx, qs, width+1, func(e *schema.Entity, b *strings.Builder) {
		b.WriteString(d.UnionColumn(schema.KindString, alias+"."+etagColumn))
		for _, f := range e.Fields {
			b.WriteString(", " + d.UnionColumn(f.Kind, alias+"."+q(f.Name)))
		}
		for k := len(e.Fields); k < width; k++ {
			b.WriteString(", " + d.UnionColumn(schema.KindString, "NULL"))
		}
	}, func(n int, raw []any) error {
		e := qs[n].Entity
		rec := make(ordo.Record, len(e.Fields)+1)
		for i, f := range e.Fields {
			v, err := d.ScanUnion(f.Kind, raw[i+1])
			if err != nil {
				return fmt.Errorf("%s.%s: %w", e.Name, f.Name, err)
			}
			rec[f.Name] = v
		}
		if tok, _ := d.ScanUnion(schema.KindString, raw[0]); tok != nil && tok != "" {
			rec[ordo.ETagKey] = tok
		}
		out[n] = append(out[n], rec)
		return nil
	})
	return out, err
}

// RowVersions returns, for each query (Conds and AnyOf only; order and
// limit are ignored), the id and version token of every matching row, all
// in one UNION ALL statement of three narrow columns: how a checked touch
// (touch.go) sees that rows read earlier are still the same rows.
func (tx *Tx) RowVersions(ctx context.Context, qs []ordo.EntityQuery) ([][]ordo.RowVersion, error) {
	out := make([][]ordo.RowVersion, len(qs))
	d := tx.db.dialect
	idCol, tokenCol := d.UnionColumn(schema.KindGUID, alias+".id"), d.UnionColumn(schema.KindString, alias+"."+etagColumn)
	err := tx.queryUnion(ctx, qs, 2, func(_ *schema.Entity, b *strings.Builder) {
		b.WriteString(idCol + ", " + tokenCol)
	}, func(n int, raw []any) error {
		id, err := d.ScanUnion(schema.KindGUID, raw[0])
		if err != nil {
			return err
		}
		token, err := d.ScanUnion(schema.KindString, raw[1])
		if err != nil {
			return err
		}
		v := ordo.RowVersion{}
		v.ID, _ = id.(string)
		v.Token, _ = token.(string)
		out[n] = append(out[n], v)
		return nil
	})
	return out, err
}

// queryUnion runs one UNION ALL of qs (unionAll), whose members select
// width columns each (written by columns), and calls row with each row's
// query index and those columns. The queries take conditions only.
func (tx *Tx) queryUnion(ctx context.Context, qs []ordo.EntityQuery, width int,
	columns func(e *schema.Entity, b *strings.Builder), row func(n int, raw []any) error) error {
	if len(qs) == 0 {
		return nil
	}
	for _, eq := range qs {
		if qr := eq.Query; qr.Filter != nil || qr.Offset != 0 || qr.Fields != nil {
			return errors.New("sqlstore: a UNION ALL of queries takes conditions only")
		}
	}
	args := tx.args()
	statement, err := tx.unionAll(args, qs, columns)
	if err != nil {
		return err
	}
	rows, err := tx.query(ctx, statement, args.List...)
	if err != nil {
		return err
	}
	defer rows.Close()
	raw := make([]any, width+1)
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		n, err := unionIndex(raw[0])
		if err != nil || n < 0 || n >= len(qs) {
			return fmt.Errorf("sqlstore: bad query index %v in a UNION ALL", raw[0])
		}
		if err := row(n, raw[1:]); err != nil {
			return err
		}
	}
	return rows.Err()
}

// unionAll builds one UNION ALL with a member per query (its conditions
// only: order and limit do not apply), each selecting the query's index and
// then what columns writes for its entity. Its arguments are added to args.
func (tx *Tx) unionAll(args *sqldialect.Args, qs []ordo.EntityQuery, columns func(e *schema.Entity, b *strings.Builder)) (string, error) {
	var b strings.Builder
	b.Grow(200 * len(qs))
	for i, eq := range qs {
		from, err := tx.selectSQL(eq.Entity, ordo.Query{Conds: eq.Query.Conds, AnyOf: eq.Query.AnyOf}, args)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT ")
		b.WriteString(strconv.Itoa(i))
		b.WriteString(", ")
		columns(eq.Entity, &b)
		b.WriteString(" ")
		b.WriteString(from)
	}
	return b.String(), nil
}

func unionIndex(v any) (int, error) {
	switch n := v.(type) {
	case int64:
		return int(n), nil
	case int32:
		return int(n), nil
	}
	return 0, fmt.Errorf("%T", v)
}
