package service

import (
	"context"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/dispatch"
	"github.com/ordo-fsm/ordo/schema"
)

// forceKey marks a request whose body said "force": true: a planning may then
// overlap another planning or an absence of its user.
type forceKey struct{}

func forced(ctx context.Context) bool { f, _ := ctx.Value(forceKey{}).(bool); return f }

// takeForce removes the "force" property from a planning body (it is not a
// field) and puts it in the context the write runs with.
func takeForce(ctx context.Context, e *schema.Entity, body map[string]any) (context.Context, error) {
	if e.Name != "job_planning" || body == nil {
		return ctx, nil
	}
	v, ok := body["force"]
	if !ok {
		return ctx, nil
	}
	delete(body, "force")
	f, isBool := v.(bool)
	if !isBool && v != nil {
		return ctx, ordo.FieldError("InvalidValue", "force", "force must be true or false")
	}
	return context.WithValue(ctx, forceKey{}, f), nil
}

// checkBookingFree refuses a planning that overlaps another planning or an
// absence (approved or not) of its user, unless the request is forced. The
// user's row is locked first, so two bookings of one user serialise and
// cannot both pass the check.
func (w *writer) checkBookingFree(old, rec ordo.Record) error {
	if forced(w.ctx) {
		return nil
	}
	if old != nil && !changed(old, rec, "user_id") && !changed(old, rec, "date_from") && !changed(old, rec, "date_to") {
		return nil
	}
	user := rec.String("user_id")
	if _, err := w.tx.GetForUpdate(w.ctx, w.s.reg.MustEntity("user"), user); err != nil {
		return err
	}
	from, to := rec.Time("date_from"), rec.Time("date_to")
	others, err := w.tx.List(w.ctx, w.s.reg.MustEntity("job_planning"), ordo.Query{
		Conds:  []ordo.Cond{{Field: "user_id", Value: user}},
		Fields: []string{"jobs_id", "date_from", "date_to"}, Filter: dispatch.Overlaps("date_from", "date_to", from, to), Limit: 5})
	if err != nil {
		return err
	}
	var details []ordo.Detail
	for _, p := range others {
		if p.ID() == rec.ID() {
			continue
		}
		details = append(details, ordo.Detail{Code: "PlanningOverlap", Target: "job_planning/" + p.ID(),
			Message: "overlaps the planning " + p.ID() + " of job " + p.String("jobs_id") + " from " + date(p, "date_from") + " to " + date(p, "date_to")})
	}
	absences, err := w.tx.List(w.ctx, w.s.reg.MustEntity("user_unavailability"), ordo.Query{
		Conds:  []ordo.Cond{{Field: "user_id", Value: user}},
		Fields: []string{"date_start", "date_end", "is_approved"}, Filter: dispatch.Overlaps("date_start", "date_end", from, to), Limit: 5})
	if err != nil {
		return err
	}
	for _, a := range absences {
		kind := "an unapproved absence"
		if a.Bool("is_approved") {
			kind = "an approved absence"
		}
		details = append(details, ordo.Detail{Code: "AbsenceOverlap", Target: "user_unavailability/" + a.ID(),
			Message: "overlaps " + kind + " (" + a.ID() + ") from " + date(a, "date_start") + " to " + date(a, "date_end")})
	}
	if len(details) == 0 {
		return nil
	}
	msgs := make([]string, len(details))
	for i, d := range details {
		msgs[i] = d.Message
	}
	return &ordo.Error{Code: ordo.EConflict, Details: details,
		Message: "user " + user + " is not free from " + schema.FormatValue(schema.KindDate, from) + " to " +
			schema.FormatValue(schema.KindDate, to) + ": " + strings.Join(msgs, "; ") + ` (send "force": true to book anyway)`}
}

func date(r ordo.Record, field string) string {
	return schema.FormatValue(schema.KindDate, r.Time(field))
}

// planningSettingBefore validates the time zone and working hours.
func planningSettingBefore(w *writer, e *schema.Entity, old, rec ordo.Record, path string) error {
	var errs fieldErrors
	if tz := rec.String("time_zone"); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			errs.add("InvalidValue", path+"time_zone", "%stime_zone %q is not an IANA time zone name (e.g. Europe/Brussels)", path, tz)
		}
	}
	for _, d := range dispatch.Weekdays {
		f := "hours_" + d
		if h := rec.String(f); h != "" {
			if _, err := dispatch.ParseHours(h); err != nil {
				errs.add("InvalidValue", path+f, "%s%s: %v (write HH:MM-HH:MM[,HH:MM-HH:MM] or off)", path, f, err)
			}
		}
	}
	for _, f := range []string{"detour_factor", "average_speed_kmh"} {
		if v, _ := rec[f].(float64); v < 0 || (f == "detour_factor" && v > 0 && v < 1) {
			errs.add("InvalidValue", path+f, "%s%s must be 0 (inherit) or a positive number (detour_factor at least 1)", path, f)
		}
	}
	return errs.err()
}
