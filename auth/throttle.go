package auth

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordo-fsm/ordo"
)

// Limits bound what failed logins may cost. Zero values take the defaults.
type Limits struct {
	// Window is the sliding window failures are counted in (default 1 min).
	Window time.Duration
	// MaxFailuresPerUser is how many failed logins a user of a tenant may
	// have in the window before further attempts are refused (default 10);
	// negative disables the count.
	MaxFailuresPerUser int
	// MaxFailuresPerAddress is the same per client address, whatever user
	// it tries (default 30); negative disables it.
	MaxFailuresPerAddress int
	// MaxVerifications bounds the bcrypt verifications running at once
	// (default: the number of CPUs), so a flood of logins cannot starve
	// other work of CPU.
	MaxVerifications int
	// Logger receives the throttling counters (default slog.Default()).
	Logger *slog.Logger
}

func (l Limits) withDefaults() Limits {
	if l.Window <= 0 {
		l.Window = time.Minute
	}
	if l.MaxFailuresPerUser == 0 {
		l.MaxFailuresPerUser = 10
	}
	if l.MaxFailuresPerAddress == 0 {
		l.MaxFailuresPerAddress = 30
	}
	if l.MaxVerifications <= 0 {
		l.MaxVerifications = runtime.NumCPU()
	}
	if l.Logger == nil {
		l.Logger = slog.Default()
	}
	return l
}

// throttle decides, before any password hash is computed, whether a login
// attempt may be verified at all:
//
//   - an address with MaxFailuresPerAddress failures in the window is
//     refused, whatever user it tries;
//   - a user (of a tenant) with MaxFailuresPerUser failures in the window is
//     refused from every address that itself failed in the window. An
//     address with a clean record still gets its attempt verified, so the
//     right password from another place keeps working while an attacker is
//     locked out, and a distributed guesser gets one attempt per address.
//
// Credentials already verified by this node (the credential cache) are never
// throttled: they cost no hash. Refusals answer 429 with Retry-After, the
// time until the oldest counted failure leaves the window.
type throttle struct {
	limits         Limits
	users, addrs   *window
	verify         chan struct{} // a slot per concurrent bcrypt verification
	refused, fails atomic.Int64
	lastLog        atomic.Int64 // unix nanos of the last counter line
}

func newThrottle(l Limits) *throttle {
	l = l.withDefaults()
	return &throttle{limits: l, users: newWindow(l.Window), addrs: newWindow(l.Window),
		verify: make(chan struct{}, l.MaxVerifications)}
}

func userKey(domain, user string) string { return strings.ToLower(domain) + "\x00" + user }

// admit returns a 429 error when the attempt must not be verified.
func (t *throttle) admit(ctx context.Context, domain, user, addr string) error {
	now := time.Now()
	addrFails, addrWait := 0, time.Duration(0)
	if addr != "" {
		addrFails, addrWait = t.addrs.count(addr, now)
	}
	var wait time.Duration
	switch {
	case t.limits.MaxFailuresPerAddress > 0 && addr != "" && addrFails >= t.limits.MaxFailuresPerAddress:
		wait = addrWait
	case t.limits.MaxFailuresPerUser > 0 && (addr == "" || addrFails > 0):
		if n, userWait := t.users.count(userKey(domain, user), now); n >= t.limits.MaxFailuresPerUser {
			wait = userWait
		}
	}
	if wait <= 0 {
		return nil
	}
	t.refused.Add(1)
	t.logCounters(ctx, "login throttled", domain, addr)
	e := ordo.Errorf(ordo.ETooMany, "too many failed logins; retry in %d s", int64((wait+time.Second-1)/time.Second))
	e.RetryAfter = wait
	return e
}

// failed counts a failed attempt; succeeded clears the user's count.
func (t *throttle) failed(ctx context.Context, domain, user, addr string) {
	now := time.Now()
	t.fails.Add(1)
	t.users.add(userKey(domain, user), now, t.limits.MaxFailuresPerUser)
	if addr != "" {
		t.addrs.add(addr, now, t.limits.MaxFailuresPerAddress)
	}
}

func (t *throttle) succeeded(domain, user string) { t.users.reset(userKey(domain, user)) }

// acquire takes a verification slot, waiting for one at most until ctx ends.
func (t *throttle) acquire(ctx context.Context) error {
	select {
	case t.verify <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ordo.Errorf(ordo.EUnavailable, "the request ended while waiting for a password verification slot")
	}
}

func (t *throttle) release() { <-t.verify }

// logCounters writes the throttling counters at most every 10 s.
func (t *throttle) logCounters(ctx context.Context, msg, domain, addr string) {
	now := time.Now().UnixNano()
	last := t.lastLog.Load()
	if now-last < int64(10*time.Second) || !t.lastLog.CompareAndSwap(last, now) {
		return
	}
	t.limits.Logger.LogAttrs(ctx, slog.LevelWarn, msg,
		slog.Int64("login_throttled_total", t.refused.Load()), slog.Int64("login_failed_total", t.fails.Load()),
		slog.String("domain", domain), slog.String("addr", addr))
}

// window counts events per key over a sliding window: it keeps the times of
// the most recent events (no more than the limit needs), so a count is exact
// and memory per key is bounded.
type window struct {
	span time.Duration
	mu   sync.Mutex
	keys map[string][]time.Time
}

// maxKeys bounds the keys a window remembers; past it, keys whose events
// all left the window are dropped.
const maxKeys = 100_000

func newWindow(span time.Duration) *window {
	return &window{span: span, keys: map[string][]time.Time{}}
}

// count returns the events of key within the window and how long until the
// oldest of them leaves it.
func (w *window) count(key string, now time.Time) (int, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := w.live(key, now)
	if len(ts) == 0 {
		return 0, 0
	}
	return len(ts), ts[0].Add(w.span).Sub(now)
}

func (w *window) add(key string, now time.Time, limit int) {
	if limit <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.keys) >= maxKeys {
		w.sweep(now)
	}
	ts := append(w.live(key, now), now)
	if len(ts) > limit { // only the newest limit events matter
		ts = ts[len(ts)-limit:]
	}
	w.keys[key] = ts
}

func (w *window) reset(key string) {
	w.mu.Lock()
	delete(w.keys, key)
	w.mu.Unlock()
}

// live drops the events of key that left the window.
func (w *window) live(key string, now time.Time) []time.Time {
	ts := w.keys[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= w.span {
		i++
	}
	if i == len(ts) {
		delete(w.keys, key)
		return nil
	}
	return ts[i:]
}

func (w *window) sweep(now time.Time) {
	for k := range w.keys {
		w.live(k, now)
	}
	if len(w.keys) >= maxKeys { // an attack with more keys than that: start afresh
		clear(w.keys)
	}
}
