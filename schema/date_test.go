package schema

import (
	"testing"
	"time"
)

// AppendDate writes what time.AppendFormat with the API's layout writes.
func TestAppendDateMatchesFormat(t *testing.T) {
	for _, d := range []time.Time{
		ZeroDate,
		time.Date(2026, 12, 6, 14, 3, 9, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 999999000, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 1000, time.UTC),
		time.Date(999, 7, 8, 23, 59, 59, 500000000, time.UTC),
		time.Date(2026, 6, 1, 10, 0, 0, 0, time.FixedZone("CEST", 7200)),
		time.Date(12026, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		want := d.UTC().Format("2006-01-02T15:04:05.999999Z")
		if got := string(AppendDate(nil, d)); got != want {
			t.Errorf("%v: %s, want %s", d, got, want)
		}
	}
}
