package service

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"slices"
	"strings"
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
	fingerprint     [sha256.Size]byte // of the rows each read returned
	touchDateUpdate bool              // the body does not give date_update: the touch sets it

	mu      sync.Mutex
	values  []any  // the row as last written, a value per field of entity
	version string // its version token
}

// current returns a copy of the row as last written and its version.
func (en *resendEntry) current() (ordo.Record, string) {
	en.mu.Lock()
	defer en.mu.Unlock()
	rec := make(ordo.Record, len(en.values)+1)
	for i, f := range en.entity.Fields {
		rec[f.Name] = en.values[i]
	}
	rec[ordo.ETagKey] = en.version
	return rec, en.version
}

// written records the row a request wrote.
func (en *resendEntry) written(rec ordo.Record) {
	values := make([]any, len(en.entity.Fields))
	for i, f := range en.entity.Fields {
		values[i] = rec[f.Name]
	}
	version, _ := rec[ordo.ETagKey].(string)
	en.mu.Lock()
	defer en.mu.Unlock()
	en.values, en.version = values, version
}

type resendMemory struct {
	mu      sync.Mutex
	max     int
	entries map[ResendKey]*resendEntry
}

func (m *resendMemory) get(k ResendKey) *resendEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entries[k]
}

func (m *resendMemory) put(k ResendKey, e *resendEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.max <= 0 {
		return
	}
	if len(m.entries) >= m.max {
		clear(m.entries) // cheap, and rare: a full memory is simply relearnt
	}
	m.entries[k] = e
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

// UpdateKeyed is Update for a request known by its key: a request that is
// known to only touch the row, and whose reads still return the same rows,
// is answered by touching the row; otherwise decode gives the body and the
// full Update runs, remembering the request when it only touched the row.
func (s *Service) UpdateKeyed(ctx context.Context, tenant int64, e *schema.Entity, id string, key ResendKey,
	ifMatch string, decode func() (map[string]any, error)) (ordo.Record, error) {
	if s.resend.get(key) != nil {
		rec, err := s.touch(ctx, tenant, e, id, key, ifMatch)
		if !errors.Is(err, errNotHere) {
			return rec, err
		}
	}
	body, err := decode()
	if err != nil {
		return nil, err
	}
	return s.update(ctx, tenant, e, id, body, ifMatch, &key)
}

// errNotHere: the full path answers this request.
var errNotHere = errors.New("service: the full path answers this request")

// touch answers a remembered request: the reads are checked and the row
// touched as the full path would, if it still holds the version last written.
// It reports errNotHere when the full path must answer.
func (s *Service) touch(ctx context.Context, tenant int64, e *schema.Entity, id string, key ResendKey, ifMatch string) (ordo.Record, error) {
	var rec ordo.Record
	err := s.store.Write(ctx, tenant, func(tx ordo.Tx) error {
		w := s.newWriter(ctx, tx)
		var checked *resendEntry
		// The same request sent concurrently may touch the row (and renew
		// its memory) in between: the touch is then tried again with what
		// the memory holds now. On SQLite the entry is read after the
		// previous writer's commit, so this is rare there.
		for attempt := 0; attempt < 4; attempt++ {
			entry := s.resend.get(key)
			if entry == nil || entry.entity != e || entry.id != id {
				return errNotHere
			}
			if entry != checked {
				versions, err := tx.RowVersions(ctx, entry.reads)
				if err != nil {
					return err
				}
				if fingerprint(versions, entry.id) != entry.fingerprint {
					s.resend.dropIf(key, entry)
					return errNotHere
				}
				checked = entry
			}
			var version string
			rec, version = entry.current()
			if ifMatch != "" && !MatchETag(ifMatch, ETag(e, rec)) {
				return errNotHere // the full path tells a changed row from a stale If-Match
			}
			diff := w.touchFields(e, rec, ordo.Record{}, entry.touchDateUpdate)
			touched, err := tx.UpdateVersion(ctx, e, id, version, diff)
			if err != nil {
				return err
			}
			if touched {
				rec[ordo.ETagKey] = diff[ordo.ETagKey]
				// Remembered before commit, so that the next request (which
				// on SQLite waits for this commit) sees the new version; a
				// failed commit leaves a version no row has, which the next
				// attempt takes as a change.
				entry.written(rec)
				return loadLists(ctx, tx, e, []ordo.Record{rec})
			}
			if _, now := entry.current(); now == version && s.resend.get(key) == entry {
				s.resend.dropIf(key, entry) // the row changed otherwise
				return errNotHere
			}
		}
		return errNotHere
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// touchFields sets the fields every update of a row changes, in rec and in
// diff, and returns diff. date_update is the request's time unless the body
// gave it (then a re-sent body keeps it, and stays idempotent).
func (w *writer) touchFields(e *schema.Entity, rec, diff ordo.Record, dateUpdate bool) ordo.Record {
	if _, ok := e.Field("date_update"); ok && dateUpdate {
		if _, given := diff["date_update"]; !given {
			rec["date_update"], diff["date_update"] = w.now, w.now
		}
	}
	rec["modified_dateutc"], diff["modified_dateutc"] = w.now, w.now
	return diff
}

// fingerprint hashes what each read returned, ignoring row order; the
// addressed row stands without its token, which every touch changes (the
// touch's conditional UPDATE checks it).
func fingerprint(results [][]ordo.RowVersion, topID string) [sha256.Size]byte {
	h := sha256.New()
	for i, rows := range results {
		writeInt(h, uint64(i))
		sorted := slices.Clone(rows)
		slices.SortFunc(sorted, func(a, b ordo.RowVersion) int { return strings.Compare(a.ID, b.ID) })
		for _, r := range sorted {
			h.Write([]byte(r.ID))
			h.Write([]byte{0})
			if r.ID != topID {
				h.Write([]byte(r.Token))
			}
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

func writeInt(h hash.Hash, n uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	h.Write(b[:])
}
