package main

import (
	"flag"
	"runtime"
	"time"

	"github.com/ordo-fsm/ordo/auth"
	"github.com/ordo-fsm/ordo/httpapi"
)

// serveLimits are the abuse limits of ordo serve (docs/operations.md lists
// each with its default).
type serveLimits struct {
	net   httpapi.NetLimits
	login auth.Limits
	adm   httpapi.Admission
}

func limitFlags(fs *flag.FlagSet) *serveLimits {
	l := &serveLimits{}
	fs.IntVar(&l.adm.MaxInFlight, "tenant-max-inflight", 0,
		"requests of one tenant running at once while other tenants are active (default half the CPUs, at least 1, at most half of --max-conns)")
	fs.IntVar(&l.adm.MaxInFlightAlone, "tenant-max-inflight-alone", 0,
		"requests of a tenant running at once while no other tenant is active (default 2 × CPUs, at least 4, at most --max-conns)")
	fs.IntVar(&l.adm.QueueLength, "tenant-queue", 64, "requests of one tenant waiting for a slot before 429 (-1: none)")
	fs.DurationVar(&l.adm.QueueWait, "tenant-queue-wait", 2*time.Second, "longest wait for a slot before 429")
	fs.Float64Var(&l.adm.Rate, "tenant-rate", 0, "requests per second per tenant, token bucket with RateLimit-* headers (0: off)")
	fs.IntVar(&l.adm.Burst, "tenant-burst", 0, "token bucket size of --tenant-rate (default: the rate, rounded up)")
	fs.IntVar(&l.net.MaxConns, "max-http-conns", 1024, "open HTTP connections, idle keep-alive ones included")
	fs.DurationVar(&l.net.WriteTimeout, "write-timeout", 60*time.Second, "time to write a response; slower readers are cut (logged)")
	fs.DurationVar(&l.login.Window, "login-window", time.Minute, "sliding window failed logins are counted in")
	fs.IntVar(&l.login.MaxFailuresPerUser, "login-max-failures-user", 10, "failed logins of one user of a tenant per window before 429 (-1: off)")
	fs.IntVar(&l.login.MaxFailuresPerAddress, "login-max-failures-addr", 30, "failed logins from one client address per window before 429 (-1: off)")
	fs.IntVar(&l.login.MaxVerifications, "login-max-verifications", runtime.NumCPU(), "password verifications (bcrypt) running at once")
	return l
}

// admission fills the per-tenant defaults: requests in flight hold database
// connections, so a tenant gets at most half of the pool while others are
// active, and at most the pool alone.
func (l *serveLimits) admission(poolSize int) httpapi.Admission {
	a := l.adm
	if a.MaxInFlight <= 0 {
		a.MaxInFlight = min(httpapi.DefaultMaxInFlight(), max(poolSize/2, 1))
	}
	if a.MaxInFlightAlone <= 0 {
		a.MaxInFlightAlone = min(httpapi.DefaultMaxInFlightAlone(), max(poolSize, 1))
	}
	return a
}
