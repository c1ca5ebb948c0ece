package ordo

import (
	"context"
	"net/http"
	"time"
)

type joinedTxKey struct{}

// WithTx returns a context whose Store.Write and Store.Read calls join tx
// instead of opening transactions of their own: each joined call runs under
// a savepoint, so a failed call is undone alone while the others stay, and
// everything commits or rolls back with tx. This is the seam through which
// several service calls (a $batch atomicity group, an import batch) or a
// service call and the storing of its HTTP response (Idempotency-Key) share
// one transaction.
func WithTx(ctx context.Context, tx Tx) context.Context {
	return context.WithValue(ctx, joinedTxKey{}, tx)
}

// TxFrom returns the transaction WithTx put in ctx (nil when none).
func TxFrom(ctx context.Context) Tx {
	tx, _ := ctx.Value(joinedTxKey{}).(Tx)
	return tx
}

// JoinableTx is a Tx whose joined calls may leave it unusable: Failed
// returns the first error a joined call met that the whole transaction must
// answer for (a serialization failure to retry, a lost connection), nil
// otherwise. The owner of the transaction returns it so that the store
// retries or reports it.
type JoinableTx interface {
	Tx
	Failed() error
}

// StoredResponse is the response to a request made with an Idempotency-Key,
// kept with the key so that a retry gets it again.
type StoredResponse struct {
	Key         string
	User        string
	Fingerprint string // hash of method, path and body
	Status      int
	Header      http.Header // Location, ETag, Content-Type and the like
	Body        []byte
	Created     time.Time
}

// IdempotencyTx is implemented by the transactions of a store that keeps
// idempotency keys; the keys are tenant-scoped like every other row.
type IdempotencyTx interface {
	// LockIdempotencyKey takes the key for the rest of the transaction. It
	// reports false when another transaction holds it (a request in flight
	// on another connection or node).
	LockIdempotencyKey(ctx context.Context, key string) (bool, error)
	// IdempotentResponse returns the stored response of key (nil when none).
	IdempotentResponse(ctx context.Context, key string) (*StoredResponse, error)
	// SaveIdempotentResponse stores (or replaces an expired) response.
	SaveIdempotentResponse(ctx context.Context, r *StoredResponse) error
}
