package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// Slot search and booking on hand-made cases whose answers are known
// (docs/planning.md), on both databases. Monday 2030-07-01 anchors them; the
// tenant works the default Monday-Friday 08:00-17:00 in UTC unless a case
// says otherwise.

type dsWorld struct {
	*rlWorld
	userA, userB string // A has skill SK1, B has none
}

func dsNewWorld(t *testing.T, dsn string) *dsWorld {
	w := &dsWorld{rlWorld: rlNewWorld(t, dsn)}
	w.userA = w.userID
	w.userB = w.create(t, "User", rlObj{"code": "U2", "username": "tech2", "firstname": "Bea", "lastname": "Second"})
	sk := w.create(t, "Skill", rlObj{"code": "SK1", "name": "Elevators"})
	w.create(t, "Skill", rlObj{"code": "SK2", "name": "Nobody has it"})
	w.create(t, "UserSkill", rlObj{"user_id": w.userA, "skill_id": sk})
	return w
}

type dsSlot struct {
	UserID       string  `json:"user_id"`
	DateFrom     string  `json:"date_from"`
	DateTo       string  `json:"date_to"`
	Score        float64 `json:"score"`
	TravelBefore struct {
		Minutes int     `json:"minutes"`
		Km      float64 `json:"km"`
		Known   bool    `json:"known"`
		JobsID  string  `json:"jobs_id"`
	} `json:"travel_before"`
	Reasons []struct {
		Reason string  `json:"reason"`
		Value  float64 `json:"value"`
	} `json:"reasons"`
}

type dsAnswer struct {
	DateFrom      string   `json:"date_from"`
	DateTo        string   `json:"date_to"`
	Candidates    int      `json:"candidates"`
	TravelCounted bool     `json:"travel_counted"`
	Notes         []string `json:"notes"`
	Value         []dsSlot `json:"value"`
}

