package sqldialect

import (
	"testing"
	"time"
)

func TestParseSQLiteDateRoundTrip(t *testing.T) {
	for _, want := range []time.Time{
		time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2024, 2, 29, 12, 3, 4, 5000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		got, err := parseSQLiteDate(FormatSQLiteDate(want))
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%v: got %v, %v", want, got, err)
		}
	}
	for _, other := range []string{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.5+02:00"} {
		want, _ := time.Parse(time.RFC3339Nano, other)
		if got, err := parseSQLiteDate(other); err != nil || !got.Equal(want) {
			t.Errorf("%s: got %v, %v", other, got, err)
		}
	}
	if _, err := parseSQLiteDate("2026-13-02T03:04:05.000000Z"); err == nil {
		t.Error("month 13 accepted")
	}
}
