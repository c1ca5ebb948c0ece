package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// statusOf is the one table mapping error codes to HTTP statuses.
var statusOf = map[ordo.Code]int{
	ordo.EInvalid:       http.StatusBadRequest,
	ordo.EUnauthorized:  http.StatusUnauthorized,
	ordo.EForbidden:     http.StatusForbidden,
	ordo.ENotFound:      http.StatusNotFound,
	ordo.EMethod:        http.StatusMethodNotAllowed,
	ordo.EConflict:      http.StatusConflict,
	ordo.EPrecondition:  http.StatusPreconditionFailed,
	ordo.EUnresolved:    http.StatusUnprocessableEntity,
	ordo.EKeyReused:     http.StatusUnprocessableEntity,
	ordo.EDependency:    http.StatusFailedDependency,
	ordo.ETooLarge:      http.StatusRequestEntityTooLarge,
	ordo.EUnsupported:   http.StatusUnsupportedMediaType,
	ordo.ENotAcceptable: http.StatusNotAcceptable,
	ordo.EGone:          http.StatusGone,
	ordo.EUnavailable:   http.StatusServiceUnavailable,
	ordo.EStorageFull:   http.StatusServiceUnavailable,
	ordo.EReadOnly:      http.StatusServiceUnavailable,
	ordo.ETooMany:       http.StatusTooManyRequests,
	ordo.EInternal:      http.StatusInternalServerError,
}

// writeError answers with the contract's error body. Errors that are not
// *ordo.Error are internal: they are logged and the client sees no details.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *ordo.Error
	if !errors.As(err, &oe) {
		if errors.Is(err, context.Canceled) {
			oe = ordo.Errorf(ordo.EUnavailable, "the request was canceled")
		} else {
			s.log.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String("path", r.URL.Path), slog.Any("err", err))
			oe = ordo.Errorf(ordo.EInternal, "an internal error occurred")
		}
	}
	status, ok := statusOf[oe.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	noteError(w, string(oe.Code), oe.Message)
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="ordo", charset="UTF-8"`)
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		w.Header().Set("Retry-After", retryAfter(oe.RetryAfter))
	}
	b := []byte(`{"error":{"code":`)
	b = schema.AppendJSONString(b, string(oe.Code))
	b = append(b, `,"message":`...)
	b = schema.AppendJSONString(b, oe.Message)
	if len(oe.Details) > 0 {
		b = append(b, `,"details":[`...)
		for i, d := range oe.Details {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"code":`...)
			b = schema.AppendJSONString(b, d.Code)
			b = append(b, `,"target":`...)
			b = schema.AppendJSONString(b, d.Target)
			b = append(b, `,"message":`...)
			b = schema.AppendJSONString(b, d.Message)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, "}}"...)
	s.writeJSON(w, r, status, b)
}

// retryAfter renders a Retry-After value in whole seconds, rounded up; at
// least 1.
func retryAfter(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}
