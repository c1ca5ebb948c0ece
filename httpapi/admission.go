package httpapi

import (
	"context"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/ordo-fsm/ordo"
)

// Admission bounds what one tenant may ask of a node at once, so that a
// burst from one tenant cannot push another's requests out. A tenant alone
// on the node may run up to MaxInFlightAlone requests at once (its ERP's
// parallel workers keep the node busy); as soon as another tenant is active
// (a request in the last second), each tenant is held to MaxInFlight, its
// fair share of the CPUs, and the surplus of a flooding tenant drains as its
// running requests end. Up to QueueLength more requests of a tenant wait (at
// most QueueWait) for a slot; beyond that a request is answered 429
// TooManyRequests with Retry-After. Optionally, a token bucket limits each
// tenant's request rate (Rate per second, Burst at once) and every answer
// carries RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset headers
// (IETF draft-ietf-httpapi-ratelimit-headers).
type Admission struct {
	MaxInFlight      int           // per tenant while others are active; default half the CPUs (at least 1)
	MaxInFlightAlone int           // per tenant while alone; default 2 × CPUs (at least 4, at least MaxInFlight)
	QueueLength      int           // per tenant; default 64; negative: no queue
	QueueWait        time.Duration // default 2 s
	Rate             float64       // requests per second per tenant; 0: no rate limit
	Burst            int           // default: Rate rounded up (at least 1)
}

// DefaultMaxInFlight is the per-tenant in-flight default while tenants
// share the node: half the CPUs, at least 1. One tenant's heavy requests
// then leave CPU time to the others: measured in TestTenantFairness on 2
// CPUs, another tenant's p50 was 35-55 ms with 1 in flight and 120-180 ms
// with 2 (docs/operations.md).
func DefaultMaxInFlight() int { return max(runtime.NumCPU()/2, 1) }

// DefaultMaxInFlightAlone is the default for a tenant alone on the node:
// 2 × CPUs, at least 4.
func DefaultMaxInFlightAlone() int { return max(2*runtime.NumCPU(), 4) }

// activeWindow: a tenant with a request admitted or finished this recently
// is active.
const activeWindow = time.Second

func (a Admission) withDefaults() Admission {
	if a.MaxInFlight <= 0 {
		a.MaxInFlight = DefaultMaxInFlight()
	}
	if a.MaxInFlightAlone <= 0 {
		a.MaxInFlightAlone = DefaultMaxInFlightAlone()
	}
	a.MaxInFlightAlone = max(a.MaxInFlightAlone, a.MaxInFlight)
	if a.QueueLength == 0 {
		a.QueueLength = 64
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

// admission holds the per-tenant gates. One mutex guards them all: each
// request takes it twice for a few map and slice operations.
type admission struct {
	cfg     Admission
	mu      sync.Mutex
	tenants map[int64]*tenantGate
}

type tenantGate struct {
	running  int
	waiters  []chan struct{} // FIFO; a closed channel is a granted slot
	lastSeen time.Time
	bucket   sync.Mutex // the token bucket
	tokens   float64
	last     time.Time
}

func newAdmission(cfg Admission) *admission {
	return &admission{cfg: cfg.withDefaults(), tenants: map[int64]*tenantGate{}}
}

// limit is tenant id's in-flight limit now (a.mu held): its fair share when
// another tenant is active, else the larger allowance.
func (a *admission) limit(id int64, now time.Time) int {
	for other, g := range a.tenants {
		if other == id {
			continue
		}
		if g.running > 0 || len(g.waiters) > 0 || now.Sub(g.lastSeen) < activeWindow {
			return a.cfg.MaxInFlight
		}
		if now.Sub(g.lastSeen) > time.Minute { // forget idle tenants
			delete(a.tenants, other)
		}
	}
	return a.cfg.MaxInFlightAlone
}

// admit waits for a slot of the tenant; it returns the function that gives
// the slot back, or the 429 to answer. Rate headers are set on w.
func (a *admission) admit(ctx context.Context, w http.ResponseWriter, tenant int64) (func(), error) {
	now := time.Now()
	a.mu.Lock()
	g := a.tenants[tenant]
	if g == nil {
		g = &tenantGate{tokens: float64(a.cfg.Burst), last: now}
		a.tenants[tenant] = g
	}
	g.lastSeen = now
	a.mu.Unlock()
	if a.cfg.Rate > 0 {
		if err := a.take(w, g); err != nil {
			return nil, err
		}
	}
	release := func() { a.release(tenant, g) }

	a.mu.Lock()
	if g.running < a.limit(tenant, now) && len(g.waiters) == 0 {
		g.running++
		a.mu.Unlock()
		return release, nil
	}
	if len(g.waiters) >= a.cfg.QueueLength {
		running := g.running
		a.mu.Unlock()
		return nil, a.tooMany("the tenant has %d requests running and %d waiting; retry shortly", running, a.cfg.QueueLength)
	}
	granted := make(chan struct{})
	g.waiters = append(g.waiters, granted)
	a.mu.Unlock()

	timer := time.NewTimer(a.cfg.QueueWait)
	defer timer.Stop()
	var err error
	select {
	case <-granted:
		return release, nil
	case <-timer.C:
		err = a.tooMany("the tenant's requests waited %s for a slot; retry shortly", a.cfg.QueueWait)
	case <-ctx.Done():
		err = ctx.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-granted: // granted while giving up: give the slot on
		g.running--
		a.grant(tenant, g, time.Now())
	default:
		for i, c := range g.waiters {
			if c == granted {
				g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
				break
			}
		}
	}
	return nil, err
}

func (a *admission) release(tenant int64, g *tenantGate) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	g.running--
	g.lastSeen = now
	a.grant(tenant, g, now)
}

// grant hands free slots to the tenant's first waiters (a.mu held).
func (a *admission) grant(tenant int64, g *tenantGate, now time.Time) {
	for len(g.waiters) > 0 && g.running < a.limit(tenant, now) {
		close(g.waiters[0])
		g.waiters = g.waiters[1:]
		g.running++
	}
}

func (a *admission) tooMany(format string, args ...any) error {
	e := ordo.Errorf(ordo.ETooMany, format, args...)
	e.RetryAfter = time.Second
	return e
}

// take spends a token of the tenant's bucket.
func (a *admission) take(w http.ResponseWriter, g *tenantGate) error {
	g.bucket.Lock()
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
	g.bucket.Unlock()

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
