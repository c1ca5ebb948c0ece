package dispatch

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Job is what slot search needs of a job.
type Job struct {
	ID       string
	Minutes  int    // estimated_time; DefaultMinutes when not positive
	At       *Point // nil: the job has no coordinates
	Earliest time.Time
	Due      time.Time
}

// DefaultMinutes is the length of a job without estimated_time.
const DefaultMinutes = 60

// Busy is a period a candidate is not free: a planning or an absence.
type Busy struct {
	From, To time.Time
	Absence  bool
	JobID    string // plannings: the planned job
	At       *Point // plannings: the planned job's coordinates, nil when unknown
}

// Candidate is a technician who may do the job, with everything that
// occupies them in the window (any order).
type Candidate struct {
	UserID string
	Name   string
	Rules  Rules
	Busy   []Busy
}

// Request is one slot search.
type Request struct {
	Job        Job
	From, To   time.Time
	Top        int
	Candidates []Candidate
}

// Reason is one part of a slot's score.
type Reason struct {
	Reason string  `json:"reason"` // earliest, travel, lighter_day
	Value  float64 `json:"value"`  // 0..1, 1 is best
	Weight float64 `json:"weight"`
	Detail string  `json:"detail"`
}

// Slot is one time a candidate can do the job.
type Slot struct {
	UserID       string    `json:"user_id"`
	UserName     string    `json:"user_name"`
	Start        time.Time `json:"date_from"`
	End          time.Time `json:"date_to"`
	TravelBefore Leg       `json:"travel_before"`
	TravelAfter  Leg       `json:"travel_after"`
	Score        float64   `json:"score"`
	Reasons      []Reason  `json:"reasons"`
}

// Result is the answer of a search.
type Result struct {
	From, To time.Time // the effective window
	Minutes  int
	Slots    []Slot
	// TravelCounted is false when the job has no coordinates.
	TravelCounted bool
}

// Score weights; they add up to 1.
const (
	WeightEarliest = 0.5
	WeightTravel   = 0.3
	WeightLighter  = 0.2
	// travelScale is the added travel (minutes) that halves the travel score.
	travelScale = 30.0
	// Step aligns slot starts: a slot starts on a multiple of Step minutes
	// (in the candidate's time zone).
	Step = 5
)

// Window is the effective search window of a job: [from, to] narrowed by
// the job's earliest_date_plannable and due_date.
func Window(job Job, from, to time.Time) (time.Time, time.Time) {
	if !job.Earliest.IsZero() && job.Earliest.After(from) {
		from = job.Earliest
	}
	if !job.Due.IsZero() && job.Due.Before(to) {
		to = job.Due
	}
	return from, to
}

// Search finds the free slots of every candidate and returns the best Top
// by score (then start, then user).
func Search(req Request) Result {
	minutesNeeded := req.Job.Minutes
	if minutesNeeded <= 0 {
		minutesNeeded = DefaultMinutes
	}
	from, to := Window(req.Job, req.From, req.To)
	res := Result{From: from, To: to, Minutes: minutesNeeded, TravelCounted: req.Job.At != nil, Slots: []Slot{}}
	if !to.After(from) {
		return res
	}
	s := searcher{job: req.Job, dur: minutes(minutesNeeded), from: from, to: to}
	for i := range req.Candidates {
		s.candidate(&req.Candidates[i])
	}
	sort.Slice(s.slots, func(i, j int) bool {
		a, b := s.slots[i], s.slots[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.UserID < b.UserID
	})
	if req.Top > 0 && len(s.slots) > req.Top {
		s.slots = s.slots[:req.Top]
	}
	res.Slots = append(res.Slots, s.slots...)
	return res
}

type searcher struct {
	job      Job
	dur      time.Duration
	from, to time.Time
	slots    []Slot
}

// interval is a half-open [from, to).
type interval struct{ from, to time.Time }

func (s *searcher) candidate(c *Candidate) {
	busy := append([]Busy(nil), c.Busy...)
	sort.Slice(busy, func(i, j int) bool { return busy[i].From.Before(busy[j].From) })
	loc := c.Rules.Loc
	if loc == nil {
		loc = time.UTC
	}
	first := s.from.In(loc)
	day := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc)
	for !day.After(s.to) {
		next := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
		s.day(c, loc, day, next, busy)
		day = next
	}
}

