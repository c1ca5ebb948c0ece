package ordo

import (
	"context"
	"time"
)

// ChangeOp is what a change-log entry records happened to a row.
type ChangeOp string

const (
	OpInsert ChangeOp = "insert"
	OpUpdate ChangeOp = "update"
	OpDelete ChangeOp = "delete"
)

// Change is one change-log entry: row ID of Entity (the registry name)
// was inserted, updated or deleted by the transaction that wrote it.
// Positions grow in the order readers may see them (see ChangeLog).
type Change struct {
	Position int64
	Entity   string
	ID       string
	Op       ChangeOp
	Time     time.Time
}

// ChangeLog is the store's commit-ordered change log. Every row write of
// every entity appends an entry in the writing transaction; a reader that
// has seen every entry up to a position P will never later find a new entry
// at or below P.
type ChangeLog interface {
	// ChangeHead makes every committed entry readable and returns the
	// highest readable position (head) and the highest position already
	// removed by retention (pruned; a reader behind it has lost entries).
	ChangeHead(ctx context.Context) (head, pruned int64, err error)
	// PruneChanges removes entries older than before and returns how many.
	PruneChanges(ctx context.Context, before time.Time) (int64, error)
}

// ChangeReader is implemented by a Tx that can read its tenant's change log.
type ChangeReader interface {
	// LatestChanges lists, for rows of entity whose last entry in
	// (after, upto] lies after cursor, that last entry, in position order,
	// at most limit of them. A row changed several times in the window
	// appears once, at its last position. upto 0 means up to the head; the
	// log's state as the same statement saw it comes back with the entries.
	LatestChanges(ctx context.Context, entity string, after, upto, cursor int64, limit int) ([]Change, ChangeWindow, error)
	// ChangesAfter lists the entries of the given entities (all when empty)
	// in (after, upto], in position order, at most limit.
	ChangesAfter(ctx context.Context, entities []string, after, upto int64, limit int) ([]Change, error)
}

// ChangeWindow is the state of the change log as one read saw it.
type ChangeWindow struct {
	Head   int64 // the highest readable position
	Pruned int64 // the highest position removed by retention
	// Unnumbered reports committed entries still waiting for a position
	// (PostgreSQL): ChangeLog.ChangeHead numbers them.
	Unnumbered bool
}
