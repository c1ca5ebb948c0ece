package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ordo-fsm/ordo"
)

// DefaultIdempotencyTTL is how long a response stays replayable.
const DefaultIdempotencyTTL = 24 * time.Hour

// maxIdempotencyKey bounds the length of an Idempotency-Key.
const maxIdempotencyKey = 255

// inFlightKeys are the keys of this process's requests still running: a
// second request with one of them is answered 409 at once. Across nodes the
// store's LockIdempotencyKey does the same.
type inFlightKeys struct{ m sync.Map }

func (k *inFlightKeys) take(key string) bool {
	_, busy := k.m.LoadOrStore(key, struct{}{})
	return !busy
}

func (k *inFlightKeys) release(key string) { k.m.Delete(key) }

var (
	errReplay    = errors.New("idempotency: replay the stored response")
	errNotStored = errors.New("idempotency: 5xx, not stored")
)

// idempotent is the one seam of the Idempotency-Key header (IETF draft "The
// Idempotency-Key HTTP Header Field"). A write carrying the header runs in a
// transaction that the handler's service calls join (Service.Atomic); the
// handler renders into a buffer, and the rendered response is stored with the
// key in that same transaction before it commits. So a crash leaves either
// both the write and its key or neither. Only then is the response sent.
func (s *Server) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" || !isWriteMethod(r.Method) {
			next(w, r)
			return
		}
		key, err := parseIdempotencyKey(key)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		raw, err := s.readLimited(w, r, "the request body")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p := principal(r.Context())
		flight := strconv.FormatInt(p.TenantID, 10) + "\x00" + key
		if !s.inFlight.take(flight) {
			s.writeError(w, r, errInFlight())
			return
		}
		defer s.inFlight.release(flight)

		fp := fingerprint(r, raw)
		var resp *bufferedResponse
		var stored *ordo.StoredResponse
		err = s.svc.Atomic(r.Context(), p.TenantID, func(ctx context.Context, tx ordo.Tx) error {
			itx, ok := tx.(ordo.IdempotencyTx)
			if !ok {
				return errors.New("httpapi: the store does not keep idempotency keys")
			}
			free, err := itx.LockIdempotencyKey(ctx, key)
			if err != nil {
				return err
			}
			if !free {
				return errInFlight()
			}
			now := s.svc.Now()
			prev, err := itx.IdempotentResponse(ctx, key)
			if err != nil {
				return err
			}
			if prev != nil && now.Sub(prev.Created) < s.idempotencyTTL {
				if prev.Fingerprint != fp || prev.User != p.Username {
					return ordo.Errorf(ordo.EKeyReused, "Idempotency-Key %q was used for another request (method, URL, body or user differ); use a new key", key)
				}
				stored = prev
				return errReplay
			}
			inner := r.Clone(ctx)
			inner.Body = io.NopCloser(bytes.NewReader(raw))
			inner.Header.Del("Accept-Encoding") // stored plain, compressed when sent
			resp = newBufferedResponse()
			next(resp, inner)
			if jt, ok := tx.(ordo.JoinableTx); ok && jt.Failed() != nil {
				return jt.Failed() // retried by the store with a fresh buffer
			}
			if resp.status >= 500 {
				return errNotStored // the client may retry: nothing is kept
			}
			return itx.SaveIdempotentResponse(ctx, &ordo.StoredResponse{
				Key: key, User: p.Username, Fingerprint: fp, Status: resp.status,
				Header: resp.storedHeader(), Body: resp.body.Bytes(), Created: now,
			})
		})
		switch {
		case errors.Is(err, errReplay):
			w.Header().Set("Idempotent-Replayed", "true")
			s.sendStored(w, r, stored.Status, stored.Header, stored.Body)
		case errors.Is(err, errNotStored), err == nil:
			s.sendStored(w, r, resp.status, resp.storedHeader(), resp.body.Bytes())
		default:
			s.writeError(w, r, err)
		}
	}
}

func errInFlight() error {
	return ordo.Errorf(ordo.EConflict, "a request with this Idempotency-Key is still in flight; retry it once that one has finished")
}

func isWriteMethod(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch || m == http.MethodDelete
}

// parseIdempotencyKey accepts the draft's structured-field string ("...")
// and, leniently, a bare token.
func parseIdempotencyKey(h string) (string, error) {
	k := strings.TrimSpace(h)
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = k[1 : len(k)-1]
	}
	if k == "" || len(k) > maxIdempotencyKey {
		return "", ordo.Errorf(ordo.EInvalid, "Idempotency-Key must hold 1 to %d characters", maxIdempotencyKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return "", ordo.Errorf(ordo.EInvalid, "Idempotency-Key must be printable ASCII")
		}
	}
	return k, nil
}

// fingerprint identifies a request: method, path with query, and body (for
// idempotency keys and the service's memory of re-sent PUTs).
func fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	io.WriteString(h, r.Method+"\x00"+r.URL.EscapedPath()+"?"+r.URL.RawQuery+"\x00")
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// sendStored sends a rendered response, compressing the body when the
// client accepts it, as writeBody does for every response.
func (s *Server) sendStored(w http.ResponseWriter, r *http.Request, status int, header http.Header, body []byte) {
	for k, v := range header {
		w.Header()[k] = v
	}
	if len(body) == 0 {
		w.WriteHeader(status)
		return
	}
	s.writeBody(w, r, status, header.Get("Content-Type"), body)
}

// bufferedResponse is an http.ResponseWriter that keeps what it is given.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse {
	return &bufferedResponse{header: http.Header{}, status: http.StatusOK}
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(code int) {
	b.status = code
}
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

// storedHeader is the header without what depends on how the body is sent.
func (b *bufferedResponse) storedHeader() http.Header {
	h := b.header.Clone()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Vary"} {
		h.Del(k)
	}
	return h
}