// day finds the slots of one local day [day, next) of a candidate.
func (s *searcher) day(c *Candidate, loc *time.Location, day, next time.Time, busy []Busy) {
	var work []interval
	workMinutes := 0.0
	for _, sp := range c.Rules.Week[day.Weekday()] {
		a := time.Date(day.Year(), day.Month(), day.Day(), sp.From/60, sp.From%60, 0, 0, loc)
		b := time.Date(day.Year(), day.Month(), day.Day(), sp.To/60, sp.To%60, 0, 0, loc)
		if !b.After(a) {
			continue
		}
		work = append(work, interval{a, b})
		workMinutes += b.Sub(a).Minutes()
	}
	if len(work) == 0 {
		return
	}
	// The day's busy periods; plannings are the appointments travel runs between.
	var today, appts []Busy
	booked := 0.0
	for _, b := range busy {
		if b.To.After(day) && b.From.Before(next) {
			today = append(today, b)
			if !b.Absence {
				appts = append(appts, b)
				for _, w := range work {
					booked += overlap(b.From, b.To, w.from, w.to).Minutes()
				}
			}
		}
	}
	lighter := 1 - math.Min(1, booked/workMinutes)
	for _, w := range work {
		a, b := maxTime(w.from, s.from), minTime(w.to, s.to)
		for _, gap := range freeGaps(interval{a, b}, today) {
			s.gap(c, loc, gap, appts, lighter, booked, workMinutes)
		}
	}
}

// gap proposes the earliest slot of one free gap, leaving room to travel
// from the appointment before and to the appointment after (same day).
func (s *searcher) gap(c *Candidate, loc *time.Location, g interval, appts []Busy, lighter, booked, workMinutes float64) {
	var prev, next *Busy
	for i := range appts {
		a := &appts[i]
		if !a.To.After(g.from) && (prev == nil || a.To.After(prev.To)) {
			prev = a
		}
		if !a.From.Before(g.to) && (next == nil || a.From.Before(next.From)) {
			next = a
		}
	}
	var before, after, direct Leg
	start, limit := g.from, g.to
	if prev != nil {
		before = c.Rules.travel(prev.At, s.job.At)
		before.JobID = prev.JobID
		start = maxTime(start, prev.To.Add(minutes(before.Minutes)))
	}
	if next != nil {
		after = c.Rules.travel(s.job.At, next.At)
		after.JobID = next.JobID
		limit = minTime(limit, next.From.Add(-minutes(after.Minutes)))
	}
	if prev != nil && next != nil {
		direct = c.Rules.travel(prev.At, next.At)
	}
	start = alignUp(start, loc)
	end := start.Add(s.dur)
	if end.After(limit) {
		return
	}
	added := before.Minutes + after.Minutes - direct.Minutes
	if added < 0 {
		added = 0
	}
	window := s.to.Sub(s.from).Minutes()
	earliest := 1 - start.Sub(s.from).Minutes()/window
	travel := 1 / (1 + float64(added)/travelScale)
	score := WeightEarliest*earliest + WeightTravel*travel + WeightLighter*lighter
	s.slots = append(s.slots, Slot{
		UserID: c.UserID, UserName: c.Name, Start: start, End: end,
		TravelBefore: before, TravelAfter: after, Score: round3(score),
		Reasons: []Reason{
			{"earliest", round3(earliest), WeightEarliest, fmt.Sprintf("starts %s after the window opens", humanDuration(start.Sub(s.from)))},
			{"travel", round3(travel), WeightTravel, travelDetail(added, before, after, s.job.At != nil)},
			{"lighter_day", round3(lighter), WeightLighter, fmt.Sprintf("%.0f of %.0f working minutes already planned that day", booked, workMinutes)},
		},
	})
}

func travelDetail(added int, before, after Leg, counted bool) string {
	if !counted {
		return "the job has no coordinates: travel is not counted"
	}
	return fmt.Sprintf("%d minutes of added travel (%.1f km before, %.1f km after)", added, before.Km, after.Km)
}

// freeGaps subtracts the busy periods from w.
func freeGaps(w interval, busy []Busy) []interval {
	var out []interval
	cur := w.from
	for _, b := range busy { // sorted by From
		if !b.To.After(cur) {
			continue
		}
		if !b.From.Before(w.to) {
			break
		}
		if b.From.After(cur) {
			out = append(out, interval{cur, b.From})
		}
		cur = b.To
	}
	if w.to.After(cur) {
		out = append(out, interval{cur, w.to})
	}
	return out
}

// alignUp moves t to the next multiple of Step minutes of local wall time.
func alignUp(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	rem := time.Duration(l.Minute()%Step)*time.Minute + time.Duration(l.Second())*time.Second + time.Duration(l.Nanosecond())
	if rem == 0 {
		return t
	}
	return t.Add(minutes(Step) - rem)
}

func overlap(a1, a2, b1, b2 time.Time) time.Duration {
	d := minTime(a2, b2).Sub(maxTime(a1, b1))
	if d < 0 {
		return 0
	}
	return d
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func humanDuration(d time.Duration) string {
	h := int(d.Hours())
	if h >= 24 {
		return fmt.Sprintf("%dd %dh", h/24, h%24)
	}
	return fmt.Sprintf("%dh %02dm", h, int(d.Minutes())%60)
}
