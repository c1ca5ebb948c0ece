// Package auth verifies HTTP Basic credentials of the form
// user:password@domain, where the domain names the tenant.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// Cost is the bcrypt cost of new password hashes.
var Cost = bcrypt.DefaultCost

// HashPassword returns the slow hash stored for a password.
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", ordo.Errorf(ordo.EInvalid, "the password is empty")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), Cost)
	return string(h), err
}

var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such user"), Cost)
	return h
})

// Authenticator checks credentials. A successful bcrypt verification is
// cached under an HMAC of the whole credential string (keyed with a random
// per-process secret, so the cache never holds a password or a reusable hash
// of one). Whenever a credential changes, every entry is checked again on
// its next use: at once for a change made through this process, and on
// PostgreSQL, where every change is notified to every node
// (sqlstore/credwatch.go), as soon as the notification arrives
// (milliseconds). Checking an entry is one indexed read: the stored hash
// must still be the one that was verified. (Emptying the cache instead made
// every client of every node verify its password again after any change,
// through the failed-login throttle.) While a node cannot be sure to learn
// of changes (SQLite, where other processes may change the file; a lost
// listener connection), every cache hit is checked that way. An entry
// checked before the listener's current connection is read once more, then
// trusted.
type Authenticator struct {
	db    *sqlstore.DB
	key   []byte
	mu    sync.Mutex
	cache map[[32]byte]cached
	// generation counts credential changes: an entry stored before the
	// current one is checked again on its next use, and a verification
	// that began before a change is not cached after it.
	generation uint64
	throttle   *throttle // failed-login limits (throttle.go)
}

type cached struct {
	principal ordo.Principal
	hash      string
	epoch     uint64 // the listening epoch the hash was last read in (0: none)
	gen       uint64 // the credential generation it was last read in
}

// maxCached bounds the cache; when full it is cleared (cheap, and rare).
const maxCached = 10000

// New returns an Authenticator on db.
func New(db *sqlstore.DB) *Authenticator {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	a := &Authenticator{db: db, key: key, cache: map[[32]byte]cached{}, throttle: newThrottle(Limits{})}
	db.OnCredentialChange(func() {
		a.mu.Lock()
		a.generation++ // every entry is checked again on its next use
		a.mu.Unlock()
	})
	return a
}

// Watching reports whether cached credentials are trusted without a re-read
// (every credential change reaches this node; see Authenticator).
func (a *Authenticator) Watching() bool { return a.db.CredentialEpoch() != 0 }

// SetLimits replaces the failed-login limits (before serving).
func (a *Authenticator) SetLimits(l Limits) { a.throttle = newThrottle(l) }

// ParseBasic splits an Authorization header into user, password and domain:
// the domain follows the LAST @, the password the FIRST colon. Credentials
// holding a NUL or invalid UTF-8, or a domain with spaces around it, are not
// credentials (401): the domain must match a tenant's exactly, apart from
// letter case.
func ParseBasic(header string) (user, password, domain string, ok bool) {
	const prefix = "Basic "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header[len(prefix):]))
	if err != nil {
		return "", "", "", false
	}
	s := string(raw)
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", "", "", false
	}
	s, domain = s[:at], s[at+1:]
	user, password, ok = strings.Cut(s, ":")
	if !ok || user == "" || domain == "" || !plausible(user, password, domain) {
		return "", "", "", false
	}
	return user, password, domain, true
}

// Authenticate checks an Authorization header, without counting failures
// per client address.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (ordo.Principal, error) {
	return a.AuthenticateFrom(ctx, header, "")
}

// AuthenticateFrom checks an Authorization header sent from client address
// addr. Failed attempts are counted and, past the limits, refused with
// ETooMany before any password hash is computed (see throttle).
func (a *Authenticator) AuthenticateFrom(ctx context.Context, header, addr string) (ordo.Principal, error) {
	user, password, domain, ok := ParseBasic(header)
	if !ok {
		return ordo.Principal{}, ordo.Errorf(ordo.EUnauthorized, "send HTTP Basic credentials as user:password@domain")
	}
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(header))
	var k [32]byte
	copy(k[:], mac.Sum(nil))

	epoch := a.db.CredentialEpoch() // before any read: changes after it are signalled
	a.mu.Lock()
	c, hit := a.cache[k]
	generation := a.generation
	a.mu.Unlock()
	if hit && epoch != 0 && c.epoch == epoch && c.gen == generation {
		return c.principal, nil
	}
	if hit {
		current, err := a.db.PasswordHash(ctx, c.principal.CredentialID)
		if err != nil {
			return ordo.Principal{}, err
		}
		if current == c.hash {
			a.mu.Lock()
			if a.generation == generation {
				c.epoch, c.gen = epoch, generation
				a.cache[k] = c
			}
			a.mu.Unlock()
			return c.principal, nil
		}
		a.mu.Lock()
		delete(a.cache, k)
		a.mu.Unlock()
	}
	if err := a.throttle.admit(ctx, domain, user, addr); err != nil {
		return ordo.Principal{}, err
	}
	cred, err := a.verify(ctx, user, password, domain)
	if err != nil {
		if ordo.IsCode(err, ordo.EUnauthorized) {
			a.throttle.failed(ctx, domain, user, addr)
		}
		return ordo.Principal{}, err
	}
	a.throttle.succeeded(domain, user)
	p := ordo.Principal{TenantID: cred.TenantID, Domain: cred.Domain, CredentialID: cred.ID, Username: cred.Username}
	a.mu.Lock()
	if len(a.cache) >= maxCached {
		clear(a.cache)
	}
	if a.generation == generation {
		a.cache[k] = cached{principal: p, hash: cred.PasswordHash, epoch: epoch, gen: generation}
	}
	a.mu.Unlock()
	return p, nil
}

// plausible refuses what no stored credential can match, before any lookup:
// text PostgreSQL cannot even compare (NUL, invalid UTF-8) and a domain with
// surrounding white space (no trimming: "u:p@ ACME" is not ACME).
func plausible(user, password, domain string) bool {
	for _, s := range [...]string{user, password, domain} {
		if schema.CheckText(s) != "" {
			return false
		}
	}
	return domain == strings.TrimSpace(domain)
}

// verify looks the credential up and compares the password, holding one of
// the limited verification slots for the bcrypt work.
func (a *Authenticator) verify(ctx context.Context, user, password, domain string) (sqlstore.Credential, error) {
	cred, err := a.db.CredentialByLogin(ctx, domain, user)
	if err != nil && !ordo.IsCode(err, ordo.EUnauthorized) {
		return cred, err
	}
	if err := a.throttle.acquire(ctx); err != nil {
		return cred, err
	}
	defer a.throttle.release()
	if err != nil {
		// Pay a hash anyway, so timing does not tell unknown users apart.
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return cred, ordo.Errorf(ordo.EUnauthorized, "wrong user, password or domain")
	}
	if bcrypt.CompareHashAndPassword([]byte(cred.PasswordHash), []byte(password)) != nil {
		return cred, ordo.Errorf(ordo.EUnauthorized, "wrong user, password or domain")
	}
	return cred, nil
}
