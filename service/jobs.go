package service

import (
	"context"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// openStatuses are the statuses a job waits in before it is planned.
var openStatuses = []string{
	ordo.StatusOpen, ordo.StatusToBePlanned, ordo.StatusPooling, ordo.StatusSuggested,
	ordo.StatusWorkshop, ordo.StatusWaiting, ordo.StatusActivated,
}

// transitions is the job status workflow of contract section 6, on system
// statuses (a tenant status moves like the system status it points to).
// docs/workflow.md explains the choices the contract left open.
var transitions = func() map[string][]string {
	backToOpen := append([]string{ordo.StatusDispatched, ordo.StatusCanceled}, openStatuses...)
	t := map[string][]string{
		ordo.StatusDispatched:           {ordo.StatusPlanned, ordo.StatusDispatchRejected},
		ordo.StatusDispatchRejected:     backToOpen,
		ordo.StatusWorkshopInQueue:      append([]string{ordo.StatusPlanned}, backToOpen...),
		ordo.StatusPlanned:              append([]string{ordo.StatusInProgress}, backToOpen...),
		ordo.StatusInProgress:           {ordo.StatusWaitingFurtherAction, ordo.StatusCompleted},
		ordo.StatusWaitingFurtherAction: append([]string{ordo.StatusPlanned, ordo.StatusCompleted}, backToOpen...),
		ordo.StatusCanceled:             {ordo.StatusOpen},
		ordo.StatusCompleted:            {},
	}
	for _, s := range openStatuses {
		t[s] = append([]string{ordo.StatusPlanned}, backToOpen...)
	}
	t[ordo.StatusWorkshop] = append(t[ordo.StatusWorkshop], ordo.StatusWorkshopInQueue)
	return t
}()

// transitionAllowed reports whether a job may move between two system statuses.
// Moving between statuses of the same system status is always allowed, except
// out of Completed, which only ChangeToVirtualStatus does.
func transitionAllowed(from, to string) bool {
	if from == to {
		return from != ordo.StatusCompleted
	}
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// status returns a job status, read once per request.
func (w *writer) status(id string) (ordo.Record, error) {
	return w.mustLookup(w.s.reg.MustEntity("job_status"), id)
}

func jobBefore(w *writer, e *schema.Entity, old, rec ordo.Record, path string) error {
	project, err := w.mustLookup(w.s.reg.MustEntity("project"), rec.String("project_id"))
	if err != nil {
		return err
	}
	// The job's company is always its project's.
	rec["company_id"], rec["company_code"] = project.String("company_id"), project.String("company_code")

	if project.Bool("is_mobile_installation") {
		var errs fieldErrors
		for _, f := range []string{"db_address_street", "db_address_city", "db_address_zip"} {
			if rec.String(f) == "" {
				errs.add("Required", path+f, "%s%s is required for a job on a mobile installation", path, f)
			}
		}
		if err := errs.err(); err != nil {
			return err
		}
	}
	if addr := rec.String("db_address_id"); !isZeroID(addr) && (changed(old, rec, "db_address_id") || changed(old, rec, "project_id")) {
		if err := w.checkJobAddress(project, addr, path); err != nil {
			return err
		}
	}
	if changed(old, rec, "_parent_id") && !isZeroID(rec["_parent_id"]) {
		if err := w.checkNoCycle(e, rec.ID(), rec.String("_parent_id"), path+"_parent_id"); err != nil {
			return err
		}
	}
	if err := w.checkStatusChange(old, rec); err != nil {
		return err
	}
	return w.jobChanged(old, rec)
}

// checkJobAddress: a job's db_address must be its project's address or the
// address of one of the project's ancestors (its location).
func (w *writer) checkJobAddress(project ordo.Record, addr, path string) error {
	pe := w.s.reg.MustEntity("project")
	p := project
	for i := 0; i < maxTreeDepth && p != nil; i++ {
		if p.String("db_address_id") == addr {
			return nil
		}
		parent := p.String("_parent_id")
		if isZeroID(parent) {
			break
		}
		var err error
		if p, err = w.lookup(pe, "id", parent); err != nil {
			return err
		}
	}
	return ordo.Errorf(ordo.EConflict, "%sdb_address_id %s is neither the address of project %s nor of one of its locations",
		path, addr, project.ID())
}

// maxTreeDepth bounds walks up parent chains (jobs and projects).
const maxTreeDepth = 100

// checkNoCycle refuses a parent that is the row itself or one of its descendants.
func (w *writer) checkNoCycle(e *schema.Entity, id, parent, target string) error {
	for i := 0; i < maxTreeDepth; i++ {
		if parent == id {
			return ordo.Errorf(ordo.EConflict, "%s: %s %s cannot be its own ancestor", target, e.Name, id)
		}
		p, err := w.lookup(e, "id", parent)
		if err != nil || p == nil {
			return err
		}
		parent = p.String("_parent_id")
		if isZeroID(parent) {
			return nil
		}
	}
	return ordo.Errorf(ordo.EConflict, "%s: the parent chain is deeper than %d levels", target, maxTreeDepth)
}

// checkStatusChange applies the workflow and sets date_closed on Completed.
func (w *writer) checkStatusChange(old, rec ordo.Record) error {
	if old != nil && !w.technician {
		cur, err := w.status(old.String("job_status_id"))
		if err != nil {
			return err
		}
		if cur.Bool("is_readonly_on_api") {
			return ordo.Errorf(ordo.EConflict, "job %s is in status %s, which is read-only on the API", old.ID(), cur.String("code"))
		}
	}
	if !changed(old, rec, "job_status_id") {
		return nil
	}
	next, err := w.status(rec.String("job_status_id"))
	if err != nil {
		return err
	}
	if !w.technician && !next.Bool("usable_on_api") {
		return ordo.Errorf(ordo.EConflict, "job status %s cannot be set through the API", next.String("code"))
	}
	wasCompleted := false
	if old != nil {
		cur, err := w.status(old.String("job_status_id"))
		if err != nil {
			return err
		}
		if !transitionAllowed(cur.String("system_job_status_id"), next.String("system_job_status_id")) {
			return ordo.Errorf(ordo.EConflict, "a job cannot move from status %s to status %s", cur.String("code"), next.String("code"))
		}
		wasCompleted = cur.String("system_job_status_id") == ordo.StatusCompleted
	}
	keepClosed := w.importing && !schema.IsZero(schema.KindDate, rec["date_closed"]) // an exported job keeps its date
	if next.String("system_job_status_id") == ordo.StatusCompleted && !wasCompleted && !keepClosed {
		rec["date_closed"] = w.now
	}
	return nil
}

// defaultSuggestedMinutes is the length of a suggested planning when the job
// has no estimated_time.
const defaultSuggestedMinutes = 60

// jobAfter applies the Suggested rule: a Suggested job with a suggested user
// and start gets one planning row for them (not a second on a re-send).
// An import skips it: the exported plannings are imported from their own file.
func jobAfter(w *writer, e *schema.Entity, old, rec ordo.Record) error {
	if w.importing {
		return nil
	}
	user, start := rec.String("suggested_user_id"), rec.Time("suggested_date_start")
	if isZeroID(user) || schema.IsZero(schema.KindDate, start) {
		return nil
	}
	st, err := w.status(rec.String("job_status_id"))
	if err != nil || st.String("system_job_status_id") != ordo.StatusSuggested {
		return err
	}
	pe := w.s.reg.MustEntity("job_planning")
	existing, err := w.tx.Find(w.ctx, pe, ordo.Cond{Field: "jobs_id", Value: rec.ID()},
		ordo.Cond{Field: "user_id", Value: user}, ordo.Cond{Field: "date_from", Value: start})
	if err != nil || existing != nil {
		return err
	}
	minutes := rec.Int("estimated_time")
	if minutes <= 0 {
		minutes = defaultSuggestedMinutes
	}
	planning := ordo.Record{
		"id": newID(), "jobs_id": rec.ID(), "jobs_reference_back_office": rec.String("reference_back_office"),
		"user_id": user, "user_code": rec.String("suggested_user_code"),
		"date_from": start, "date_to": start.Add(time.Duration(minutes) * time.Minute),
		"modified_dateutc": w.now,
	}
	if err := w.tx.Insert(w.ctx, pe, planning); err != nil {
		return err
	}
	return w.planningChanged(nil, planning, func(string) (ordo.Record, error) { return rec, nil })
}

func jobDeleted(w *writer, rec ordo.Record) error {
	return w.jobChanged(rec, nil)
}

// plannedFrom are the statuses a new planning moves to Planned.
var plannedFrom = map[string]bool{
	ordo.StatusOpen: true, ordo.StatusToBePlanned: true, ordo.StatusPooling: true,
	ordo.StatusSuggested: true, ordo.StatusDispatched: true,
}

func planningBefore(w *writer, e *schema.Entity, old, rec ordo.Record, path string) error {
	if !rec.Time("date_to").After(rec.Time("date_from")) {
		return ordo.FieldError("InvalidRange", path+"date_to", "%sdate_to must be after date_from", path)
	}
	return w.checkBookingFree(old, rec)
}

// planningAfter: planning a technician on a waiting job moves it to Planned.
func planningAfter(w *writer, e *schema.Entity, old, rec ordo.Record) error {
	je := w.s.reg.MustEntity("jobs")
	// The job is locked: its status decides the aggregates this write moves.
	locked := map[string]ordo.Record{}
	lockJob := func(id string) (ordo.Record, error) {
		if job, ok := locked[id]; ok {
			return job, nil
		}
		job, err := w.tx.GetForUpdate(w.ctx, je, id)
		locked[id] = job
		return job, err
	}
	if err := w.planningChanged(old, rec, lockJob); err != nil {
		return err
	}
	if old != nil {
		return nil
	}
	job, err := lockJob(rec.String("jobs_id"))
	if err != nil {
		return err
	}
	if w.importing { // the imported job holds the status it had
		return nil
	}
	sys, err := w.systemStatus(job)
	if err != nil || !plannedFrom[sys] {
		return err
	}
	changes := ordo.Record{"job_status_id": ordo.StatusPlanned, "job_status_code": "Planned", "modified_dateutc": w.now, "date_update": w.now}
	planned := ordo.Record{}
	for k, v := range job {
		planned[k] = v
	}
	for k, v := range changes {
		planned[k] = v
	}
	if err := w.jobChanged(job, planned); err != nil {
		return err
	}
	w.forget(je)
	return w.tx.Update(w.ctx, je, job.ID(), changes)
}

func planningDeleted(w *writer, rec ordo.Record) error {
	je := w.s.reg.MustEntity("jobs")
	return w.planningChanged(rec, nil, func(id string) (ordo.Record, error) {
		return w.tx.Find(w.ctx, je, ordo.Cond{Field: "id", Value: id})
	})
}

// ChangeToVirtualStatus moves a Completed job to a tenant status whose system
// status is Completed (e.g. "imported in the ERP").
func (s *Service) ChangeToVirtualStatus(ctx context.Context, tenant int64, jobID, statusID, statusCode string) error {
	_, err := s.write(ctx, tenant, s.reg.MustEntity("jobs"), func(w *writer) (string, error) {
		je, se := s.reg.MustEntity("jobs"), s.reg.MustEntity("job_status")
		job, err := w.tx.Get(w.ctx, je, jobID)
		if err != nil {
			return "", err
		}
		var target ordo.Record
		switch {
		case !isZeroID(statusID):
			target, err = w.tx.Find(w.ctx, se, ordo.Cond{Field: "id", Value: statusID})
		case statusCode != "":
			target, err = w.tx.Find(w.ctx, se, ordo.Cond{Field: "code", Value: statusCode})
		default:
			return "", ordo.FieldError("Required", "target_job_status_id", "target_job_status_id or target_job_status_code is required")
		}
		if err != nil {
			return "", err
		}
		if target == nil {
			return "", ordo.Errorf(ordo.EUnresolved, "target job status %s%s not found", statusID, statusCode)
		}
		cur, err := w.status(job.String("job_status_id"))
		if err != nil {
			return "", err
		}
		if cur.String("system_job_status_id") != ordo.StatusCompleted {
			return "", ordo.Errorf(ordo.EConflict, "job %s is in status %s; only a Completed job can change to a virtual status", jobID, cur.String("code"))
		}
		if target.String("system_job_status_id") != ordo.StatusCompleted {
			return "", ordo.Errorf(ordo.EConflict, "status %s is not a status of Completed", target.String("code"))
		}
		if target.ID() == job.String("job_status_id") {
			return jobID, nil
		}
		return jobID, w.tx.Update(w.ctx, je, jobID, ordo.Record{
			"job_status_id": target.ID(), "job_status_code": target.String("code"), "modified_dateutc": w.now, "date_update": w.now,
		})
	})
	return err
}

// MoveJob changes a job's status on behalf of the field app (technicians start
// and complete work there). The workflow applies; the list of statuses an ERP
// may set does not.
func (s *Service) MoveJob(ctx context.Context, tenant int64, jobID, statusID string) error {
	e := s.reg.MustEntity("jobs")
	_, err := s.write(ctx, tenant, e, func(w *writer) (string, error) {
		w.technician = true
		return w.saveTop(e, map[string]any{"job_status_id": statusID}, modeUpdate, jobID)
	})
	return err
}
