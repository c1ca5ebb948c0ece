package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// WriteProber is what a database offers beyond Ping to tell whether writes
// work (sqlstore.DB): nil, or the StorageFull / StorageReadOnly error that
// refuses them. It probes with a real write while writes are failing, so
// readiness recovers without a restart.
type WriteProber interface {
	WriteReadiness(ctx context.Context) error
}

// handleReady answers /readyz. Ready means both: the database answers (a
// ping) and it accepts writes (no full disk or read-only database since the
// last successful write). Otherwise 503 with the error code of the cause and
// a body telling reads and writes apart, so that an operator sees at once
// that a full disk leaves reads working:
//
//	{"status":"ready","reads":"ok","writes":"ok"}
//	{"status":"not ready","reads":"ok","writes":"StorageFull","error":{...}}
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.writeError(w, r, ordo.Errorf(ordo.EUnavailable, "the database is unavailable"))
		return
	}
	writes := "ok"
	var failure *ordo.Error
	if p, ok := s.db.(WriteProber); ok {
		if err := p.WriteReadiness(ctx); err != nil {
			if !errors.As(err, &failure) {
				failure = ordo.Errorf(ordo.EUnavailable, "the database does not accept writes")
			}
			writes = string(failure.Code)
		}
	}
	if failure == nil {
		s.writeJSON(w, r, http.StatusOK, []byte(`{"status":"ready","reads":"ok","writes":"ok"}`))
		return
	}
	w.Header().Set("Retry-After", retryAfter(failure.RetryAfter))
	b := []byte(`{"status":"not ready","reads":"ok","writes":`)
	b = schema.AppendJSONString(b, writes)
	b = append(b, `,"error":{"code":`...)
	b = schema.AppendJSONString(b, string(failure.Code))
	b = append(b, `,"message":`...)
	b = schema.AppendJSONString(b, failure.Message)
	b = append(b, "}}"...)
	s.writeJSON(w, r, http.StatusServiceUnavailable, b)
}
