package dispatch

import (
	"container/heap"
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
	// At is the planned job's place when known up front; else Request.Coords
	// is asked for it, only when the slot next to it may rank.
	At *Point
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
	Top        int // 0: every slot
	Candidates []Candidate
	// Coords returns the coordinates of planned jobs by id (jobs without
	// any left out). Search calls it only for the neighbours of the slots
	// that may rank, a few dozen jobs, however many plannings there are.
	Coords func(jobIDs []string) (map[string]*Point, error)
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
	UserID       string
	UserName     string
	Start, End   time.Time
	TravelBefore Leg
	TravelAfter  Leg
	Score        float64
	Reasons      []Reason
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
	// coordsBatch is how many gaps' neighbours the first lookup fetches;
	// each further lookup fetches twice as many, so a search makes few.
	coordsBatch = 64
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
//
// It runs in two passes. The first finds every free gap long enough for the
// job and its score bound: the score of a slot at the gap's start with no
// travel, which travel can only lower. The second takes the gaps by falling
// bound and places the job in each, with travel from the appointment before
// and to the appointment after, until the Top slots found all score above
// the next gap's bound. Coordinates are fetched for those gaps only.
func Search(req Request) (Result, error) {
	minutesNeeded := req.Job.Minutes
	if minutesNeeded <= 0 {
		minutesNeeded = DefaultMinutes
	}
	from, to := Window(req.Job, req.From, req.To)
	res := Result{From: from, To: to, Minutes: minutesNeeded, TravelCounted: req.Job.At != nil, Slots: []Slot{}}
	if !to.After(from) {
		return res, nil
	}
	s := searcher{job: req.Job, dur: minutes(minutesNeeded), from: from, to: to, window: to.Sub(from).Minutes()}
	for i := range req.Candidates {
		s.candidate(&req.Candidates[i])
	}
	sort.Slice(s.gaps, func(i, j int) bool { return s.gaps[i].less(&s.gaps[j]) })
	best := &slotHeap{}
	s.batch = coordsBatch
	top := req.Top
	if top <= 0 {
		top = len(s.gaps)
	}
	for i := 0; i < len(s.gaps); i++ {
		g := &s.gaps[i]
		if best.Len() == top && (*best)[0].score > g.bound {
			break
		}
		if !g.coordsKnown && req.Job.At != nil && req.Coords != nil {
			if err := s.fetchCoords(req.Coords, i); err != nil {
				return res, err
			}
		}
		sl, ok := s.place(g)
		if !ok {
			continue
		}
		if best.Len() < top {
			heap.Push(best, sl)
		} else if sl.better(&(*best)[0]) {
			(*best)[0] = sl
			heap.Fix(best, 0)
		}
	}
	out := []scored(*best)
	sort.Slice(out, func(i, j int) bool { return out[i].better(&out[j]) })
	for _, sl := range out {
		res.Slots = append(res.Slots, s.finish(sl))
	}
	return res, nil
}

type searcher struct {
	job      Job
	dur      time.Duration
	from, to time.Time
	window   float64 // minutes
	gaps     []gap
	batch    int // gaps whose coordinates the next lookup fetches; doubles each time
}

// gap is a free period of one candidate's working day that can hold the job
// when travel is left out.
type gap struct {
	c                  *Candidate
	loc                *time.Location
	from, to           time.Time
	prev, next         *Busy // the day's appointments around the gap (nil: none)
	lighter            float64
	booked, workMins   float64
	bound              float64 // score at the gap's start without travel
	coordsKnown        bool
	alignedFrom        time.Time
	userIDForTieBreaks string
}

func (g *gap) less(o *gap) bool {
	if g.bound != o.bound {
		return g.bound > o.bound
	}
	if !g.alignedFrom.Equal(o.alignedFrom) {
		return g.alignedFrom.Before(o.alignedFrom)
	}
	return g.userIDForTieBreaks < o.userIDForTieBreaks
}

// scored is a placed slot before its reasons are written.
type scored struct {
	g                       *gap
	start                   time.Time
	before, after           Leg
	added                   int
	earliest, travel, score float64
}

func (a *scored) better(b *scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if !a.start.Equal(b.start) {
		return a.start.Before(b.start)
	}
	return a.g.c.UserID < b.g.c.UserID
}

// slotHeap keeps the best slots found so far, worst on top.
type slotHeap []scored

func (h slotHeap) Len() int           { return len(h) }
func (h slotHeap) Less(i, j int) bool { return h[j].better(&h[i]) }
func (h slotHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *slotHeap) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *slotHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// interval is a half-open [from, to).
type interval struct{ from, to time.Time }

func (s *searcher) candidate(c *Candidate) {
	sort.Slice(c.Busy, func(i, j int) bool { return c.Busy[i].From.Before(c.Busy[j].From) })
	loc := c.Rules.Loc
	if loc == nil {
		loc = time.UTC
	}
	first := s.from.In(loc)
	day := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc)
	lo := 0 // the first busy period that may touch the day
	for day.Before(s.to) {
		next := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
		for lo < len(c.Busy) && !c.Busy[lo].To.After(day) && !c.Busy[lo].From.After(day) {
			lo++
		}
		s.day(c, loc, day, next, c.Busy[lo:])
		day = next
	}
}

