package httpapi

import (
	"net"
	"net/http"
)

// clientAddr is the address failed logins are counted against: the peer's
// IP (a proxy in front of Ordo is one address for all its clients; raise or
// disable the per-address limit there).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
