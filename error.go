// Package ordo holds the domain vocabulary shared by every layer: error codes,
// records, tenants and the storage interfaces the business rules run on.
package ordo

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error independently of the transport. The HTTP layer maps
// each code to a status in one table (httpapi/errors.go).
type Code string

const (
	EInvalid       Code = "ValidationFailed"    // the request itself is malformed or invalid
	EUnauthorized  Code = "Unauthorized"        // no or wrong credentials
	EForbidden     Code = "Forbidden"           // authenticated but not allowed
	ENotFound      Code = "NotFound"            // unknown URL or id
	EMethod        Code = "MethodNotAllowed"    // e.g. DELETE of an archive-only entity
	EConflict      Code = "Conflict"            // conflicts with the stored state
	EPrecondition  Code = "PreconditionFailed"  // If-Match names another version of the row
	EUnresolved    Code = "UnresolvedReference" // a reference that does not resolve
	ETooLarge      Code = "PayloadTooLarge"
	EUnsupported   Code = "UnsupportedMediaType"
	ENotAcceptable Code = "NotAcceptable"
	EGone          Code = "Gone"               // e.g. a delta token older than the change log's retention
	EUnavailable   Code = "ServiceUnavailable" // the database cannot be reached
	EStorageFull   Code = "StorageFull"        // the database's disk is full: writes fail, reads work
	EReadOnly      Code = "StorageReadOnly"    // the database refuses writes (read-only file, replica, ...)
	ETooMany       Code = "TooManyRequests"    // a rate or concurrency limit: retry after Retry-After
	EInternal      Code = "InternalError"
)

// Detail is one item of an error's detail list, e.g. one invalid field.
type Detail struct {
	Code    string `json:"code"`
	Target  string `json:"target,omitempty"`
	Message string `json:"message"`
}

// Error is an error meant for the client: its message is safe to show.
type Error struct {
	Code    Code
	Message string
	Details []Detail
	// RetryAfter, when positive, tells the client when to retry (the
	// Retry-After header of a 429 or 503).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf builds a client-facing error.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError builds a validation error about one field.
func FieldError(detailCode, field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EInvalid, Message: msg, Details: []Detail{{Code: detailCode, Target: field, Message: msg}}}
}

// ErrorCode returns the code of err, EInternal when err is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code Code) bool { return err != nil && ErrorCode(err) == code }

// EKeyReused: an Idempotency-Key sent again with a different request (422).
const EKeyReused Code = "IdempotencyKeyReused"

// EDependency: a $batch request whose dependency failed (424).
const EDependency Code = "FailedDependency"
