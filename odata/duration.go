package odata

import (
	"math"
	"strconv"
	"strings"
)

// parseDuration reads an ISO 8601 duration as the OData ABNF writes it:
// [-]P[nD][T[nH][nM][n[.f]S]] (no years or months: their length varies).
// Fractions below a microsecond are dropped, as for date-times. msg says
// what is wrong, "" when s is one.
func parseDuration(s string) (Duration, string) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if len(s) < 2 || (s[0] != 'P' && s[0] != 'p') {
		return 0, "it must start with P"
	}
	s = s[1:]
	var total float64 // microseconds
	var micros int64
	inTime, any := false, false
	units := "D"
	for len(s) > 0 {
		if s[0] == 'T' || s[0] == 't' {
			if inTime {
				return 0, "T is given twice"
			}
			inTime, units, s = true, "HMS", s[1:]
			if len(s) == 0 {
				return 0, "T must be followed by hours, minutes or seconds"
			}
			continue
		}
		i := 0
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		whole := s[:i]
		frac := ""
		if i < len(s) && s[i] == '.' {
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			frac, i = s[i+1:j], j
		}
		if whole == "" || i >= len(s) {
			return 0, "expected a number followed by D, H, M or S"
		}
		unit := strings.ToUpper(s[i : i+1])
		k := strings.Index(units, unit)
		if k < 0 {
			if unit == "Y" || (unit == "M" && !inTime) {
				return 0, "years and months are not durations in OData; use days"
			}
			return 0, "unexpected " + strconv.Quote(s[i:i+1])
		}
		if frac != "" && unit != "S" {
			return 0, "only seconds may have a fraction"
		}
		units = units[k+1:]
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			return 0, "the number " + whole + " is out of range"
		}
		scale := map[string]float64{"D": 86400e6, "H": 3600e6, "M": 60e6, "S": 1e6}[unit]
		total += float64(n) * scale
		if unit == "S" {
			micros += n * 1e6
			if frac != "" {
				f := (frac + "000000")[:6]
				m, _ := strconv.ParseInt(f, 10, 64)
				micros += m
			}
		} else {
			micros += n * int64(scale)
		}
		if total > float64(maxDuration) {
			return 0, "it is longer than 10,000 years"
		}
		any = true
		s = s[i+1:]
	}
	if !any {
		return 0, "it has no days, hours, minutes or seconds"
	}
	if neg {
		micros = -micros
	}
	return Duration(micros), ""
}

// maxDuration is the longest duration accepted: more than any two dates
// apart, and far from overflowing in microseconds.
const maxDuration = Duration(10000 * 366 * 86400e6)

// formatDuration writes d in the canonical form: days, hours, minutes, seconds.
func formatDuration(d Duration) string {
	var b strings.Builder
	u := int64(d)
	if u < 0 {
		b.WriteByte('-')
		if u == math.MinInt64 {
			u++
		}
		u = -u
	}
	b.WriteByte('P')
	days, u := u/86400e6, u%86400e6
	h, u := u/3600e6, u%3600e6
	m, u := u/60e6, u%60e6
	sec, us := u/1e6, u%1e6
	if days > 0 {
		b.WriteString(strconv.FormatInt(days, 10) + "D")
	}
	if h > 0 || m > 0 || sec > 0 || us > 0 || days == 0 {
		b.WriteByte('T')
		if h > 0 {
			b.WriteString(strconv.FormatInt(h, 10) + "H")
		}
		if m > 0 {
			b.WriteString(strconv.FormatInt(m, 10) + "M")
		}
		if sec > 0 || us > 0 || (h == 0 && m == 0) {
			b.WriteString(strconv.FormatInt(sec, 10))
			if us > 0 {
				b.WriteString(strings.TrimRight("."+strconv.FormatInt(1e6+us, 10)[1:], "0"))
			}
			b.WriteByte('S')
		}
	}
	return b.String()
}
