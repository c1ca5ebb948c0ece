package ordo

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/ordo-fsm/ordo/schema"
)

// CheckedTouch is a write of one row's touch fields (Changes) made only if
// the row still holds one of the version tokens Versions gives and each of
// Reads still returns the rows of Expect: the same ids at the same
// versions, in any order. The touched row's own token is not compared where a read returns
// it (Versions checks it), so Expect holds it as "".
//
// It is how a re-sent request is answered without running its rules again
// (service/resend.go): when nothing the rules read has changed, their
// outcome is the touch.
type CheckedTouch struct {
	Entity *schema.Entity
	ID     string
	// Versions gives the version tokens the row may hold, any of them (none
	// refuses the touch: VersionDiffers). The store calls it once, as late
	// as it can: inside its transaction where it uses one, so that a writer
	// that waited for another's commit asks after it.
	Versions func() []string
	Changes  Record // given the row's new version token (ETagKey) when touched
	Reads    []EntityQuery
	Expect   [][]RowVersion
	// Written, when set, is called once the row is touched: before the
	// write commits where the store uses a transaction, so that a writer
	// waiting for it already sees what it did.
	Written func()
	// Then, when set, runs after the touch in its transaction (e.g. to read
	// what the response needs); a store then cannot use a single statement.
	Then func(Tx) error
}

// TouchOutcome says what a CheckedTouch did.
type TouchOutcome int

const (
	// Touched: the reads matched and the row held an accepted version; it
	// is touched.
	Touched TouchOutcome = iota
	// ReadsDiffer: a read returned other rows or versions; nothing written.
	ReadsDiffer
	// VersionDiffers: the reads matched but the row holds another version
	// (or is gone); nothing written.
	VersionDiffers
)

// Matches reports whether got (what Reads returned, a slice per read) is
// Expect, in any row order, the touched row's token aside.
func (t *CheckedTouch) Matches(got [][]RowVersion) bool {
	if len(got) != len(t.Expect) {
		return false
	}
	for i, rows := range got {
		want := t.Expect[i]
		if len(rows) != len(want) {
			return false
		}
		rows = slices.Clone(rows)
		for k := range rows {
			if rows[k].ID == t.ID {
				rows[k].Token = ""
			}
		}
		byID := func(a, b RowVersion) int { return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Token, b.Token)) }
		slices.SortFunc(rows, byID)
		if !slices.IsSortedFunc(want, byID) {
			want = slices.Clone(want)
			slices.SortFunc(want, byID)
		}
		if !slices.Equal(rows, want) {
			return false
		}
	}
	return true
}

// NewVersionToken is a fresh row version (the ETag's source). Tokens are
// random rather than counters, so a row deleted and created again never
// repeats an ETag a client still holds; they are compared for equality only.
func NewVersionToken() string {
	return strconv.FormatUint(rand.Uint64()|1<<63, 36)
}