// day collects the gaps of one local day [day, next) of a candidate.
func (s *searcher) day(c *Candidate, loc *time.Location, day, next time.Time, busy []Busy) {
	var work [4]interval
	spans := work[:0]
	workMinutes := 0.0
	for _, sp := range c.Rules.Week[day.Weekday()] {
		a := time.Date(day.Year(), day.Month(), day.Day(), sp.From/60, sp.From%60, 0, 0, loc)
		b := time.Date(day.Year(), day.Month(), day.Day(), sp.To/60, sp.To%60, 0, 0, loc)
		if b.After(a) {
			spans = append(spans, interval{a, b})
			workMinutes += b.Sub(a).Minutes()
		}
	}
	if len(spans) == 0 {
		return
	}
	// The day's busy periods (sorted by start); plannings are the
	// appointments travel runs between.
	end := 0
	for end < len(busy) && busy[end].From.Before(next) {
		end++
	}
	today := busy[:end]
	booked := 0.0
	for i := range today {
		if b := &today[i]; !b.Absence && b.To.After(day) {
			for _, w := range spans {
				booked += overlap(b.From, b.To, w.from, w.to).Minutes()
			}
		}
	}
	lighter := 1 - math.Min(1, booked/workMinutes)
	for _, w := range spans {
		a, b := maxTime(w.from, s.from), minTime(w.to, s.to)
		cur := a
		for i := range today {
			bz := &today[i]
			if !bz.To.After(cur) {
				continue
			}
			if !bz.From.Before(b) {
				break
			}
			if bz.From.After(cur) {
				s.addGap(c, loc, cur, bz.From, today, day, lighter, booked, workMinutes)
			}
			cur = bz.To
		}
		if b.After(cur) {
			s.addGap(c, loc, cur, b, today, day, lighter, booked, workMinutes)
		}
	}
}

func (s *searcher) addGap(c *Candidate, loc *time.Location, from, to time.Time, today []Busy, day time.Time, lighter, booked, workMinutes float64) {
	start := alignUp(from, loc)
	if start.Add(s.dur).After(to) {
		return
	}
	g := gap{c: c, loc: loc, from: from, to: to, lighter: lighter, booked: booked, workMins: workMinutes,
		alignedFrom: start, userIDForTieBreaks: c.UserID, coordsKnown: true}
	for i := range today {
		a := &today[i]
		if a.Absence || !a.To.After(day) {
			continue
		}
		if !a.To.After(from) && (g.prev == nil || a.To.After(g.prev.To)) {
			g.prev = a
		}
		if !a.From.Before(to) && (g.next == nil || a.From.Before(g.next.From)) {
			g.next = a
		}
	}
	for _, a := range []*Busy{g.prev, g.next} {
		if a != nil && a.At == nil && a.JobID != "" {
			g.coordsKnown = false
		}
	}
	g.bound = WeightEarliest*s.earliest(start) + WeightTravel + WeightLighter*lighter
	s.gaps = append(s.gaps, g)
}

