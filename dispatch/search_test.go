package dispatch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestParseHours(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // FormatHours of the result, or "error"
	}{
		{"08:00-17:00", "08:00-17:00"},
		{" 08:00-12:00, 13:00-17:30 ", "08:00-12:00,13:00-17:30"},
		{"off", "off"},
		{"OFF", "off"},
		{"00:00-24:00", "00:00-24:00"},
		{"9-5", "error"},
		{"08:00-08:00", "error"},
		{"13:00-17:00,08:00-12:00", "error"},
		{"08:00-12:00,11:00-13:00", "error"},
		{"24:30-25:00", "error"},
		{"08:60-09:00", "error"},
		{"8:00-9:0", "error"},
	} {
		spans, err := ParseHours(c.in)
		got := FormatHours(spans)
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("ParseHours(%q) = %s (%v), want %s", c.in, got, err, c.want)
		}
	}
}

func TestResolveLayers(t *testing.T) {
	tenant := &Setting{TimeZone: "Europe/Brussels", DetourFactor: 1.5}
	tenant.Hours[time.Saturday] = "09:00-12:00"
	user := &Setting{}
	user.Hours[time.Monday] = "off"
	r, err := Resolve(tenant, user)
	if err != nil {
		t.Fatal(err)
	}
	if r.Loc.String() != "Europe/Brussels" || r.DetourFactor != 1.5 || r.SpeedKmh != DefaultSpeedKmh {
		t.Errorf("rules %v %v %v", r.Loc, r.DetourFactor, r.SpeedKmh)
	}
	if FormatHours(r.Week[time.Monday]) != "off" || FormatHours(r.Week[time.Tuesday]) != "08:00-17:00" ||
		FormatHours(r.Week[time.Saturday]) != "09:00-12:00" || FormatHours(r.Week[time.Sunday]) != "off" {
		t.Errorf("week %v", r.Week)
	}
	if _, err := Resolve(&Setting{TimeZone: "Mars/Olympus"}); err == nil {
		t.Error("unknown zone accepted")
	}
}

func TestDistance(t *testing.T) {
	brussels, antwerp := Point{50.8466, 4.3528}, Point{51.2194, 4.4025}
	if d := DistanceKm(brussels, antwerp); math.Abs(d-41.6) > 0.1 {
		t.Errorf("Brussels-Antwerp %.2f km, want 41.6", d)
	}
	if d := DistanceKm(brussels, brussels); d != 0 {
		t.Errorf("same point %.3f", d)
	}
	// A quarter of the equator.
	if d := DistanceKm(Point{0, 0}, Point{0, 90}); math.Abs(d-10007.5) > 1 {
		t.Errorf("quarter equator %.1f", d)
	}
	leg := DefaultRules().travel(&brussels, &antwerp)
	if leg.Minutes != 65 || leg.Km != 54.1 || !leg.Known {
		t.Errorf("leg %+v, want 65 min, 54.1 km", leg)
	}
	if leg := DefaultRules().travel(nil, &antwerp); leg.Known || leg.Minutes != 0 {
		t.Errorf("leg without coordinates %+v", leg)
	}
}

