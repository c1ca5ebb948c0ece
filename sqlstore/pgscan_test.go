package sqlstore_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/schema"
)

// A read outside a transaction decodes rows itself on PostgreSQL
// (pgscan.go); it must give exactly the values the database/sql path of a
// transaction gives, for every kind of field, edge values included.
func TestReadDecodesLikeTransaction(t *testing.T) {
	values := map[schema.Kind][]any{
		schema.KindString:  {"", "Zürich – 東京 \"quoted\" \\ back"},
		schema.KindGUID:    {"00000000-0000-0000-0000-000000000000", "ffffffff-0000-4aaa-8bbb-0123456789ab"},
		schema.KindInt:     {int64(0), int64(-9007199254740993), int64(1) << 62},
		schema.KindDecimal: {0.0, -3.14159265358979, 1e300},
		schema.KindBool:    {true, false},
		schema.KindDate:    {schema.ZeroDate, time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC), time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testenv.OpenDB(t, dsn)
		tenant, err := db.CreateTenant(ctx, "decode", "Decode", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"jobs", "user", "job_status"} {
			e := schema.Default.MustEntity(name)
			for variant := 0; variant < 3; variant++ {
				id := []string{"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
					"33333333-3333-4333-8333-333333333333"}[variant]
				rec := ordo.Record{"id": id}
				for _, f := range e.Fields {
					vs := values[f.Kind]
					if f.Name == "id" || f.Unique || len(vs) == 0 {
						continue
					}
					v := vs[variant%len(vs)]
					if s, ok := v.(string); ok && f.Kind == schema.KindString && len(s) > f.MaxLength() {
						v = s[:f.MaxLength()]
					}
					rec[f.Name] = v
				}
				var inTx, outside ordo.Record
				err := db.Write(ctx, tenant.ID, func(tx ordo.Tx) error {
					if err := tx.Insert(ctx, e, rec); err != nil {
						return err
					}
					inTx, err = tx.Get(ctx, e, id)
					return err
				})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				err = db.Read(ctx, tenant.ID, func(tx ordo.Tx) error {
					outside, err = tx.Get(ctx, e, id)
					return err
				})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !reflect.DeepEqual(inTx, outside) {
					for k, v := range inTx {
						if !reflect.DeepEqual(v, outside[k]) {
							t.Errorf("%s.%s: %#v in a transaction, %#v outside", name, k, v, outside[k])
						}
					}
				}
			}
		}
	})
}