// fetchCoords looks up the unknown neighbours of the gaps from i on, a
// batch at a time.
func (s *searcher) fetchCoords(coords func([]string) (map[string]*Point, error), i int) error {
	var ids []string
	var pending []*Busy
	n := s.batch
	s.batch *= 2
	for j := i; j < len(s.gaps) && j < i+n; j++ {
		g := &s.gaps[j]
		for _, a := range []*Busy{g.prev, g.next} {
			if a != nil && a.At == nil && a.JobID != "" {
				ids = append(ids, a.JobID)
				pending = append(pending, a)
			}
		}
	}
	found, err := coords(ids)
	if err != nil {
		return err
	}
	for _, a := range pending {
		if p := found[a.JobID]; p != nil {
			a.At = p
		} else {
			a.At = nowhere // known to have no coordinates
		}
	}
	for j := i; j < len(s.gaps) && j < i+n; j++ {
		s.gaps[j].coordsKnown = true
	}
	return nil
}

// nowhere marks a planned job known to have no coordinates.
var nowhere = &Point{Lat: math.NaN()}

func place(p *Point) *Point {
	if p == nowhere {
		return nil
	}
	return p
}

// place puts the job in a gap as early as travel from the appointment before
// allows, leaving time to reach the appointment after.
func (s *searcher) place(g *gap) (scored, bool) {
	rules := g.c.Rules
	var before, after, direct Leg
	start, limit := g.from, g.to
	if g.prev != nil {
		before = rules.travel(place(g.prev.At), s.job.At)
		before.JobID = g.prev.JobID
		start = maxTime(start, g.prev.To.Add(minutes(before.Minutes)))
	}
	if g.next != nil {
		after = rules.travel(s.job.At, place(g.next.At))
		after.JobID = g.next.JobID
		limit = minTime(limit, g.next.From.Add(-minutes(after.Minutes)))
	}
	if g.prev != nil && g.next != nil {
		direct = rules.travel(place(g.prev.At), place(g.next.At))
	}
	start = alignUp(start, g.loc)
	if start.Add(s.dur).After(limit) {
		return scored{}, false
	}
	added := before.Minutes + after.Minutes - direct.Minutes
	if added < 0 {
		added = 0
	}
	sl := scored{g: g, start: start, before: before, after: after, added: added,
		earliest: s.earliest(start), travel: 1 / (1 + float64(added)/travelScale)}
	sl.score = WeightEarliest*sl.earliest + WeightTravel*sl.travel + WeightLighter*g.lighter
	return sl, true
}

func (s *searcher) earliest(start time.Time) float64 {
	return 1 - start.Sub(s.from).Minutes()/s.window
}

// finish writes a ranked slot with its reasons.
func (s *searcher) finish(sl scored) Slot {
	g := sl.g
	return Slot{
		UserID: g.c.UserID, UserName: g.c.Name, Start: sl.start, End: sl.start.Add(s.dur),
		TravelBefore: sl.before, TravelAfter: sl.after, Score: round3(sl.score),
		Reasons: []Reason{
			{"earliest", round3(sl.earliest), WeightEarliest, fmt.Sprintf("starts %s after the window opens", humanDuration(sl.start.Sub(s.from)))},
			{"travel", round3(sl.travel), WeightTravel, travelDetail(sl.added, sl.before, sl.after, s.job.At != nil)},
			{"lighter_day", round3(g.lighter), WeightLighter, fmt.Sprintf("%.0f of %.0f working minutes already planned that day", g.booked, g.workMins)},
		},
	}
}

func travelDetail(added int, before, after Leg, counted bool) string {
	if !counted {
		return "the job has no coordinates: travel is not counted"
	}
	return fmt.Sprintf("%d minutes of added travel (%.1f km before, %.1f km after)", added, before.Km, after.Km)
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
