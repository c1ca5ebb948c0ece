package httpapi_test

import (
	"strconv"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestLoginFloodOverHTTP: with the default limits, the 11th wrong password
// in a minute answers 429 TooManyRequests with Retry-After instead of a 401
// (and costs no bcrypt), while a client whose credentials were verified
// before keeps working.
func TestLoginFloodOverHTTP(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		c.Must(200, "GET", "/api/Company", nil)
		wrong := *c
		wrong.Auth = "api:guess@ACME"
		statuses := map[int]int{}
		var last *testenv.Response
		for i := 0; i < 30; i++ {
			last = wrong.Do("GET", "/api/Company", nil)
			statuses[last.Status]++
		}
		if statuses[401] != 10 || statuses[429] != 20 {
			t.Fatalf("30 wrong passwords: %v, want 10 × 401 then 20 × 429", statuses)
		}
		ra, err := strconv.Atoi(last.Header.Get("Retry-After"))
		if last.ErrorCode() != "TooManyRequests" || err != nil || ra < 1 || ra > 60 {
			t.Fatalf("429: %s Retry-After %q", last.Raw, last.Header.Get("Retry-After"))
		}
		c.Must(200, "GET", "/api/Company", nil)
	})
}
