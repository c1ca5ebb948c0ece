package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/rowjson"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// Defaults of a Worker.
const (
	BatchSize      = 100
	DefaultLease   = 60 * time.Second
	RetryWindow    = 24 * time.Hour
	MinBackoff     = time.Second
	MaxBackoff     = time.Hour
	DefaultPoll    = 250 * time.Millisecond
	maxConcurrency = 8
)

// Worker delivers the change log to the active subscriptions of every
// tenant. Any number of workers (one per node) may run on one database:
// a subscription is delivered by the one holding its lease.
type Worker struct {
	DB      *sqlstore.DB
	Service *service.Service
	Client  *http.Client // NewClient(false) when nil
	Log     *slog.Logger
	// Now is the clock (backoff, the retry window, leases); Jitter returns
	// a number in [0, 1) that spreads retries. Tests replace both.
	Now    func() time.Time
	Jitter func() float64
	// Poll is the pause between passes; Lease how long a claim lasts
	// without news from its holder (a crashed node's subscriptions are
	// taken over after it).
	Poll  time.Duration
	Lease time.Duration
	// Owner names this worker in leases (random when empty).
	Owner string
	// AfterSend, when set, runs after a batch was answered and before the
	// answer is recorded: tests crash the worker there.
	AfterSend func(subscription string, status int)

	once sync.Once
}

func (w *Worker) init() {
	w.once.Do(func() {
		if w.Client == nil {
			w.Client = NewClient(false)
		}
		if w.Log == nil {
			w.Log = slog.Default()
		}
		if w.Now == nil {
			w.Now = time.Now
		}
		if w.Jitter == nil {
			w.Jitter = rand.Float64
		}
		if w.Poll <= 0 {
			w.Poll = DefaultPoll
		}
		if w.Lease <= 0 {
			w.Lease = DefaultLease
		}
		if w.Owner == "" {
			w.Owner = uuid.NewString()
		}
	})
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	w.init()
	for {
		if err := w.Pass(ctx); err != nil && ctx.Err() == nil {
			w.Log.Warn("webhook pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.Poll):
		}
	}
}

// Pass delivers, to every subscription that is due, the batches it is
// behind, and returns when they are answered.
func (w *Worker) Pass(ctx context.Context) error {
	w.init()
	head, _, err := w.DB.ChangeHead(ctx)
	if err != nil {
		return err
	}
	subs, err := w.DB.DueWebhookSubscriptions(ctx, w.Now(), head, 100)
	if err != nil {
		return err
	}
	sem := make(chan struct{}, maxConcurrency)
	var wg sync.WaitGroup
	for _, s := range subs {
		ok, err := w.DB.ClaimWebhookSubscription(ctx, s, w.Owner, w.Now(), w.Lease)
		if err != nil {
			return err
		}
		if !ok {
			continue // another node holds it
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := w.deliver(ctx, s, head); err != nil && ctx.Err() == nil {
				w.Log.Warn("webhook delivery failed", "subscription", s.ID, "err", err)
			}
		}()
	}
	wg.Wait()
	return nil
}

// deliver sends the batches of s up to head while it holds the lease.
func (w *Worker) deliver(ctx context.Context, s ordo.WebhookSubscription, head int64) error {
	for {
		events, err := w.Service.Changes(ctx, s.TenantID, s.Entities, s.Cursor, head, BatchSize)
		if err != nil {
			return err
		}
		if len(events) == 0 { // nothing for these entities up to head
			_, err := w.DB.RecordWebhookAttempt(ctx, s, w.Owner, sqlstore.WebhookOutcome{Cursor: head})
			return err
		}
		out := w.send(ctx, s, events)
		if w.AfterSend != nil {
			w.AfterSend(s.ID, out.Delivery.StatusCode)
		}
		more := out.Cursor > s.Cursor && len(events) == BatchSize
		if more {
			out.LeaseUntil = w.Now().Add(w.Lease)
		}
		ok, err := w.DB.RecordWebhookAttempt(ctx, s, w.Owner, out)
		if err != nil || !ok || !more {
			return err
		}
		s.Cursor, s.Attempts, s.FailingSince = out.Cursor, out.Attempts, out.FailingSince
	}
}

// send POSTs one batch and returns what it changes on the subscription.
func (w *Worker) send(ctx context.Context, s ordo.WebhookSubscription, events []service.ChangeEvent) sqlstore.WebhookOutcome {
	first, last := events[0].Position, events[len(events)-1].Position
	body := w.body(s.ID, events)
	d := ordo.WebhookDelivery{ID: uuid.NewString(), WebhookID: batchID(s.ID, first, last), SubscriptionID: s.ID,
		FirstPosition: first, LastPosition: last, Events: len(events)}
	start, began := w.Now(), time.Now()
	d.Attempted = start
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Ordo-Webhooks/1")
		req.Header.Set("Ordo-Webhook-Id", d.WebhookID)
		req.Header.Set("Ordo-Signature", Signature(s.Secret, start, body))
		var resp *http.Response
		if resp, err = w.Client.Do(req); err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			d.StatusCode = resp.StatusCode
			if resp.StatusCode < 200 || resp.StatusCode > 299 {
				err = fmt.Errorf("the receiver answered %s", resp.Status)
			}
		}
	}
	d.Duration = time.Since(began)
	out := sqlstore.WebhookOutcome{Delivery: d}
	if err == nil {
		out.Cursor = last
		return out
	}
	d.Error = err.Error()
	out.Delivery = d
	now := w.Now()
	out.Cursor, out.Attempts, out.FailingSince = s.Cursor, s.Attempts+1, s.FailingSince
	if out.FailingSince.IsZero() {
		out.FailingSince = start
	}
	if now.Sub(out.FailingSince) >= RetryWindow {
		out.Disable = true
		out.DisabledReason = fmt.Sprintf("deliveries failed for %s since %s (last: %s); set active to true to resume",
			RetryWindow, out.FailingSince.UTC().Format(time.RFC3339), d.Error)
		return out
	}
	out.NextAttempt = now.Add(Backoff(out.Attempts, w.Jitter()))
	return out
}