func (w *dsWorld) slots(t *testing.T, jobID, from, to string, extra ...string) dsAnswer {
	t.Helper()
	q := url.Values{"from": {from}, "to": {to}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	r := w.c.Do("GET", "/api/Jobs("+jobID+")/AvailableSlots?"+q.Encode(), nil)
	if r.Status != 200 {
		t.Fatalf("AvailableSlots: status %d: %s", r.Status, r.Raw)
	}
	var a dsAnswer
	if err := json.Unmarshal(r.Raw, &a); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(a.Value); i++ {
		if a.Value[i].Score > a.Value[i-1].Score {
			t.Errorf("slots not sorted by score: %v then %v", a.Value[i-1].Score, a.Value[i].Score)
		}
	}
	return a
}

// first returns the earliest slot of a user ("" start when none).
func (a dsAnswer) first(user string) dsSlot {
	var best dsSlot
	for _, s := range a.Value {
		if s.UserID == user && (best.DateFrom == "" || s.DateFrom < best.DateFrom) {
			best = s
		}
	}
	return best
}

const (
	dsMon = "2030-07-01T00:00:00Z"
	dsTue = "2030-07-02T00:00:00Z"
)

func TestSlotSearch(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := dsNewWorld(t, dsn)
		job := func(over rlObj) string { return w.newJob(t, over) }

		t.Run("working hours", func(t *testing.T) {
			id := job(rlObj{"estimated_time": 60})
			a := w.slots(t, id, dsMon, dsTue, "top", "100")
			rlEq(t, "candidates", a.Candidates, 2)
			rlEq(t, "A's first slot", a.first(w.userA).DateFrom, "2030-07-01T08:00:00Z")
			rlEq(t, "A's first slot end", a.first(w.userA).DateTo, "2030-07-01T09:00:00Z")
			rlEq(t, "B's first slot", a.first(w.userB).DateFrom, "2030-07-01T08:00:00Z")
			rlEq(t, "travel counted", a.TravelCounted, false)
			rlEq(t, "note about coordinates", len(a.Notes), 1)
			// Saturday and Sunday are off by default.
			rlEq(t, "weekend slots", len(w.slots(t, id, "2030-07-06T00:00:00Z", "2030-07-08T00:00:00Z").Value), 0)
			// A job longer than a working day fits nowhere.
			long := job(rlObj{"estimated_time": 600})
			rlEq(t, "slots of a 10-hour job", len(w.slots(t, long, dsMon, "2030-07-05T00:00:00Z").Value), 0)
		})

		t.Run("skill", func(t *testing.T) {
			id := job(rlObj{"skill_code": "SK1"})
			a := w.slots(t, id, dsMon, dsTue)
			rlEq(t, "candidates with SK1", a.Candidates, 1)
			for _, s := range a.Value {
				rlEq(t, "slot user", s.UserID, w.userA)
			}
			missing := w.slots(t, job(rlObj{"skill_code": "SK2"}), dsMon, dsTue)
			rlEq(t, "candidates with SK2", missing.Candidates, 0)
			rlEq(t, "slots with SK2", len(missing.Value), 0)
			// An archived technician is no candidate.
			w.put(t, "User", w.userB, rlObj{"archived": true})
			rlEq(t, "candidates without archived B", w.slots(t, job(nil), dsMon, dsTue).Candidates, 1)
			w.put(t, "User", w.userB, rlObj{"archived": false})
		})

		t.Run("overlap and absence", func(t *testing.T) {
			other := job(nil)
			w.create(t, "JobPlanning", rlObj{"jobs_id": other, "user_id": w.userA,
				"date_from": "2030-07-01T08:00:00Z", "date_to": "2030-07-01T10:00:00Z"})
			ut := w.create(t, "UserUnavailabilityType", rlObj{"code": "HOL", "name": "Holiday"})
			// Not approved: an absence blocks planning all the same.
			w.create(t, "UserUnavailability", rlObj{"user_id": w.userA, "user_unavailability_type_id": ut,
				"date_start": "2030-07-01T10:00:00Z", "date_end": "2030-07-01T12:00:00Z", "is_approved": false})
			id := job(rlObj{"estimated_time": 90})
			a := w.slots(t, id, dsMon, dsTue, "user_id", w.userA)
			rlEq(t, "candidates", a.Candidates, 1)
			rlEq(t, "A's first slot after planning and absence", a.first(w.userA).DateFrom, "2030-07-01T12:00:00Z")
			rlEq(t, "slots that day (one per gap)", len(a.Value), 1)
		})

		t.Run("window", func(t *testing.T) {
			id := job(rlObj{"estimated_time": 60, "earliest_date_plannable": "2030-07-01T14:00:00Z", "due_date": "2030-07-01T15:30:00Z"})
			a := w.slots(t, id, dsMon, "2030-07-05T00:00:00Z")
			rlEq(t, "window start", a.DateFrom, "2030-07-01T14:00:00Z")
			rlEq(t, "window end", a.DateTo, "2030-07-01T15:30:00Z")
			rlEq(t, "B's slot", a.first(w.userB).DateFrom, "2030-07-01T14:00:00Z")
			tooLong := job(rlObj{"estimated_time": 120, "earliest_date_plannable": "2030-07-01T14:00:00Z", "due_date": "2030-07-01T15:30:00Z"})
			rlEq(t, "slots of a job longer than its window", len(w.slots(t, tooLong, dsMon, "2030-07-05T00:00:00Z").Value), 0)
			past := job(rlObj{"due_date": "2030-06-01T00:00:00Z"})
			empty := w.slots(t, past, dsMon, dsTue)
			rlEq(t, "slots after the due date", len(empty.Value), 0)
			rlEq(t, "notes", len(empty.Notes), 2)
		})

		t.Run("time zone and DST", func(t *testing.T) {
			w.create(t, "PlanningSetting", rlObj{"time_zone": "Europe/Brussels"})
			w.create(t, "PlanningSetting", rlObj{"user_id": w.userB, "hours_saturday": "08:00-17:00", "hours_sunday": "08:00-12:00,13:00-17:00"})
			id := job(rlObj{"estimated_time": 60})
			for _, c := range []struct{ day, next, want string }{
				{"2030-03-30T00:00:00Z", "2030-03-31T00:00:00Z", "2030-03-30T07:00:00Z"}, // Saturday, CET
				{"2030-03-31T00:00:00Z", "2030-04-01T00:00:00Z", "2030-03-31T06:00:00Z"}, // Sunday, DST starts: CEST
				{"2030-10-27T00:00:00Z", "2030-10-28T00:00:00Z", "2030-10-27T07:00:00Z"}, // Sunday, DST ends: CET
				{"2030-07-01T00:00:00Z", "2030-07-02T00:00:00Z", "2030-07-01T06:00:00Z"}, // Monday, CEST
			} {
				a := w.slots(t, id, c.day, c.next, "user_id", w.userB, "top", "50")
				rlEq(t, "B's first slot from "+c.day, a.first(w.userB).DateFrom, c.want)
			}
			// Sunday's lunch break: the morning slots end by 12:00 and the next starts at 13:00 local.
			a := w.slots(t, job(rlObj{"estimated_time": 240}), "2030-10-27T00:00:00Z", "2030-10-28T00:00:00Z", "user_id", w.userB)
			rlEq(t, "4-hour slots on a Sunday of two 4-hour periods", len(a.Value), 2)
			// A only works weekdays: nothing on Sunday.
			rlEq(t, "A on Sunday", len(w.slots(t, id, "2030-03-31T00:00:00Z", "2030-04-01T00:00:00Z", "user_id", w.userA).Value), 0)
			eff := w.must(t, 200, "GET", "/api/PlanningSetting/Effective", nil)
			vals := eff["value"].([]any)
			rlEq(t, "effective settings rows", len(vals), 2)
			rlEq(t, "tenant zone", rlStr(vals[0].(rlObj), "time_zone"), "Europe/Brussels")
			w.c.Do("DELETE", "/api/PlanningSetting("+w.where(t, "PlanningSetting", "user_id", w.userB)[0]["id"].(string)+")", nil)
			for _, r := range w.list(t, "PlanningSetting") {
				w.c.Do("DELETE", "/api/PlanningSetting("+rlStr(r, "id")+")", nil)
			}
		})

		t.Run("travel between two fixed coordinates", func(t *testing.T) {
			// B: a job in Brussels 08:00-09:00; the new job is in Antwerp,
			// 41.6 km away as the crow flies: x1.3 = 54.1 km at 50 km/h = 65 minutes.
			inBrussels := job(rlObj{"db_address_latitude_decimal": 50.8466, "db_address_longitude_decimal": 4.3528})
			w.create(t, "JobPlanning", rlObj{"jobs_id": inBrussels, "user_id": w.userB,
				"date_from": "2030-07-03T08:00:00Z", "date_to": "2030-07-03T09:00:00Z"})
			inAntwerp := job(rlObj{"estimated_time": 60, "db_address_latitude_decimal": 51.2194, "db_address_longitude_decimal": 4.4025})
			a := w.slots(t, inAntwerp, "2030-07-03T00:00:00Z", "2030-07-04T00:00:00Z", "user_id", w.userB)
			s := a.first(w.userB)
			rlEq(t, "travel counted", a.TravelCounted, true)
			rlEq(t, "start after travel", s.DateFrom, "2030-07-03T10:05:00Z")
			rlEq(t, "travel minutes", s.TravelBefore.Minutes, 65)
			rlEq(t, "travel km", s.TravelBefore.Km, 54.1)
			rlEq(t, "travel from", s.TravelBefore.JobsID, inBrussels)
			// A slot before the Brussels job would need 65 minutes to get there: none fits before 08:00.
			for _, sl := range a.Value {
				if sl.DateFrom < "2030-07-03T09:00:00Z" {
					t.Errorf("slot %s before the Brussels job leaves no time to travel", sl.DateFrom)
				}
			}
		})

		t.Run("job not stored", func(t *testing.T) {
			r := w.c.Do("POST", "/api/AvailableSlots?from="+url.QueryEscape(dsMon)+"&to="+url.QueryEscape(dsTue),
				rlObj{"estimated_time": 30, "skill_code": "SK1", "project_id": w.projectID})
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
			var a dsAnswer
			json.Unmarshal(r.Raw, &a)
			rlEq(t, "candidates", a.Candidates, 1)
			if len(a.Value) == 0 || a.Value[0].UserID != w.userA {
				t.Errorf("want slots of A, got %s", r.Raw)
			}
			rlWantError(t, w.c.Do("POST", "/api/AvailableSlots", rlObj{"skill_code": "NOPE"}), 422, "NOPE")
			rlWantError(t, w.c.Do("POST", "/api/AvailableSlots", rlObj{"estimated_time": "long"}), 400)
		})

		t.Run("bad requests", func(t *testing.T) {
			id := job(nil)
			for _, q := range []string{"top=0", "top=101", "from=yesterday", "from=2030-07-02&to=2030-07-01", "from=2030-01-01&to=2030-06-01", "user_id=nope"} {
				rlWantError(t, w.c.Do("GET", "/api/Jobs("+id+")/AvailableSlots?"+q, nil), 400)
			}
			rlWantError(t, w.c.Do("GET", "/api/Jobs("+rlNewGUID()+")/AvailableSlots", nil), 404)
			rlWantError(t, w.c.Do("POST", "/api/Jobs("+id+")/AvailableSlots", nil), 405)
			rlWantError(t, w.c.Do("POST", "/api/PlanningSetting", rlObj{"time_zone": "Mars/Olympus"}), 400, "Mars/Olympus")
			rlWantError(t, w.c.Do("POST", "/api/PlanningSetting", rlObj{"hours_monday": "9-5"}), 400, "hours_monday")
			rlWantError(t, w.c.Do("POST", "/api/PlanningSetting", rlObj{"hours_monday": "13:00-17:00,08:00-12:00"}), 400)
			rlWantError(t, w.c.Do("POST", "/api/PlanningSetting", rlObj{"detour_factor": 0.5}), 400, "detour_factor")
		})
	})
}

