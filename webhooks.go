package ordo

import "time"

// WebhookSubscription asks for the changes of some entities of a tenant to
// be POSTed to URL, signed with Secret (never returned by the API).
type WebhookSubscription struct {
	TenantID       int64
	ID             string
	URL            string
	Secret         string
	Entities       []string // registry names; empty: every entity
	Active         bool
	DisabledReason string
	Created        time.Time
	Modified       time.Time
	// Delivery state: Cursor is the last change-log position acknowledged;
	// after a failure Attempts counts the tries, FailingSince is the first
	// failure and NextAttempt the time of the next try.
	Cursor       int64
	Attempts     int
	FailingSince time.Time
	NextAttempt  time.Time
}

// WebhookDelivery is one attempt to deliver a batch of events.
type WebhookDelivery struct {
	ID             string // unique per attempt
	WebhookID      string // the Ordo-Webhook-Id header: the same for every try of one batch
	SubscriptionID string
	Attempted      time.Time
	FirstPosition  int64
	LastPosition   int64
	Events         int
	StatusCode     int // 0 when no answer came
	Error          string
	Duration       time.Duration
}
