package webhook

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// MinSecretLength is the shortest secret a subscription accepts.
const MinSecretLength = 16

// Manager is the API side of webhooks: subscriptions and the delivery log
// of a tenant.
type Manager struct {
	DB       *sqlstore.DB
	Registry *schema.Registry
	// AllowPrivate accepts URLs on loopback and private networks
	// (ordo serve --webhook-allow-private).
	AllowPrivate bool
	Now          func() time.Time
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// View is the JSON form of a subscription. It has no secret: the secret is
// write-only.
func (m *Manager) View(s ordo.WebhookSubscription) map[string]any {
	entities := make([]string, 0, len(s.Entities))
	for _, name := range s.Entities {
		if e, ok := m.Registry.Entity(name); ok {
			entities = append(entities, e.Controller)
		}
	}
	v := map[string]any{
		"id": s.ID, "url": s.URL, "entities": entities, "active": s.Active, "disabled_reason": s.DisabledReason,
		"position": s.Cursor, "failed_attempts": s.Attempts,
		"created_dateutc": s.Created.Format(time.RFC3339Nano), "modified_dateutc": s.Modified.Format(time.RFC3339Nano),
	}
	if !s.NextAttempt.IsZero() && s.Attempts > 0 {
		v["next_attempt_dateutc"] = s.NextAttempt.Format(time.RFC3339Nano)
	}
	return v
}

// apply sets the fields present in body on s.
func (m *Manager) apply(ctx context.Context, s *ordo.WebhookSubscription, body map[string]any, creating bool) (reactivated bool, err error) {
	for k, v := range body {
		switch k {
		case "url":
			str, ok := v.(string)
			if !ok {
				return false, ordo.FieldError("InvalidValue", "url", "url must be a string")
			}
			if err := CheckURL(ctx, str, m.AllowPrivate); err != nil {
				return false, err
			}
			s.URL = str
		case "secret":
			str, ok := v.(string)
			if !ok || len(str) < MinSecretLength || len(str) > 500 {
				return false, ordo.FieldError("InvalidValue", "secret", "secret must be a string of %d to 500 characters", MinSecretLength)
			}
			s.Secret = str
		case "entities":
			list, ok := v.([]any)
			if !ok && v != nil {
				return false, ordo.FieldError("InvalidValue", "entities", "entities must be an array of entity set names, e.g. [\"Jobs\", \"JobPlanning\"]")
			}
			var names []string
			for _, it := range list {
				str, _ := it.(string)
				e, ok := m.Registry.ByController(str)
				if !ok {
					return false, ordo.FieldError("InvalidValue", "entities", "entities: %q is not an entity set", str)
				}
				names = append(names, e.Name)
			}
			sort.Strings(names)
			s.Entities = compact(names)
		case "active":
			b, ok := v.(bool)
			if !ok {
				return false, ordo.FieldError("InvalidValue", "active", "active must be true or false")
			}
			if b && !s.Active { // (re)activated: tries start afresh from where delivery stopped
				s.Attempts, s.FailingSince, s.NextAttempt, s.DisabledReason = 0, time.Time{}, time.Time{}, ""
				reactivated = true
			}
			s.Active = b
		case "id", "disabled_reason", "position", "failed_attempts", "created_dateutc", "modified_dateutc", "next_attempt_dateutc":
			if !creating {
				continue // read-only fields sent back unchanged are ignored
			}
			if k != "id" {
				return false, ordo.FieldError("ReadOnly", k, "%s is read-only", k)
			}
			str, _ := v.(string)
			id, err := schema.ParseGUID(str)
			if err != nil {
				return false, ordo.FieldError("InvalidValue", "id", "id must be a GUID")
			}
			s.ID = id
		default:
			return false, ordo.FieldError("UnknownField", k, "%s is not a field of WebhookSubscriptions", k)
		}
	}
	if s.URL == "" {
		return false, ordo.FieldError("Required", "url", "url is required")
	}
	if s.Secret == "" {
		return false, ordo.FieldError("Required", "secret", "secret is required (it signs every delivery and is never returned)")
	}
	return reactivated, nil
}

func compact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Create adds a subscription; it receives the changes committed from now on.
func (m *Manager) Create(ctx context.Context, tenant int64, body map[string]any) (ordo.WebhookSubscription, error) {
	now := m.now()
	s := ordo.WebhookSubscription{TenantID: tenant, ID: uuid.NewString(), Active: true, Created: now, Modified: now}
	if _, err := m.apply(ctx, &s, body, true); err != nil {
		return s, err
	}
	head, _, err := m.DB.ChangeHead(ctx)
	if err != nil {
		return s, err
	}
	s.Cursor = head
	if err := m.DB.SaveWebhookSubscription(ctx, s, true, false); err != nil {
		return s, err
	}
	return s, nil
}

// Get returns one subscription.
func (m *Manager) Get(ctx context.Context, tenant int64, id string) (ordo.WebhookSubscription, error) {
	subs, err := m.DB.WebhookSubscriptions(ctx, tenant, id)
	if err != nil {
		return ordo.WebhookSubscription{}, err
	}
	if len(subs) == 0 {
		return ordo.WebhookSubscription{}, ordo.Errorf(ordo.ENotFound, "WebhookSubscriptions %s not found", id)
	}
	return subs[0], nil
}

// List returns the tenant's subscriptions.
func (m *Manager) List(ctx context.Context, tenant int64) ([]ordo.WebhookSubscription, error) {
	return m.DB.WebhookSubscriptions(ctx, tenant, "")
}

// Update changes the fields present in body.
func (m *Manager) Update(ctx context.Context, tenant int64, id string, body map[string]any) (ordo.WebhookSubscription, error) {
	s, err := m.Get(ctx, tenant, id)
	if err != nil {
		return s, err
	}
	reactivated, err := m.apply(ctx, &s, body, false)
	if err != nil {
		return s, err
	}
	s.Modified = m.now()
	return s, m.DB.SaveWebhookSubscription(ctx, s, false, reactivated)
}

// Delete removes a subscription and its delivery log.
func (m *Manager) Delete(ctx context.Context, tenant int64, id string) error {
	return m.DB.DeleteWebhookSubscription(ctx, tenant, id)
}

// Deliveries lists the latest delivery attempts (of one subscription when
// subscription is set) as JSON objects.
func (m *Manager) Deliveries(ctx context.Context, tenant int64, subscription string, limit int) ([]map[string]any, error) {
	ds, err := m.DB.WebhookDeliveries(ctx, tenant, subscription, limit)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(ds))
	for i, d := range ds {
		out[i] = map[string]any{
			"id": d.ID, "webhook_id": d.WebhookID, "subscription_id": d.SubscriptionID,
			"attempted_dateutc": d.Attempted.Format(time.RFC3339Nano), "first_position": d.FirstPosition,
			"last_position": d.LastPosition, "events": d.Events, "status_code": d.StatusCode, "error": d.Error,
			"duration_ms": float64(d.Duration.Microseconds()) / 1000,
		}
	}
	return out, nil
}
