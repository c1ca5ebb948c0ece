package ordo

import (
	"context"
	"time"

	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// Record is one row of an entity: field name → value in the field kind's Go
// representation (see schema.Kind).
type Record map[string]any

// String returns a string or GUID field ("" when absent).
func (r Record) String(name string) string { s, _ := r[name].(string); return s }

// Int returns an integer field.
func (r Record) Int(name string) int64 { n, _ := r[name].(int64); return n }

// Bool returns a boolean field.
func (r Record) Bool(name string) bool { b, _ := r[name].(bool); return b }

// Time returns a date field.
func (r Record) Time(name string) time.Time { t, _ := r[name].(time.Time); return t }

// ETagKey is the key under which storage puts a row's version token in the
// records it reads; it is not a field, so encoders and diffs ignore it.
const ETagKey = "@etag"

// ID returns the record's id.
func (r Record) ID() string { return r.String("id") }

// Tenant is one customer of an Ordo deployment; its domain is the part after
// the last @ of the Basic-auth user name.
type Tenant struct {
	ID     int64
	Domain string
	Name   string
}

// Principal is an authenticated API user.
type Principal struct {
	TenantID     int64
	Domain       string
	CredentialID int64
	Username     string
}

// Cond is an equality condition on a field; a []string Value means IN.
type Cond struct {
	Field string
	Value any
}

// Query selects rows of one entity. Conds are ANDed equalities; Filter, when
// set, adds a condition built by the OData layer.
type Query struct {
	Conds []Cond
	// AnyOf, when set, adds one more condition: a row matches when it meets
	// any of these equalities (each may be an IN list).
	AnyOf   []Cond
	Filter  SQLFilter
	OrderBy []Order
	Limit   int // 0: no limit
	Offset  int
	// ForUpdate locks the rows read until the transaction ends, so that a
	// read-check-write sequence cannot interleave with another writer's.
	ForUpdate bool
	// Fields, when set, limits the columns read to these fields and id
	// (an OData $select); the records then hold only those.
	Fields []string
}

// EntityQuery is a Query of one entity, for ListMany.
type EntityQuery struct {
	Entity *schema.Entity
	Query  Query
}

// RowVersion is a row's id and version token ("" for a row written by
// another tool, which has none).
type RowVersion struct {
	ID, Token string
}

// Order is one sort key on a field of the queried entity.
type Order struct {
	Field string
	Desc  bool
}

// SQLFilter is a condition compiled by a query layer (OData) for the storage
// layer's dialect: given the main table's alias and the argument list (whose
// placeholder numbering continues the storage layer's own), it returns the
// joins it needs, a boolean condition and an ORDER BY list ("" for none).
type SQLFilter func(alias string, args *sqldialect.Args) (joins, where, orderBy string, err error)

// Store opens tenant-scoped transactions. Every query of a Tx is confined to
// its tenant by the storage layer itself, so no caller can forget it.
type Store interface {
	// Write runs fn in a read-write transaction; it commits when fn returns
	// nil and rolls back otherwise, so a failed request changes nothing.
	Write(ctx context.Context, tenantID int64, fn func(Tx) error) error
	// Read runs fn in a read-only snapshot.
	Read(ctx context.Context, tenantID int64, fn func(Tx) error) error
	// Touch makes a checked touch (touch.go) atomically: where it can, in
	// one statement and one round trip.
	Touch(ctx context.Context, tenantID int64, t *CheckedTouch) (TouchOutcome, error)
}

// Tx is a transaction bound to one tenant.
type Tx interface {
	// GetForUpdate is Get that also locks the row until the transaction ends.
	GetForUpdate(ctx context.Context, e *schema.Entity, id string) (Record, error)
	// Get returns the row with the given id, or an ENotFound error.
	Get(ctx context.Context, e *schema.Entity, id string) (Record, error)
	// Find returns the first row matching q (nil when none).
	Find(ctx context.Context, e *schema.Entity, conds ...Cond) (Record, error)
	// List returns the rows matching q.
	List(ctx context.Context, e *schema.Entity, q Query) ([]Record, error)
	// ListMany runs several List queries in one statement (one round trip)
	// and returns their rows in the same order. The queries take only Conds
	// and AnyOf (no filter, order, limit or field list).
	ListMany(ctx context.Context, qs []EntityQuery) ([][]Record, error)
	// Count counts the rows matching q (Limit and Offset ignored).
	Count(ctx context.Context, e *schema.Entity, q Query) (int64, error)
	// Insert stores a complete record and sets r[ETagKey] to the row's new
	// version token.
	Insert(ctx context.Context, e *schema.Entity, r Record) error
	// Update sets the given fields of the row id, and changes[ETagKey] to
	// the row's new version token.
	Update(ctx context.Context, e *schema.Entity, id string, changes Record) error
	// UpdateWhere sets fields on every row matching conds (and a new version
	// token, in changes[ETagKey]) and returns how many changed.
	UpdateWhere(ctx context.Context, e *schema.Entity, changes Record, conds ...Cond) (int64, error)
	// Delete removes the row id.
	Delete(ctx context.Context, e *schema.Entity, id string) error
	// DeleteWhere removes every row matching conds.
	DeleteWhere(ctx context.Context, e *schema.Entity, conds ...Cond) (int64, error)
	// NextID2 returns the next per-tenant id2 of e.
	NextID2(ctx context.Context, e *schema.Entity) (int64, error)
	// ReserveID2 returns the numbers n calls of NextID2 would return, at
	// once, and the counter's value before them (prev); the counter is left
	// at the last one. A caller that uses fewer gives the rest back with
	// SetID2 before the transaction ends.
	ReserveID2(ctx context.Context, e *schema.Entity, n int) (prev int64, free []int64, err error)
	// SetID2 sets e's id2 counter to last, the last number used.
	SetID2(ctx context.Context, e *schema.Entity, last int64) error
	// ProjectStats aggregates the jobs and plannings of one project.
	ProjectStats(ctx context.Context, projectID string) (ProjectStats, error)
	// EarliestPlanning is the earliest date_from of a job's plannings (the
	// zero date when it has none).
	EarliestPlanning(ctx context.Context, jobID string) (time.Time, error)
	// Aggregate runs one grouped query over e's rows (OData $apply) and
	// returns its rows, a value per column (nil for an SQL NULL).
	Aggregate(ctx context.Context, e *schema.Entity, q Aggregation) ([][]any, error)
}

// Aggregation is a grouped query compiled by a query layer (OData $apply)
// for the storage layer's dialect. Build gets the main table's alias and
// the argument list (whose numbering continues the storage layer's own,
// the tenant's condition included) and returns the select list, the joins,
// a condition ("" for none), the GROUP BY and ORDER BY lists ("" for none).
// Kinds are the kinds of the select list's columns, in order.
type Aggregation struct {
	Kinds  []schema.Kind
	Build  func(alias string, args *sqldialect.Args) (selectList, joins, where, groupBy, orderBy string, err error)
	Limit  int // 0: no limit
	Offset int
}

// ProjectStats are the derived figures of a project (contract section 5).
type ProjectStats struct {
	Open, Planned, ToBePlanned, WaitingFurtherAction int64
	NextJob, LastJob                                 time.Time
}
