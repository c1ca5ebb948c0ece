package httpapi

import (
	"context"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordo-fsm/ordo"
)

// Admission bounds what one tenant may ask of a node at once, so that a
// burst from one tenant cannot push another's requests out: a tenant has at
// most MaxInFlight requests running; up to QueueLength more wait (at most
// QueueWait) for a slot; beyond that a request is answered 429
// TooManyRequests with Retry-After. Optionally, a token bucket limits each
// tenant's request rate (Rate per second, Burst at once) and every answer
// carries RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset headers
// (IETF draft-ietf-httpapi-ratelimit-headers).
type Admission struct {
	MaxInFlight int           // per tenant; default half the CPUs (at least 1)
	QueueLength int           // per tenant; default 2 × MaxInFlight; negative: no queue
	QueueWait   time.Duration // default 2 s
	Rate        float64       // requests per second per tenant; 0: no rate limit
	Burst       int           // default: Rate rounded up (at least 1)
}

// DefaultMaxInFlight is the per-tenant in-flight default: half the CPUs,
// at least 1. One tenant's heavy requests then leave CPU time to the others:
// measured in TestTenantFairness on 2 CPUs, another tenant's p50 was 45 ms
// with 1 in flight and 120-180 ms with 2 (docs/operations.md).
func DefaultMaxInFlight() int { return max(runtime.NumCPU()/2, 1) }

func (a Admission) withDefaults() Admission {
	if a.MaxInFlight <= 0 {
		a.MaxInFlight = DefaultMaxInFlight()
	}
	if a.QueueLength == 0 {
		a.QueueLength = 2 * a.MaxInFlight
	}
	if a.QueueLength < 0 {
		a.QueueLength = 0
	}
	if a.QueueWait <= 0 {
		a.QueueWait = 2 * time.Second
	}
	if a.Rate > 0 && a.Burst <= 0 {
		a.Burst = max(int(math.Ceil(a.Rate)), 1)
	}
	return a
}

// admission holds the per-tenant gates.
type admission struct {
	cfg     Admission
	mu      sync.Mutex
	tenants map[int64]*tenantGate
}

type tenantGate struct {
	slots   chan struct{}
	waiting atomic.Int64
	mu      sync.Mutex // the token bucket
	tokens  float64
	last    time.Time
}

func newAdmission(cfg Admission) *admission {
	return &admission{cfg: cfg.withDefaults(), tenants: map[int64]*tenantGate{}}
}

func (a *admission) gate(tenant int64) *tenantGate {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.tenants[tenant]
	if g == nil {
		g = &tenantGate{slots: make(chan struct{}, a.cfg.MaxInFlight), tokens: float64(a.cfg.Burst), last: time.Now()}
		a.tenants[tenant] = g
	}
	return g
}

// admit waits for a slot of the tenant; it returns the function that gives
// the slot back, or the 429 to answer. Rate headers are set on w.
func (a *admission) admit(ctx context.Context, w http.ResponseWriter, tenant int64) (func(), error) {
	g := a.gate(tenant)
	if a.cfg.Rate > 0 {
		if err := a.take(w, g); err != nil {
			return nil, err
		}
	}
	release := func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	if g.waiting.Add(1) > int64(a.cfg.QueueLength) {
		g.waiting.Add(-1)
		return nil, a.tooMany("the tenant has %d requests running and %d waiting; retry shortly", a.cfg.MaxInFlight, a.cfg.QueueLength)
	}
	defer g.waiting.Add(-1)
	timer := time.NewTimer(a.cfg.QueueWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, a.tooMany("the tenant's requests waited %s for one of its %d slots; retry shortly", a.cfg.QueueWait, a.cfg.MaxInFlight)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (a *admission) tooMany(format string, args ...any) error {
	e := ordo.Errorf(ordo.ETooMany, format, args...)
	e.RetryAfter = time.Second
	return e
}

// take spends a token of the tenant's bucket.
func (a *admission) take(w http.ResponseWriter, g *tenantGate) error {
	g.mu.Lock()
	now := time.Now()
	g.tokens = math.Min(float64(a.cfg.Burst), g.tokens+now.Sub(g.last).Seconds()*a.cfg.Rate)
	g.last = now
	ok := g.tokens >= 1
	if ok {
		g.tokens--
	}
	remaining := int(g.tokens)
	// Seconds until the bucket is full again (RateLimit-Reset) and until
	// the next token (Retry-After).
	reset := time.Duration((float64(a.cfg.Burst) - g.tokens) / a.cfg.Rate * float64(time.Second))
	next := time.Duration((1 - g.tokens) / a.cfg.Rate * float64(time.Second))
	g.mu.Unlock()

	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(a.cfg.Burst))
	h.Set("RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("RateLimit-Reset", retryAfter(reset))
	if ok {
		return nil
	}
	e := ordo.Errorf(ordo.ETooMany, "the tenant's request rate is limited to %g per second (bursts of %d); retry shortly", a.cfg.Rate, a.cfg.Burst)
	e.RetryAfter = next
	return e
}
