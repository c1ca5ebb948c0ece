package dispatch

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// Spec is a job to find slots for, as loaded from a stored job or a body.
type Spec struct {
	Job        Job
	SkillID    string // "" or zero: any technician
	SalesOrgID string // "" or zero: any sales organisation
	UserID     string // "" or zero: every candidate; else only this user
}

// Loader reads slot-search inputs through a tenant-scoped transaction. Every
// read is bounded by the window or the candidates: plannings and absences by
// a date range on an indexed column, users by skill; the planned jobs'
// coordinates by id, for the few that Search asks for (Coords).
type Loader struct {
	Registry *schema.Registry
}

// Candidates returns the technicians who may do the job, each with their
// rules and busy periods in [from, to).
func (l Loader) Candidates(ctx context.Context, tx ordo.Tx, spec Spec, from, to time.Time) ([]Candidate, error) {
	reg := l.Registry
	settings, err := l.settings(ctx, tx)
	if err != nil {
		return nil, err
	}
	users, err := l.users(ctx, tx, spec)
	if err != nil || len(users) == 0 {
		return nil, err
	}
	byUser := make(map[string]*Candidate, len(users))
	out := make([]Candidate, 0, len(users))
	for _, u := range users {
		rules, err := Resolve(settings[""], settings[u.ID()])
		if err != nil {
			return nil, ordo.Errorf(ordo.EConflict, "the planning settings of user %s are invalid: %v", u.ID(), err)
		}
		name := strings.TrimSpace(u.String("firstname") + " " + u.String("lastname"))
		out = append(out, Candidate{UserID: u.ID(), Name: name, Rules: rules})
	}
	for i := range out {
		byUser[out[i].UserID] = &out[i]
	}
	var userCond []ordo.Cond
	if len(out) == 1 {
		userCond = []ordo.Cond{{Field: "user_id", Value: out[0].UserID}}
	}
	plannings, err := tx.List(ctx, reg.MustEntity("job_planning"), ordo.Query{Conds: userCond,
		Fields: []string{"jobs_id", "user_id", "date_from", "date_to"}, Filter: Overlaps("date_from", "date_to", from, to)})
	if err != nil {
		return nil, err
	}
	for _, p := range plannings {
		if c := byUser[p.String("user_id")]; c != nil {
			c.Busy = append(c.Busy, Busy{From: p.Time("date_from"), To: p.Time("date_to"), JobID: p.String("jobs_id")})
		}
	}
	absences, err := tx.List(ctx, reg.MustEntity("user_unavailability"), ordo.Query{Conds: userCond,
		Fields: []string{"user_id", "date_start", "date_end"}, Filter: Overlaps("date_start", "date_end", from, to)})
	if err != nil {
		return nil, err
	}
	for _, a := range absences {
		if c := byUser[a.String("user_id")]; c != nil {
			c.Busy = append(c.Busy, Busy{From: a.Time("date_start"), To: a.Time("date_end"), Absence: true})
		}
	}
	return out, nil
}