// Backoff is the pause before try attempts+1: exponential from MinBackoff
// to MaxBackoff, the upper half of it spread by jitter in [0, 1).
func Backoff(attempts int, jitter float64) time.Duration {
	d := MaxBackoff
	if attempts < 30 {
		d = min(MinBackoff<<max(attempts-1, 0), MaxBackoff)
	}
	return d/2 + time.Duration(jitter*float64(d/2))
}

// batchID is the Ordo-Webhook-Id of a batch: the same on every try of the
// same events, so that a receiver can drop a batch it already processed.
func batchID(subscription string, first, last int64) string {
	sum := sha256.Sum256([]byte(subscription + "/" + strconv.FormatInt(first, 10) + "/" + strconv.FormatInt(last, 10)))
	id, _ := uuid.FromBytes(sum[:16])
	return id.String()
}

// body is the JSON of a batch.
func (w *Worker) body(subscription string, events []service.ChangeEvent) []byte {
	b := []byte(`{"subscription_id":`)
	b = schema.AppendJSONString(b, subscription)
	b = append(b, `,"events":[`...)
	for i, ev := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"position":`...)
		b = strconv.AppendInt(b, ev.Position, 10)
		b = append(b, `,"entity":`...)
		b = schema.AppendJSONString(b, ev.Controller)
		b = append(b, `,"id":`...)
		b = schema.AppendJSONString(b, ev.ID)
		b = append(b, `,"op":`...)
		b = schema.AppendJSONString(b, string(ev.Op))
		modified := ev.Time
		if ev.Row != nil {
			if t := ev.Row.Time("modified_dateutc"); !t.IsZero() {
				modified = t
			}
		}
		b = append(b, `,"modified_dateutc":`...)
		b = schema.AppendJSONString(b, modified.UTC().Format(time.RFC3339Nano))
		if e, ok := w.DB.Registry().Entity(ev.Entity); ok && ev.Row != nil {
			b = append(b, `,"data":`...)
			b = rowjson.AppendRecord(b, e, ev.Row, "")
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}
