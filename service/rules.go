package service

import (
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// entityRules are the business rules of one entity, run inside the write's
// transaction. before may change rec (derived fields) or refuse the write;
// after runs once the row is stored. old is nil for a new row.
type entityRules struct {
	before func(w *writer, e *schema.Entity, old, rec ordo.Record, path string) error
	after  func(w *writer, e *schema.Entity, old, rec ordo.Record) error
	// deleted runs after a row of the entity is deleted.
	deleted func(w *writer, rec ordo.Record) error
	// lockExisting: an existing row written as an embedded object is read
	// under a lock too, because the rules derive figures from its old state.
	lockExisting bool
}

var rules map[string]entityRules

func init() {
	rules = map[string]entityRules{
		"jobs":                {before: jobBefore, after: jobAfter, deleted: jobDeleted, lockExisting: true},
		"project":             {before: projectBefore, after: projectAfter},
		"job_planning":        {before: planningBefore, after: planningAfter, deleted: planningDeleted, lockExisting: true},
		"job_status":          {before: jobStatusBefore},
		"user_unavailability": {before: unavailabilityBefore},
		"planning_setting":    {before: planningSettingBefore},
	}
}

func rulesFor(e *schema.Entity) entityRules { return rules[e.Name] }

func changed(old, rec ordo.Record, field string) bool {
	return old == nil || old[field] != rec[field]
}

func unavailabilityBefore(w *writer, e *schema.Entity, old, rec ordo.Record, path string) error {
	if !rec.Time("date_end").After(rec.Time("date_start")) {
		return ordo.FieldError("InvalidRange", path+"date_end", "%sdate_end must be after date_start", path)
	}
	return nil
}

// unchanged reports whether rec holds the same values as old.
func unchanged(e *schema.Entity, old, rec ordo.Record) bool {
	for _, f := range e.Fields {
		if f.Name != "modified_dateutc" && !schema.Equal(f.Kind, old[f.Name], rec[f.Name]) {
			return false
		}
	}
	return true
}

// jobStatusBefore keeps the system statuses read-only (an import may send
// them back unchanged: the row is then left as it is) and makes every tenant
// status point to a system status.
func jobStatusBefore(w *writer, e *schema.Entity, old, rec ordo.Record, path string) error {
	if old != nil && ordo.IsSystemStatus(old.ID()) && !(w.importing && unchanged(e, old, rec)) {
		return ordo.Errorf(ordo.EForbidden, "job status %s is a system status and cannot be changed", old.String("code"))
	}
	if !ordo.IsSystemStatus(rec.String("system_job_status_id")) {
		return ordo.FieldError("InvalidValue", path+"system_job_status_id",
			"%ssystem_job_status must be one of the system statuses (Open, ToBePlanned, ..., Completed)", path)
	}
	return nil
}