// settings reads the tenant's settings rows by user id ("" for the tenant row).
func (l Loader) settings(ctx context.Context, tx ordo.Tx) (map[string]*Setting, error) {
	rows, err := tx.List(ctx, l.Registry.MustEntity("planning_setting"), ordo.Query{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Setting, len(rows))
	for _, r := range rows {
		s := SettingOf(r)
		key := r.String("user_id")
		if schema.IsZero(schema.KindGUID, key) {
			key = ""
		}
		out[key] = &s
	}
	return out, nil
}

// SettingOf reads a planning_setting row.
func SettingOf(r ordo.Record) Setting {
	s := Setting{TimeZone: r.String("time_zone")}
	for d, name := range Weekdays {
		s.Hours[d] = r.String("hours_" + name)
	}
	s.DetourFactor, _ = r["detour_factor"].(float64)
	s.SpeedKmh, _ = r["average_speed_kmh"].(float64)
	return s
}

var userFields = []string{"firstname", "lastname", "archived", "disabled", "sales_organization_id"}

// users are the technicians who may do the job: not archived nor disabled,
// with the job's skill, in the job's sales organisation or in none.
func (l Loader) users(ctx context.Context, tx ordo.Tx, spec Spec) ([]ordo.Record, error) {
	ue := l.Registry.MustEntity("user")
	var rows []ordo.Record
	switch {
	case !schema.IsZero(schema.KindGUID, spec.UserID):
		u, err := tx.List(ctx, ue, ordo.Query{Conds: []ordo.Cond{{Field: "id", Value: spec.UserID}}, Fields: userFields})
		if err != nil {
			return nil, err
		}
		if len(u) == 0 {
			return nil, ordo.Errorf(ordo.ENotFound, "User %s not found", spec.UserID)
		}
		rows = u
	default:
		q := ordo.Query{Conds: []ordo.Cond{{Field: "archived", Value: false}}, Fields: userFields, OrderBy: []ordo.Order{{Field: "id"}}}
		var err error
		if rows, err = tx.List(ctx, ue, q); err != nil {
			return nil, err
		}
	}
	if !schema.IsZero(schema.KindGUID, spec.SkillID) {
		links, err := tx.List(ctx, l.Registry.MustEntity("user_skill"), ordo.Query{
			Conds: []ordo.Cond{{Field: "skill_id", Value: spec.SkillID}}, Fields: []string{"user_id"}})
		if err != nil {
			return nil, err
		}
		has := make(map[string]bool, len(links))
		for _, r := range links {
			has[r.String("user_id")] = true
		}
		rows = keep(rows, func(u ordo.Record) bool { return has[u.ID()] })
	}
	return keep(rows, func(u ordo.Record) bool {
		org := u.String("sales_organization_id")
		return !u.Bool("archived") && !u.Bool("disabled") &&
			(schema.IsZero(schema.KindGUID, spec.SalesOrgID) || schema.IsZero(schema.KindGUID, org) || org == spec.SalesOrgID)
	}), nil
}

func keep(rows []ordo.Record, ok func(ordo.Record) bool) []ordo.Record {
	out := rows[:0]
	for _, r := range rows {
		if ok(r) {
			out = append(out, r)
		}
	}
	return out
}

// Coords returns the lookup Search uses for the coordinates of planned jobs.
func (l Loader) Coords(ctx context.Context, tx ordo.Tx) func(ids []string) (map[string]*Point, error) {
	je := l.Registry.MustEntity("jobs")
	return func(ids []string) (map[string]*Point, error) {
		out := make(map[string]*Point, len(ids))
		seen := make(map[string]bool, len(ids))
		var todo []string
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				todo = append(todo, id)
			}
		}
		for len(todo) > 0 {
			chunk := todo[:min(len(todo), 500)]
			todo = todo[len(chunk):]
			rows, err := tx.List(ctx, je, ordo.Query{Conds: []ordo.Cond{{Field: "id", Value: chunk}},
				Fields: []string{"db_address_latitude_decimal", "db_address_longitude_decimal"}})
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				if p := PointOf(r); p != nil {
					out[r.ID()] = p
				}
			}
		}
		return out, nil
	}
}

// PointOf returns a job's coordinates, nil when it has none (0, 0 counts as none).
func PointOf(job ordo.Record) *Point {
	lat, _ := job["db_address_latitude_decimal"].(float64)
	lon, _ := job["db_address_longitude_decimal"].(float64)
	if (lat == 0 && lon == 0) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return nil
	}
	return &Point{Lat: lat, Lon: lon}
}

// Overlaps is the condition "the row's [fromField, toField) meets [from, to)".
func Overlaps(fromField, toField string, from, to time.Time) ordo.SQLFilter {
	return func(alias string, args *sqldialect.Args) (string, string, string, error) {
		return "", fmt.Sprintf("%s.%s > %s AND %s.%s < %s",
			alias, sqldialect.Quote(toField), args.Add(schema.KindDate, from),
			alias, sqldialect.Quote(fromField), args.Add(schema.KindDate, to)), "", nil
	}
}
