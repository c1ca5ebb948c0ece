package sqlstore

import (
	"context"
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// maxBulkArgs bounds the parameters of one multi-row INSERT. The SQLite
// driver looks up each numbered parameter by a linear walk, so binding a
// statement costs the square of its parameters: a few hundred is the sweet
// spot there; PostgreSQL's limit is 65,535.
func maxBulkArgs(d string) int {
	if d == "sqlite" {
		return 600
	}
	return 30000
}

// BulkInsert stores records of e in tenant with multi-row INSERTs in one
// transaction, as Tx.Insert would one by one, but without business rules:
// for loading benchmark data sets and for bulk tools that ran the rules
// themselves. Only the fields the records carry are sent; the others take
// their column defaults (the kind's zero), and every row gets an ETag token.
// Derived data (project aggregates) is the caller's concern.
func (db *DB) BulkInsert(ctx context.Context, tenantID int64, e *schema.Entity, records []ordo.Record) error {
	var fields []*schema.Field
	for _, f := range e.Fields {
		for _, r := range records {
			if _, ok := r[f.Name]; ok {
				fields = append(fields, f)
				break
			}
		}
	}
	head := "INSERT INTO " + q(e.Table) + " (tenant_id, " + etagColumn
	for _, f := range fields {
		head += ", " + q(f.Name)
	}
	head += ") VALUES "
	batch := max(1, maxBulkArgs(db.dialect.Name())/(len(fields)+2))
	return db.Write(ctx, tenantID, func(otx ordo.Tx) error {
		tx := otx.(*Tx)
		for start := 0; start < len(records); start += batch {
			args := tx.args()
			var b strings.Builder
			b.WriteString(head)
			chunk := records[start:min(len(records), start+batch)]
			for i, r := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(" + args.AddRaw(tx.tenant) + ", " + args.AddRaw(ordo.NewVersionToken()))
				for _, f := range fields {
					v, ok := r[f.Name]
					if !ok {
						v = f.Zero()
					}
					b.WriteString(", " + args.Add(f.Kind, v))
				}
				b.WriteString(")")
			}
			// Through the statement cache: every full batch has the same text.
			if _, err := tx.exec(ctx, b.String(), args.List...); err != nil {
				return err
			}
			for _, r := range chunk {
				tx.recordChange(e, ordo.OpInsert, tx.insertedRow(e, r))
			}
		}
		return nil
	})
}

// Analyze refreshes the planner's statistics of the registry's tables now
// (after a bulk load), on both databases.
func (db *DB) Analyze(ctx context.Context) error {
	if db.dialect.Name() == "sqlite" {
		_, err := db.writer.ExecContext(ctx, "ANALYZE")
		return err
	}
	tables := make([]string, len(db.registry.Entities))
	for i, e := range db.registry.Entities {
		tables[i] = q(e.Table)
	}
	_, err := db.writer.ExecContext(ctx, "ANALYZE "+strings.Join(tables, ", "))
	return err
}
