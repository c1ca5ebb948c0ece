// Package dispatch answers "who can do this job, when": slot search over
// technicians' working hours, absences, plannings and travel between
// appointments. The engine (Search) is pure Go over loaded inputs; Load reads
// those inputs through a tenant-scoped ordo.Tx.
package dispatch

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "time/tzdata" // IANA zones even on hosts without /usr/share/zoneinfo
)

// Span is one working period of a day, in minutes since local midnight.
type Span struct{ From, To int }

// Week holds the working spans of each weekday, indexed by time.Weekday.
type Week [7][]Span

// Rules are the settings one technician is planned with.
type Rules struct {
	Loc          *time.Location
	Week         Week
	DetourFactor float64 // road distance / great-circle distance
	SpeedKmh     float64 // average travel speed
}

// Built-in defaults, used when neither the user nor the tenant sets a value.
const (
	DefaultTimeZone     = "UTC"
	DefaultHours        = "08:00-17:00"
	DefaultDetourFactor = 1.3
	DefaultSpeedKmh     = 50.0
	// Off marks a day without working hours.
	Off = "off"
)

// DefaultWeek is Monday-Friday 08:00-17:00.
func DefaultWeek() Week {
	var w Week
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = []Span{{8 * 60, 17 * 60}}
	}
	return w
}

// DefaultRules are the rules of a tenant that set nothing.
func DefaultRules() Rules {
	return Rules{Loc: time.UTC, Week: DefaultWeek(), DetourFactor: DefaultDetourFactor, SpeedKmh: DefaultSpeedKmh}
}

// Weekdays are the settings' day names, indexed by time.Weekday.
var Weekdays = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// ParseHours reads a day's working hours: "off", or comma-separated
// "HH:MM-HH:MM" periods in increasing order ("08:00-12:00,13:00-17:00";
// "24:00" ends a day).
func ParseHours(s string) ([]Span, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, Off) {
		return nil, nil
	}
	var out []Span
	for _, part := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, fmt.Errorf("%q is not HH:MM-HH:MM", part)
		}
		a, err := parseClock(from)
		if err != nil {
			return nil, err
		}
		b, err := parseClock(to)
		if err != nil {
			return nil, err
		}
		if b <= a {
			return nil, fmt.Errorf("%q ends before it starts", part)
		}
		if len(out) > 0 && a < out[len(out)-1].To {
			return nil, fmt.Errorf("%q overlaps or precedes the period before it", part)
		}
		out = append(out, Span{a, b})
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	return hh*60 + mm, nil
}

// FormatHours renders spans the way ParseHours reads them.
func FormatHours(spans []Span) string {
	if len(spans) == 0 {
		return Off
	}
	parts := make([]string, len(spans))
	for i, s := range spans {
		parts[i] = fmt.Sprintf("%02d:%02d-%02d:%02d", s.From/60, s.From%60, s.To/60, s.To%60)
	}
	return strings.Join(parts, ",")
}

// Setting is one stored settings row: empty strings and zeros inherit.
type Setting struct {
	TimeZone     string
	Hours        [7]string // by time.Weekday
	DetourFactor float64
	SpeedKmh     float64
}

// Resolve layers settings: the built-in defaults, then each setting in
// order (tenant, then user); a later non-empty value wins.
func Resolve(layers ...*Setting) (Rules, error) {
	r := DefaultRules()
	for _, s := range layers {
		if s == nil {
			continue
		}
		if s.TimeZone != "" {
			loc, err := time.LoadLocation(s.TimeZone)
			if err != nil {
				return r, fmt.Errorf("unknown time zone %q", s.TimeZone)
			}
			r.Loc = loc
		}
		for d, h := range s.Hours {
			if h == "" {
				continue
			}
			spans, err := ParseHours(h)
			if err != nil {
				return r, fmt.Errorf("%s: %w", Weekdays[d], err)
			}
			r.Week[d] = spans
		}
		if s.DetourFactor > 0 {
			r.DetourFactor = s.DetourFactor
		}
		if s.SpeedKmh > 0 {
			r.SpeedKmh = s.SpeedKmh
		}
	}
	return r, nil
}