func TestBooking(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := dsNewWorld(t, dsn)
		busy := w.newJob(t, nil)
		w.create(t, "JobPlanning", rlObj{"jobs_id": busy, "user_id": w.userA,
			"date_from": "2030-07-01T08:00:00Z", "date_to": "2030-07-01T10:00:00Z"})
		ut := w.create(t, "UserUnavailabilityType", rlObj{"code": "SICK", "name": "Sick"})
		w.create(t, "UserUnavailability", rlObj{"user_id": w.userA, "user_unavailability_type_id": ut,
			"date_start": "2030-07-02T00:00:00Z", "date_end": "2030-07-03T00:00:00Z", "is_approved": true})
		plannings := func() int { return len(w.where(t, "JobPlanning", "user_id", w.userA)) }

		t.Run("Plan refuses an overlap with a planning, force books it", func(t *testing.T) {
			id := w.newJob(t, rlObj{"estimated_time": 45, "job_status_code": "ToBePlanned"})
			r := w.c.Do("POST", "/api/Jobs("+id+")/Plan", rlObj{"user_id": w.userA, "date_from": "2030-07-01T09:30:00Z"})
			rlWantError(t, r, 409, "not free", "force")
			dsWantDetailCode(t, r, "PlanningOverlap")
			rlEq(t, "plannings after refusal", plannings(), 1)
			rlEq(t, "status after refusal", w.jobStatus(t, id), "ToBePlanned")
			p := w.must(t, 201, "POST", "/api/Jobs("+id+")/Plan", rlObj{"user_id": w.userA, "date_from": "2030-07-01T09:30:00Z", "force": true})
			rlEq(t, "date_to from estimated_time", rlStr(p, "date_to"), "2030-07-01T10:15:00Z")
			rlEq(t, "status", w.jobStatus(t, id), "Planned")
			rlEq(t, "plannings", plannings(), 2)
		})

		t.Run("Plan in a free slot", func(t *testing.T) {
			id := w.newJob(t, nil)
			p := w.must(t, 201, "POST", "/api/Jobs("+id+")/Plan", rlObj{"user_code": "U1", "date_from": "2030-07-01T13:00:00Z"})
			rlEq(t, "default length", rlStr(p, "date_to"), "2030-07-01T14:00:00Z")
			rlEq(t, "status", w.jobStatus(t, id), "Planned")
			// Touching ends do not overlap.
			w.must(t, 201, "POST", "/api/Jobs("+id+")/Plan", rlObj{"user_id": w.userA, "date_from": "2030-07-01T14:00:00Z", "date_to": "2030-07-01T15:00:00Z"})
		})

		t.Run("JobPlanning POST and PUT follow the same rule", func(t *testing.T) {
			id := w.newJob(t, nil)
			body := rlObj{"jobs_id": id, "user_id": w.userA, "date_from": "2030-07-02T09:00:00Z", "date_to": "2030-07-02T10:00:00Z"}
			r := w.c.Do("POST", "/api/JobPlanning", body)
			rlWantError(t, r, 409, "approved absence")
			dsWantDetailCode(t, r, "AbsenceOverlap")
			rlEq(t, "status after refusal", w.jobStatus(t, id), "Open")
			body["date_from"], body["date_to"] = "2030-07-04T09:00:00Z", "2030-07-04T10:00:00Z"
			pid := w.create(t, "JobPlanning", body)
			// Moving it onto the 08:00-10:00 planning is refused; the row stays.
			rlWantError(t, w.c.Do("PUT", rlPath("JobPlanning", pid), rlObj{"date_from": "2030-07-01T09:00:00Z", "date_to": "2030-07-01T09:30:00Z"}), 409)
			rlEq(t, "planning after refused move", rlStr(w.get(t, "JobPlanning", pid), "date_from"), "2030-07-04T09:00:00Z")
			// Resizing within free time, and changing other fields, is fine.
			w.put(t, "JobPlanning", pid, rlObj{"date_to": "2030-07-04T11:00:00Z"})
			w.put(t, "JobPlanning", pid, rlObj{"is_leader": true})
			// Another technician is free then.
			w.put(t, "JobPlanning", pid, rlObj{"user_id": w.userB, "date_from": "2030-07-01T09:00:00Z", "date_to": "2030-07-01T09:30:00Z"})
			w.put(t, "JobPlanning", pid, rlObj{"user_id": w.userA, "force": true})
			rlWantError(t, w.c.Do("POST", "/api/JobPlanning", rlObj{"jobs_id": id, "user_id": w.userB, "force": "yes",
				"date_from": "2030-07-05T09:00:00Z", "date_to": "2030-07-05T10:00:00Z"}), 400, "force")
		})

		t.Run("Plan validates its body", func(t *testing.T) {
			id := w.newJob(t, nil)
			rlWantError(t, w.c.Do("POST", "/api/Jobs("+id+")/Plan", rlObj{"user_id": w.userA}), 400, "date_from")
			rlWantError(t, w.c.Do("POST", "/api/Jobs("+id+")/Plan", rlObj{"user_id": w.userA, "date_from": "2030-07-05T09:00:00Z", "colour": "red"}), 400, "colour")
			rlWantError(t, w.c.Do("POST", "/api/Jobs("+rlNewGUID()+")/Plan", rlObj{"user_id": w.userA, "date_from": "2030-07-05T09:00:00Z"}), 404)
			rlWantError(t, w.c.Do("GET", "/api/Jobs("+id+")/Plan", nil), 405)
			rlEq(t, "status after refusals", w.jobStatus(t, id), "Open")
		})
	})
}

