package service

import (
	"context"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/dispatch"
	"github.com/ordo-fsm/ordo/schema"
)

// SlotQuery is a slot search request (docs/planning.md).
type SlotQuery struct {
	From, To time.Time // zero From: now; zero To: From + DefaultSlotWindow
	Top      int       // 0: DefaultSlotTop
	UserID   string    // only this technician
}

// Slot search bounds.
const (
	DefaultSlotTop    = 10
	MaxSlotTop        = 100
	DefaultSlotWindow = 14 * 24 * time.Hour
	MaxSlotWindow     = 62 * 24 * time.Hour
)

// SlotAnswer is the result of a slot search.
type SlotAnswer struct {
	JobID      string // "" for a job not stored
	Candidates int    // technicians considered
	dispatch.Result
}

// AvailableSlots searches the free slots for the stored job jobID, or, when
// jobID is "", for the job described by body (not stored).
func (s *Service) AvailableSlots(ctx context.Context, tenant int64, jobID string, body map[string]any, q SlotQuery) (SlotAnswer, error) {
	if q.From.IsZero() {
		q.From = s.Now()
	}
	if q.To.IsZero() {
		q.To = q.From.Add(DefaultSlotWindow)
	}
	if !q.To.After(q.From) {
		return SlotAnswer{}, ordo.FieldError("InvalidRange", "to", "to must be after from")
	}
	if q.To.Sub(q.From) > MaxSlotWindow {
		return SlotAnswer{}, ordo.FieldError("InvalidRange", "to", "the window may span at most %d days", int(MaxSlotWindow.Hours()/24))
	}
	switch {
	case q.Top == 0:
		q.Top = DefaultSlotTop
	case q.Top < 0 || q.Top > MaxSlotTop:
		return SlotAnswer{}, ordo.FieldError("InvalidValue", "top", "top must be between 1 and %d", MaxSlotTop)
	}
	var ans SlotAnswer
	err := s.store.Read(ctx, tenant, func(tx ordo.Tx) error {
		var job ordo.Record
		var err error
		if jobID != "" {
			if job, err = tx.Get(ctx, s.reg.MustEntity("jobs"), jobID); err != nil {
				return err
			}
		} else if job, err = s.jobFromBody(ctx, tx, body); err != nil {
			return err
		}
		spec, err := s.slotSpec(ctx, tx, job)
		if err != nil {
			return err
		}
		spec.UserID = q.UserID
		from, to := dispatch.Window(spec.Job, q.From, q.To)
		var cands []dispatch.Candidate
		loader := dispatch.Loader{Registry: s.reg}
		if to.After(from) {
			// Busy periods are loaded a day wider on each side: the
			// appointments next to a slot at the window's edges count for travel.
			if cands, err = loader.Candidates(ctx, tx, spec, from.Add(-24*time.Hour), to.Add(24*time.Hour)); err != nil {
				return err
			}
		}
		res, err := dispatch.Search(dispatch.Request{Job: spec.Job, From: q.From, To: q.To, Top: q.Top,
			Candidates: cands, Coords: loader.Coords(ctx, tx)})
		ans = SlotAnswer{JobID: jobID, Candidates: len(cands), Result: res}
		return err
	})
	return ans, err
}

// jobFromBody validates a job body for a search; the skill may be given by
// skill_id or skill_code, the installation by project_id or
// project_reference_back_office (its customer's sales organisation applies).
func (s *Service) jobFromBody(ctx context.Context, tx ordo.Tx, body map[string]any) (ordo.Record, error) {
	je := s.reg.MustEntity("jobs")
	job, err := parseBody(je, body, "")
	if err != nil {
		return nil, err
	}
	if code := job.String("skill_code"); isZeroID(job["skill_id"]) && code != "" {
		sk, err := tx.Find(ctx, s.reg.MustEntity("skill"), ordo.Cond{Field: "code", Value: code})
		if err != nil {
			return nil, err
		}
		if sk == nil {
			return nil, ordo.Errorf(ordo.EUnresolved, "skill_code %s not found", code)
		}
		job["skill_id"] = sk.ID()
	}
	var project ordo.Record
	pe := s.reg.MustEntity("project")
	switch code := job.String("project_reference_back_office"); {
	case !isZeroID(job["project_id"]):
		project, err = tx.Find(ctx, pe, ordo.Cond{Field: "id", Value: job.String("project_id")})
	case code != "":
		project, err = tx.Find(ctx, pe, ordo.Cond{Field: "reference_back_office", Value: code})
	}
	if err != nil {
		return nil, err
	}
	if project != nil {
		job["company_id"] = project.String("company_id")
	}
	return job, nil
}