// TestBoundedSearchIsExact: the search that stops early and fetches
// coordinates lazily returns exactly the first Top slots of the exhaustive
// search, on random busy days.
func TestBoundedSearchIsExact(t *testing.T) {
	from := time.Date(2030, 7, 1, 0, 0, 0, 0, time.UTC)
	loc, _ := time.LoadLocation("Europe/Brussels")
	for seed := uint64(1); seed <= 30; seed++ {
		rnd := rand.New(rand.NewPCG(seed, 9))
		coords := map[string]*Point{}
		rules := DefaultRules()
		rules.Loc = loc
		var cands []Candidate
		for u := 0; u < 8; u++ {
			c := Candidate{UserID: fmt.Sprint("u", u), Rules: rules}
			for d := 0; d < 5; d++ {
				at := from.AddDate(0, 0, d).Add(6 * time.Hour)
				for k := 0; k < rnd.IntN(8); k++ {
					at = at.Add(time.Duration(5*rnd.IntN(24)) * time.Minute)
					m := time.Duration(15+15*rnd.IntN(6)) * time.Minute
					job := fmt.Sprint("j", seed, u, d, k)
					if rnd.IntN(5) > 0 {
						coords[job] = &Point{50 + rnd.Float64(), 3 + 2*rnd.Float64()}
					}
					c.Busy = append(c.Busy, Busy{From: at, To: at.Add(m), JobID: job, Absence: rnd.IntN(15) == 0})
					at = at.Add(m)
				}
			}
			cands = append(cands, c)
		}
		job := Job{Minutes: 30 + 15*rnd.IntN(4), At: &Point{50.5, 4}}
		lookups := 0
		lazy := func(ids []string) (map[string]*Point, error) {
			lookups++
			out := map[string]*Point{}
			for _, id := range ids {
				if p := coords[id]; p != nil {
					out[id] = p
				}
			}
			return out, nil
		}
		// The exhaustive search: every coordinate known up front, no Top.
		full := make([]Candidate, len(cands))
		for i, c := range cands {
			full[i] = c
			full[i].Busy = nil
			for _, b := range c.Busy {
				b.At = coords[b.JobID]
				full[i].Busy = append(full[i].Busy, b)
			}
		}
		all, err := Search(Request{Job: job, From: from, To: from.AddDate(0, 0, 5), Candidates: full})
		if err != nil {
			t.Fatal(err)
		}
		top, err := Search(Request{Job: job, From: from, To: from.AddDate(0, 0, 5), Top: 7, Candidates: cands, Coords: lazy})
		if err != nil {
			t.Fatal(err)
		}
		want := all.Slots[:min(7, len(all.Slots))]
		if len(top.Slots) != len(want) {
			t.Fatalf("seed %d: %d slots, want %d", seed, len(top.Slots), len(want))
		}
		for i := range want {
			a, b := top.Slots[i], want[i]
			if a.UserID != b.UserID || !a.Start.Equal(b.Start) || a.Score != b.Score || a.TravelBefore != b.TravelBefore {
				t.Errorf("seed %d slot %d: %s %s %.3f %+v, want %s %s %.3f %+v", seed, i,
					a.UserID, a.Start, a.Score, a.TravelBefore, b.UserID, b.Start, b.Score, b.TravelBefore)
			}
		}
	}
}

// TestSearchNeverOverlaps: no slot overlaps a busy period or leaves working
// hours, and each leaves the travel time it reports.
func TestSearchNeverOverlaps(t *testing.T) {
	from := time.Date(2030, 3, 25, 0, 0, 0, 0, time.UTC) // the week DST starts in Europe
	loc, _ := time.LoadLocation("Europe/Brussels")
	rnd := rand.New(rand.NewPCG(3, 4))
	rules := DefaultRules()
	rules.Loc = loc
	rules.Week[time.Sunday] = []Span{{7 * 60, 19 * 60}}
	c := Candidate{UserID: "u", Rules: rules}
	at := from
	for at.Before(from.AddDate(0, 0, 7)) {
		at = at.Add(time.Duration(5+5*rnd.IntN(30)) * time.Minute)
		m := time.Duration(10+5*rnd.IntN(20)) * time.Minute
		c.Busy = append(c.Busy, Busy{From: at, To: at.Add(m), JobID: "x", At: &Point{50 + rnd.Float64(), 4}})
		at = at.Add(m)
	}
	res, err := Search(Request{Job: Job{Minutes: 20, At: &Point{50.5, 4}}, From: from, To: from.AddDate(0, 0, 7), Candidates: []Candidate{c}})
	if err != nil || len(res.Slots) == 0 {
		t.Fatal(len(res.Slots), err)
	}
	for _, s := range res.Slots {
		for _, b := range c.Busy {
			if s.Start.Add(-minutes(s.TravelBefore.Minutes)).Before(b.To) && b.From.Before(s.End.Add(minutes(s.TravelAfter.Minutes))) {
				t.Errorf("slot %s-%s (+travel) overlaps %s-%s", s.Start, s.End, b.From, b.To)
			}
		}
		l, e := s.Start.In(loc), s.End.In(loc)
		if l.Hour() < 8 && l.Weekday() != time.Sunday || e.Hour()*60+e.Minute() > 17*60 && l.Weekday() != time.Sunday || l.Minute()%Step != 0 {
			t.Errorf("slot %s-%s outside working hours or not aligned", l, e)
		}
	}
}
