package service

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"sync"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// Re-sent PUTs.
//
// ERPs re-send whole records, most of them unchanged: a full re-sync, a
// retry, a record pushed again because something else of it changed. Such a
// PUT changes nothing but the row's touch fields (modified_dateutc, its
// version token, date_update unless the body gives it), yet the full path
// decodes the body, reads every row it names, resolves and compares each
// embedded object.
//
// The full path is deterministic given the request and what it reads. So
// when a run turns out to be a touch, the service remembers, under the
// request's key (tenant, credential, method, URL, exact body bytes), every
// read it made (entity and conditions), the rows each returned (id and
// version token), and the row it wrote with its new version. The next time
// the same key arrives, one statement re-runs those reads narrowly (id and
// token only); if every read returns the same rows at the same versions, the
// full path would touch the row and nothing else, so the service does
// exactly that, on condition that the row still holds the version it wrote
// (a conditional UPDATE, which also orders it after any concurrent writer of
// the row). Any difference, or a read the check cannot repeat (a filter, a
// count), falls back to the full path. The memory is per process and
// bounded: it only ever saves work.

// ResendKey names one exact write request.
type ResendKey [sha256.Size]byte

// NewResendKey names a request by its sender (tenant and credential) and a
// fingerprint of its method, URL and exact body bytes.
func NewResendKey(tenant, credential int64, request string) ResendKey {
	h := sha256.New()
	var n [16]byte
	binary.LittleEndian.PutUint64(n[:8], uint64(tenant))
	binary.LittleEndian.PutUint64(n[8:], uint64(credential))
	h.Write(n[:])
	h.Write([]byte(request))
	var k ResendKey
	h.Sum(k[:0])
	return k
}

// DefaultResendMemory bounds the remembered requests of one process (about
// 6 KB each for the seed-shaped job: its reads and its row).
const DefaultResendMemory = 10000

type resendEntry struct {
	entity          *schema.Entity
	id              string
	reads           []ordo.EntityQuery
	expect          [][]ordo.RowVersion // the rows each read returned (the row's own token as "")
	touchDateUpdate bool                // the body does not give date_update: the touch sets it

	// turn lets one touch of this request run at a time in this process:
	// copies of it sent concurrently would queue on the row's lock in the
	// database anyway, where waiting costs more (PostgreSQL serves one hot
	// row at half its rate with 8 waiters) and each would then find a
	// version it did not expect.
	turn chan struct{}

	mu     sync.Mutex
	values []any // the row as last written, a value per field of entity
	// written are the version tokens of this request's last writes, newest
	// last. A row holding any of them holds values (touch fields aside), so
	// a touch accepts any of them: a full-path run of the same request,
	// which takes no turn, may commit between two touches.
	written []string
	writes  int // writes recorded so far
}

// keepWritten bounds an entry's written tokens.
const keepWritten = 4

// current returns a copy of the row as last written (without its token).
func (en *resendEntry) current() ordo.Record {
	en.mu.Lock()
	defer en.mu.Unlock()
	rec := make(ordo.Record, len(en.values)+1)
	for i, f := range en.entity.Fields {
		rec[f.Name] = en.values[i]
	}
	return rec
}

// wrote records the row a request wrote (the full path's run, or a touch:
// then only its touch fields and token differ).
func (en *resendEntry) wrote(rec ordo.Record) {
	values := make([]any, len(en.entity.Fields))
	for i, f := range en.entity.Fields {
		values[i] = rec[f.Name]
	}
	token, _ := rec[ordo.ETagKey].(string)
	en.mu.Lock()
	defer en.mu.Unlock()
	en.values = values
	if len(en.written) == keepWritten {
		en.written = slices.Delete(en.written, 0, 1)
	}
	en.written = append(en.written, token)
	en.writes++
}

// accepted lists the tokens a touch accepts on the row: all, or given
// If-Match, those it names; and how many writes were recorded then.
func (en *resendEntry) accepted(ifMatch string) (tokens []string, writes int) {
	en.mu.Lock()
	defer en.mu.Unlock()
	for _, tok := range en.written {
		if ifMatch == "" || MatchETag(ifMatch, `"`+tok+`"`) {
			tokens = append(tokens, tok)
		}
	}
	return tokens, en.writes
}

// wroteSince reports whether a write was recorded since n were.
func (en *resendEntry) wroteSince(n int) bool {
	en.mu.Lock()
	defer en.mu.Unlock()
	return en.writes > n
}

type resendMemory struct {
	mu      sync.Mutex
	max     int
	entries map[ResendKey]*resendEntry
}

// on reports whether requests are remembered at all.
func (m *resendMemory) on() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max > 0
}

func (m *resendMemory) get(k ResendKey) *resendEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entries[k]
}

// learn remembers what a full-path run of request k did (e) and the row it
// wrote. A run that read the same rows at the same versions as the entry
// already remembered wrote the same row (the full path is deterministic),
// so that entry is kept and learns the new token: touches under way with it
// stay valid.
func (m *resendMemory) learn(k ResendKey, e *resendEntry, rec ordo.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.max <= 0 {
		return
	}
	if old := m.entries[k]; old != nil && old.sameRun(e) {
		old.wrote(rec)
		return
	}
	if len(m.entries) >= m.max {
		clear(m.entries) // cheap, and rare: a full memory is simply relearnt
	}
	e.wrote(rec)
	m.entries[k] = e
}