// slotSpec is what slot search needs of a job: its length, place, window,
// skill and sales organisation (its customer's).
func (s *Service) slotSpec(ctx context.Context, tx ordo.Tx, job ordo.Record) (dispatch.Spec, error) {
	spec := dispatch.Spec{Job: dispatch.Job{ID: job.ID(), Minutes: int(job.Int("estimated_time")), At: dispatch.PointOf(job)},
		SkillID: job.String("skill_id")}
	if t := job.Time("earliest_date_plannable"); !schema.IsZero(schema.KindDate, t) {
		spec.Job.Earliest = t
	}
	if t := job.Time("due_date"); !schema.IsZero(schema.KindDate, t) {
		spec.Job.Due = t
	}
	if company := job.String("company_id"); !isZeroID(company) {
		c, err := tx.Find(ctx, s.reg.MustEntity("company"), ordo.Cond{Field: "id", Value: company})
		if err != nil {
			return spec, err
		}
		if c != nil {
			spec.SalesOrgID = c.String("sales_organization_id")
		}
	}
	return spec, nil
}

// planFields are the properties a Plan body may carry besides force.
var planFields = map[string]bool{"user_id": true, "user_code": true, "date_from": true, "date_to": true, "is_leader": true}

// Plan books a technician on job jobID: a JobPlanning from date_from, ending
// at date_to or, when omitted, after the job's estimated_time (60 minutes
// when unset). The overlap rule of JobPlanning applies ("force": true
// overrides it), and the job moves to Planned as with any new planning.
func (s *Service) Plan(ctx context.Context, tenant int64, jobID string, body map[string]any) (ordo.Record, error) {
	pe := s.reg.MustEntity("job_planning")
	ctx, err := takeForce(ctx, pe, body)
	if err != nil {
		return nil, err
	}
	var errs fieldErrors
	for k := range body {
		if !planFields[k] {
			errs.add("UnknownField", k, "%s is not a property of a Plan request (user_id or user_code, date_from, date_to, is_leader, force)", k)
		}
	}
	if _, ok := body["date_from"]; !ok {
		errs.add("Required", "date_from", "date_from is required")
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return s.write(ctx, tenant, pe, func(w *writer) (string, error) {
		job, err := w.tx.Get(w.ctx, s.reg.MustEntity("jobs"), jobID)
		if err != nil {
			return "", err
		}
		planning := map[string]any{"jobs_id": jobID}
		for k, v := range body {
			planning[k] = v
		}
		if _, ok := body["date_to"]; !ok {
			v, err := pe.MustField("date_from").Parse(body["date_from"])
			if err != nil {
				return "", ordo.FieldError("InvalidValue", "date_from", "date_from: %v", err)
			}
			minutes := job.Int("estimated_time")
			if minutes <= 0 {
				minutes = dispatch.DefaultMinutes
			}
			planning["date_to"] = schema.FormatValue(schema.KindDate, v.(time.Time).Add(time.Duration(minutes)*time.Minute))
		}
		return w.saveTop(pe, planning, modeInsert, "")
	})
}

// EffectiveSetting is the resolved planning settings of the tenant (UserID
// "") or of a user with their own settings row.
type EffectiveSetting struct {
	UserID string
	Rules  dispatch.Rules
}

// EffectivePlanningSettings resolves the tenant's settings and those of each
// user who has a row.
func (s *Service) EffectivePlanningSettings(ctx context.Context, tenant int64) ([]EffectiveSetting, error) {
	var out []EffectiveSetting
	err := s.store.Read(ctx, tenant, func(tx ordo.Tx) error {
		rows, err := tx.List(ctx, s.reg.MustEntity("planning_setting"), ordo.Query{OrderBy: []ordo.Order{{Field: "user_id"}}})
		if err != nil {
			return err
		}
		var base *dispatch.Setting
		var users []ordo.Record
		for _, r := range rows {
			if isZeroID(r["user_id"]) {
				st := dispatch.SettingOf(r)
				base = &st
			} else {
				users = append(users, r)
			}
		}
		rules, err := dispatch.Resolve(base)
		if err != nil {
			return err
		}
		out = append(out, EffectiveSetting{Rules: rules})
		for _, u := range users {
			st := dispatch.SettingOf(u)
			rules, err := dispatch.Resolve(base, &st)
			if err != nil {
				return err
			}
			out = append(out, EffectiveSetting{UserID: u.String("user_id"), Rules: rules})
		}
		return nil
	})
	return out, err
}