func dsWantDetailCode(t *testing.T, r *testenv.Response, code string) {
	t.Helper()
	for _, d := range rlDetails(r) {
		if rlStr(d, "code") == code {
			return
		}
	}
	t.Errorf("no detail with code %s in %s", code, r.Raw)
}

// TestBookingConcurrent: bookings of one technician at the same time, sent
// at once, leave exactly one planning; the others are refused 409.
func TestBookingConcurrent(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := dsNewWorld(t, dsn)
		const n = 6
		jobs := make([]string, n)
		for i := range jobs {
			jobs[i] = w.newJob(t, rlObj{"estimated_time": 60})
		}
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for i := range jobs {
			wg.Add(1)
			go func(job string, minute int) {
				defer wg.Done()
				// Starts a few minutes apart: every pair overlaps.
				from := fmt.Sprintf("2030-07-01T09:%02d:00Z", minute)
				statuses <- w.c.Do("POST", "/api/Jobs("+job+")/Plan", rlObj{"user_id": w.userA, "date_from": from}).Status
			}(jobs[i], i*5)
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[201] != 1 || count[409] != n-1 {
			t.Fatalf("statuses %v, want one 201 and %d 409", count, n-1)
		}
		rlEq(t, "plannings of the technician", len(w.where(t, "JobPlanning", "user_id", w.userA)), 1)
	})
}
