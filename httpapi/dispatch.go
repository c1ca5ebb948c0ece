package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/dispatch"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/service"
)

// handleSlots answers GET /api/Jobs(<id>)/AvailableSlots.
func (s *Server) handleSlots(w http.ResponseWriter, r *http.Request, jobID string) {
	q, err := slotQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ans, err := s.svc.AvailableSlots(r.Context(), principal(r.Context()).TenantID, jobID, nil, q)
	s.writeSlots(w, r, ans, err)
}

// handleSlotsForBody answers POST /api/AvailableSlots: the same search for a
// job given in the body and not stored.
func (s *Server) handleSlotsForBody(w http.ResponseWriter, r *http.Request) {
	q, err := slotQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ans, err := s.svc.AvailableSlots(r.Context(), principal(r.Context()).TenantID, "", body, q)
	s.writeSlots(w, r, ans, err)
}

// slotQuery reads from, to, top and user_id from the query string.
func slotQuery(r *http.Request) (service.SlotQuery, error) {
	var q service.SlotQuery
	v := r.URL.Query()
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if s := v.Get(name); s != "" {
			t, err := schema.ParseDate(s)
			if err != nil {
				return q, ordo.FieldError("InvalidValue", name, "%s: %v", name, err)
			}
			*dst = t
		}
	}
	if s := v.Get("top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, ordo.FieldError("InvalidValue", "top", "top must be a positive integer")
		}
		q.Top = n
	}
	if s := v.Get("user_id"); s != "" {
		id, err := schema.ParseGUID(s)
		if err != nil {
			return q, ordo.FieldError("InvalidValue", "user_id", "user_id: %v", err)
		}
		q.UserID = id
	}
	return q, nil
}

type slotJSON struct {
	UserID       string            `json:"user_id"`
	UserName     string            `json:"user_name"`
	DateFrom     string            `json:"date_from"`
	DateTo       string            `json:"date_to"`
	TravelBefore dispatch.Leg      `json:"travel_before"`
	TravelAfter  dispatch.Leg      `json:"travel_after"`
	Score        float64           `json:"score"`
	Reasons      []dispatch.Reason `json:"reasons"`
}

type slotsJSON struct {
	JobsID        string     `json:"jobs_id"`
	DateFrom      string     `json:"date_from"`
	DateTo        string     `json:"date_to"`
	EstimatedTime int        `json:"estimated_time"`
	Candidates    int        `json:"candidates"`
	TravelCounted bool       `json:"travel_counted"`
	Notes         []string   `json:"notes"`
	Value         []slotJSON `json:"value"`
}

func (s *Server) writeSlots(w http.ResponseWriter, r *http.Request, ans service.SlotAnswer, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	date := func(t time.Time) string { return schema.FormatValue(schema.KindDate, t) }
	out := slotsJSON{JobsID: ans.JobID, DateFrom: date(ans.From), DateTo: date(ans.To), EstimatedTime: ans.Minutes,
		Candidates: ans.Candidates, TravelCounted: ans.TravelCounted, Notes: []string{}, Value: make([]slotJSON, len(ans.Slots))}
	if out.JobsID == "" {
		out.JobsID = schema.ZeroGUID
	}
	if !ans.TravelCounted {
		out.Notes = append(out.Notes, "the job has no coordinates: travel to and from it is not counted")
	}
	if !ans.To.After(ans.From) {
		out.Notes = append(out.Notes, "the window is empty once narrowed by the job's earliest_date_plannable and due_date")
	} else if ans.Candidates == 0 {
		out.Notes = append(out.Notes, "no technician qualifies (not archived nor disabled, with the job's skill, in its sales organisation)")
	}
	for i, sl := range ans.Slots {
		out.Value[i] = slotJSON{UserID: sl.UserID, UserName: sl.UserName, DateFrom: date(sl.Start), DateTo: date(sl.End),
			TravelBefore: sl.TravelBefore, TravelAfter: sl.TravelAfter, Score: sl.Score, Reasons: sl.Reasons}
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, b)
}

// handlePlan answers POST /api/Jobs(<id>)/Plan: books a technician on the
// job and answers the new JobPlanning.
func (s *Server) handlePlan(w http.ResponseWriter, r *http.Request, jobID string) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec, err := s.svc.Plan(r.Context(), principal(r.Context()).TenantID, jobID, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e := s.svc.Registry().MustEntity("job_planning")
	w.Header().Set("Location", baseURL(r)+"/api/"+e.Controller+"("+rec.ID()+")")
	s.writeEntity(w, r, http.StatusCreated, e, rec)
}

type effectiveJSON struct {
	UserID          string   `json:"user_id"`
	TimeZone        string   `json:"time_zone"`
	Hours           []string `json:"hours"` // by weekday, Sunday first
	DetourFactor    float64  `json:"detour_factor"`
	AverageSpeedKmh float64  `json:"average_speed_kmh"`
}

// handleEffectiveSettings answers GET /api/PlanningSetting/Effective: the
// tenant's resolved settings, then those of each user who has their own row.
func (s *Server) handleEffectiveSettings(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.EffectivePlanningSettings(r.Context(), principal(r.Context()).TenantID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Value []effectiveJSON `json:"value"`
	}{Value: make([]effectiveJSON, len(list))}
	for i, e := range list {
		ej := effectiveJSON{UserID: e.UserID, TimeZone: e.Rules.Loc.String(), Hours: make([]string, 7),
			DetourFactor: e.Rules.DetourFactor, AverageSpeedKmh: e.Rules.SpeedKmh}
		if ej.UserID == "" {
			ej.UserID = schema.ZeroGUID
		}
		for d := range ej.Hours {
			ej.Hours[d] = dispatch.FormatHours(e.Rules.Week[d])
		}
		out.Value[i] = ej
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, b)
}
