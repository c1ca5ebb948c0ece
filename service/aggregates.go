package service

import (
	"context"
	"sort"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// Project aggregates (contract section 5) are maintained incrementally: each
// job or planning write records how it changes its project's figures, and
// finish applies the sum to the project row once, under that row's lock. The
// cost of a write is then independent of how many jobs the project has.
//
// Counts move by +1/-1. date_last_job only grows by itself; date_next_job
// only shrinks. The one case that needs the project's jobs is a removal that
// may have defined a date: the earliest planning going away (deleted, moved
// later, its job closed or moved), or the latest completed job leaving
// Completed. Only then are the dates recomputed from the project's jobs.

// projectDelta is what one request does to one project's aggregates.
type projectDelta struct {
	open, planned, toBePlanned, waiting int64
	// lastCandidate is the latest date_closed of jobs the request completed
	// into the project; nextCandidate the earliest date_from of plannings it
	// added to the project's open jobs (zero: none).
	lastCandidate, nextCandidate time.Time
	// removedLast / removedNext are the dates the request took away (the
	// date_closed of a completed job that left, the earliest date_from of
	// plannings that left); when one equals the stored date, it is recomputed.
	removedLast, removedNext []time.Time
	// recompute asks for the figures to be recomputed from the project's
	// jobs (see projectDelta.merge).
	recompute bool
}

func (w *writer) delta(projectID string) *projectDelta {
	if isZeroID(projectID) {
		return &projectDelta{} // a job always has a project; nothing to maintain otherwise
	}
	d, ok := w.projects[projectID]
	if !ok {
		d = &projectDelta{}
		w.projects[projectID] = d
	}
	return d
}

// jobFigures is what one job contributes to its project, given its system status.
type jobFigures struct {
	open, planned, toBePlanned, waiting int64
	completed                           bool
}

func figuresOf(systemStatus string) jobFigures {
	var f jobFigures
	if systemStatus != ordo.StatusCompleted && systemStatus != ordo.StatusCanceled {
		f.open = 1
	}
	switch systemStatus {
	case ordo.StatusPlanned:
		f.planned = 1
	case ordo.StatusToBePlanned:
		f.toBePlanned = 1
	case ordo.StatusWaitingFurtherAction:
		f.waiting = 1
	case ordo.StatusCompleted:
		f.completed = true
	}
	return f
}

func (d *projectDelta) add(f jobFigures, sign int64) {
	d.open += sign * f.open
	d.planned += sign * f.planned
	d.toBePlanned += sign * f.toBePlanned
	d.waiting += sign * f.waiting
}

// earlier is the earlier of two dates where a zero date (either form)
// means none; none and none give a, as stored, so an unchanged project
// compares equal and is not rewritten.
func earlier(a, b time.Time) time.Time {
	if schema.IsZero(schema.KindDate, b) {
		return a
	}
	if schema.IsZero(schema.KindDate, a) || b.Before(a) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// systemStatus is the system status of a job record (its status's, for a
// tenant status).
func (w *writer) systemStatus(job ordo.Record) (string, error) {
	st, err := w.status(job.String("job_status_id"))
	if err != nil {
		return "", err
	}
	return st.String("system_job_status_id"), nil
}

// jobChanged records how a job write (old nil: insert; rec nil: delete)
// changes the aggregates of the projects involved.
func (w *writer) jobChanged(old, rec ordo.Record) error {
	var before, after jobFigures
	var oldOpen, newOpen bool
	if old != nil {
		sys, err := w.systemStatus(old)
		if err != nil {
			return err
		}
		before = figuresOf(sys)
		oldOpen = before.open == 1
	}
	if rec != nil {
		sys, err := w.systemStatus(rec)
		if err != nil {
			return err
		}
		after = figuresOf(sys)
		newOpen = after.open == 1
	}
	oldProject, newProject := "", ""
	if old != nil {
		oldProject = old.String("project_id")
	}
	if rec != nil {
		newProject = rec.String("project_id")
	}
	moved := old != nil && rec != nil && oldProject != newProject
	if old != nil && (rec == nil || moved || before != after) {
		w.delta(oldProject).add(before, -1)
	}
	if rec != nil && (old == nil || moved || before != after) {
		w.delta(newProject).add(after, +1)
	}
	// date_last_job: the latest date_closed of completed jobs.
	if before.completed && (rec == nil || moved || !after.completed || !old.Time("date_closed").Equal(rec.Time("date_closed"))) {
		d := w.delta(oldProject)
		d.removedLast = append(d.removedLast, old.Time("date_closed"))
	}
	if after.completed {
		d := w.delta(newProject)
		d.lastCandidate = later(d.lastCandidate, rec.Time("date_closed"))
	}
	// date_next_job: the plannings of the job count while it is open.
	if old == nil || (oldOpen == newOpen && !moved) {
		return nil
	}
	first, err := w.tx.EarliestPlanning(w.ctx, old.ID())
	if err != nil || schema.IsZero(schema.KindDate, first) {
		return err
	}
	if oldOpen {
		d := w.delta(oldProject)
		d.removedNext = append(d.removedNext, first)
	}
	if newOpen && rec != nil {
		d := w.delta(newProject)
		d.nextCandidate = earlier(d.nextCandidate, first)
	}
	return nil
}

// planningChanged records how a planning write (old nil: insert; rec nil:
// delete) changes date_next_job; jobOf returns a planning's job (locked).
func (w *writer) planningChanged(old, rec ordo.Record, jobOf func(id string) (ordo.Record, error)) error {
	// openProject is the delta of the project of a planning's job while the
	// job is open (nil otherwise: its plannings do not count).
	openProject := func(planning ordo.Record) (*projectDelta, error) {
		job, err := jobOf(planning.String("jobs_id"))
		if err != nil || job == nil {
			return nil, err
		}
		sys, err := w.systemStatus(job)
		if err != nil || figuresOf(sys).open == 0 {
			return nil, err
		}
		return w.delta(job.String("project_id")), nil
	}
	if old != nil {
		d, err := openProject(old)
		if err != nil {
			return err
		}
		if d != nil {
			d.removedNext = append(d.removedNext, old.Time("date_from"))
		}
	}
	if rec != nil {
		d, err := openProject(rec)
		if err != nil {
			return err
		}
		if d != nil {
			d.nextCandidate = earlier(d.nextCandidate, rec.Time("date_from"))
		}
	}
	return nil
}

// finish applies the recorded aggregate changes, project by project in a
// fixed order (so concurrent requests cannot deadlock on project rows).
func (w *writer) finish() error {
	ids := make([]string, 0, len(w.projects))
	for id := range w.projects {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	pe := w.s.reg.MustEntity("project")
	for _, id := range ids {
		if err := w.applyProjectDelta(pe, id, w.projects[id]); err != nil {
			return err
		}
	}
	return nil
}

// applyProjectDelta adds d to a project's stored figures, or recomputes them
// from the project's jobs when a removal may have defined a date (or when
// d.recompute asks for it).
func (w *writer) applyProjectDelta(pe *schema.Entity, id string, d *projectDelta) error {
	// The lock serialises the writers of one project, so each adds its
	// delta to figures that include every committed write before it.
	rows, err := w.tx.List(w.ctx, pe, ordo.Query{Conds: []ordo.Cond{{Field: "id", Value: id}}, ForUpdate: true,
		Fields: []string{"nb_open_jobs", "nb_jobs_planned", "nb_jobs_tobeplanned", "nb_jobs_waitingfurtheraction", "date_next_job", "date_last_job"}})
	if err != nil || len(rows) == 0 { // a deleted project has nothing to maintain
		return err
	}
	p := rows[0]
	recompute := d.recompute
	last, next := p.Time("date_last_job"), p.Time("date_next_job")
	for _, t := range d.removedLast {
		recompute = recompute || !t.Before(last)
	}
	for _, t := range d.removedNext {
		recompute = recompute || !schema.IsZero(schema.KindDate, next) && !t.After(next)
	}
	st := ordo.ProjectStats{
		Open: p.Int("nb_open_jobs") + d.open, Planned: p.Int("nb_jobs_planned") + d.planned,
		ToBePlanned: p.Int("nb_jobs_tobeplanned") + d.toBePlanned, WaitingFurtherAction: p.Int("nb_jobs_waitingfurtheraction") + d.waiting,
		LastJob: later(last, d.lastCandidate), NextJob: earlier(next, d.nextCandidate),
	}
	if recompute { // the project's jobs, as this transaction sees them
		if st, err = w.tx.ProjectStats(w.ctx, id); err != nil {
			return err
		}
	}
	figures := ordo.Record{
		"nb_open_jobs": st.Open, "nb_jobs_planned": st.Planned, "nb_jobs_tobeplanned": st.ToBePlanned,
		"nb_jobs_waitingfurtheraction": st.WaitingFurtherAction, "date_next_job": st.NextJob, "date_last_job": st.LastJob,
	}
	diff := ordo.Record{}
	for k, v := range figures {
		if !schema.Equal(pe.MustField(k).Kind, p[k], v) {
			diff[k] = v
		}
	}
	if len(diff) == 0 {
		return nil
	}
	diff["modified_dateutc"] = w.now
	w.forget(pe)
	return w.tx.Update(w.ctx, pe, id, diff)
}

// RecomputeProjectAggregates recomputes the aggregates of projects from
// their jobs: for rows loaded without the rules (sqlstore's BulkInsert).
func (s *Service) RecomputeProjectAggregates(ctx context.Context, tenant int64, projectIDs []string) error {
	return s.store.Write(ctx, tenant, func(tx ordo.Tx) error {
		w := s.newWriter(ctx, tx)
		pe := s.reg.MustEntity("project")
		ids := append([]string(nil), projectIDs...)
		sort.Strings(ids)
		for _, id := range ids {
			if err := w.applyProjectDelta(pe, id, &projectDelta{recompute: true}); err != nil {
				return err
			}
		}
		return nil
	})
}
