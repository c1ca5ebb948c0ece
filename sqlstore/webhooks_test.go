package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestWebhookDeliveryLog: the delivery log of a subscription and the
// pruning of old entries read only the rows they concern (their plans use an
// index on a log of 20,000 entries), and pruning removes exactly the entries
// older than the cutoff.
func TestWebhookDeliveryLog(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testenv.OpenDB(t, dsn)
		tenant, err := db.CreateTenant(ctx, "acme", "Acme", nil)
		if err != nil {
			t.Fatal(err)
		}
		const n = 20000 // entry i: subscription sub-(i % 100), attempted at i seconds after the epoch
		numbers := "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < $2 - 1) SELECT i FROM c"
		if db.Dialect().Name() == "postgres" {
			numbers = "SELECT generate_series(0, $2 - 1) AS i"
		}
		raw := testenv.RawDB(t, dsn)
		_, err = raw.ExecContext(ctx, `INSERT INTO ordo_webhook_delivery (tenant_id, id, webhook_id,
			subscription_id, attempted_at, first_position, last_position, events, status_code, error, duration_us)
			SELECT $1, 'd-' || i, 'w-' || i, 'sub-' || (i % 100), CAST(i AS BIGINT) * 1000000, 1, 1, 1, 200, '', 10 FROM (`+numbers+`) n`,
			tenant.ID, n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, "ANALYZE ordo_webhook_delivery"); err != nil {
			t.Fatal(err)
		}
		p := db.Dialect().Placeholder
		for _, st := range []struct {
			sql  string
			args []any
		}{
			{`SELECT id FROM ordo_webhook_delivery WHERE tenant_id = ` + p(1) + ` AND subscription_id = ` + p(2) +
				` ORDER BY attempted_at DESC, id LIMIT ` + p(3), []any{tenant.ID, "sub-7", 50}},
			{`DELETE FROM ordo_webhook_delivery WHERE tenant_id = ` + p(1) + ` AND subscription_id = ` + p(2), []any{tenant.ID, "sub-7"}},
			{`DELETE FROM ordo_webhook_delivery WHERE attempted_at < ` + p(1), []any{int64(10 * 1000000)}},
		} {
			plan, err := db.Plan(ctx, st.sql, st.args)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			if strings.Contains(text, "SCAN ordo_webhook_delivery") || strings.Contains(text, "Seq Scan on ordo_webhook_delivery") {
				t.Errorf("%s\nreads the whole log:\n%s", st.sql, text)
			}
		}

		pruned, err := db.PruneWebhookDeliveries(ctx, time.Unix(5000, 0))
		if err != nil || pruned != 5000 {
			t.Fatalf("pruned %d, %v; want the 5000 entries before 5000 s", pruned, err)
		}
		left, err := db.WebhookDeliveries(ctx, tenant.ID, "sub-7", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 150 || left[0].Attempted.Before(left[len(left)-1].Attempted) || left[len(left)-1].Attempted.Before(time.Unix(5000, 0)) {
			t.Errorf("%d entries of sub-7 left (want 150, newest first, none before the cutoff)", len(left))
		}
	})
}