// sameRun: e remembers the same reads, with the same results.
func (en *resendEntry) sameRun(e *resendEntry) bool {
	return en.entity == e.entity && en.id == e.id && en.touchDateUpdate == e.touchDateUpdate &&
		reflect.DeepEqual(en.reads, e.reads) && reflect.DeepEqual(en.expect, e.expect)
}

// dropIf forgets k if it still names e (and not a newer entry).
func (m *resendMemory) dropIf(k ResendKey, e *resendEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries[k] == e {
		delete(m.entries, k)
	}
}

// SetResendMemory bounds the remembered re-sendable requests (0 disables
// the shortcut).
func (s *Service) SetResendMemory(n int) {
	s.resend.mu.Lock()
	defer s.resend.mu.Unlock()
	s.resend.max = n
	clear(s.resend.entries)
}

// UpdateKeyed is Update for a request known by its key (keyOf, asked only
// while the memory is on): a request that is known to only touch the row,
// and whose reads still return the same rows, is answered by touching the
// row; otherwise decode gives the body and the full Update runs,
// remembering the request when it only touched the row.
func (s *Service) UpdateKeyed(ctx context.Context, tenant int64, e *schema.Entity, id string, keyOf func() ResendKey,
	ifMatch string, decode func() (map[string]any, error)) (ordo.Record, error) {
	var key *ResendKey
	if s.resend.on() { // with the memory off, neither the key nor the recording
		k := keyOf()
		key = &k
		if s.resend.get(k) != nil {
			rec, err := s.touch(ctx, tenant, e, id, k, ifMatch)
			if !errors.Is(err, errNotHere) {
				return rec, err
			}
		}
	}
	body, err := decode()
	if err != nil {
		return nil, err
	}
	return s.update(ctx, tenant, e, id, body, ifMatch, key)
}

// errNotHere: the full path answers this request.
var errNotHere = errors.New("service: the full path answers this request")

// touch answers a remembered request: the reads are checked and the row
// touched as the full path would, if it still holds the version last written
// (an ordo.CheckedTouch: one statement on PostgreSQL). It reports errNotHere
// when the full path must answer.
func (s *Service) touch(ctx context.Context, tenant int64, e *schema.Entity, id string, key ResendKey, ifMatch string) (ordo.Record, error) {
	// A full-path run of the same request may write the row between the
	// moment a touch lists the versions it accepts and its UPDATE: then the
	// touch is tried again.
	for attempt := 0; attempt < 4; attempt++ {
		entry := s.resend.get(key)
		if entry == nil || entry.entity != e || entry.id != id {
			return nil, errNotHere
		}
		changes := touchFields(e, ordo.Record{}, ordo.Record{}, entry.touchDateUpdate, schema.NormalizeDate(s.Now()))
		var rec ordo.Record
		writes := 0
		t := &ordo.CheckedTouch{Entity: e, ID: id, Reads: entry.reads, Expect: entry.expect, Changes: changes,
			// Asked inside the store's transaction: on SQLite a request
			// that waited for another's commit sees what it wrote.
			Versions: func() []string {
				var versions []string
				versions, writes = entry.accepted(ifMatch)
				return versions
			},
			// Recorded before commit where the store has a transaction;
			// a failed commit leaves a token no row holds.
			Written: func() {
				rec = entry.current()
				for k, v := range changes { // the touch fields and the new token
					rec[k] = v
				}
				entry.wrote(rec)
			}}
		if len(e.Lists) > 0 {
			t.Then = func(tx ordo.Tx) error { return loadLists(ctx, tx, e, []ordo.Record{rec}) }
		}
		select {
		case entry.turn <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		outcome, err := s.store.Touch(ctx, tenant, t)
		<-entry.turn
		switch {
		case err != nil:
			return nil, err
		case outcome == ordo.Touched:
			return rec, nil
		case outcome == ordo.ReadsDiffer:
			s.resend.dropIf(key, entry)
			return nil, errNotHere
		case ifMatch != "":
			return nil, errNotHere // the full path tells a changed row from a stale If-Match
		case !entry.wroteSince(writes):
			s.resend.dropIf(key, entry) // the row changed otherwise
			return nil, errNotHere
		}
	}
	return nil, errNotHere
}

// touchFields sets the fields every update of a row changes, in rec and in
// diff, and returns diff. date_update is the request's time (now) unless the
// body gave it (then a re-sent body keeps it, and stays idempotent).
func touchFields(e *schema.Entity, rec, diff ordo.Record, dateUpdate bool, now any) ordo.Record {
	if _, ok := e.Field("date_update"); ok && dateUpdate {
		if _, given := diff["date_update"]; !given {
			rec["date_update"], diff["date_update"] = now, now
		}
	}
	rec["modified_dateutc"], diff["modified_dateutc"] = now, now
	return diff
}
