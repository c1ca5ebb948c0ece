package webhook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/ordo-fsm/ordo"
)

// blockedRanges are the addresses a subscription may not reach unless
// private addresses are allowed: besides loopback, private, link-local
// (which holds the cloud metadata address 169.254.169.254), unspecified and
// multicast ones, carrier-grade NAT and the IPv6 metadata address.
var blockedRanges = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
	netip.MustParsePrefix("0.0.0.0/8"),
}

// blockedReason says why ip may not be reached, "" when it may.
func blockedReason(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local (cloud metadata)"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsMulticast():
		return "multicast"
	}
	for _, p := range blockedRanges {
		if p.Contains(ip) {
			return "reserved or metadata"
		}
	}
	return ""
}

// CheckURL validates a subscription URL: http or https with a host, and,
// unless allowPrivate, a host whose every address is public.
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return ordo.FieldError("InvalidValue", "url", "url must be an absolute http or https URL")
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ips, err := net.DefaultResolver.LookupNetIP(lctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return ordo.FieldError("InvalidValue", "url", "url: the host %s does not resolve", host)
		}
		addrs = ips
	}
	for _, ip := range addrs {
		if why := blockedReason(ip); why != "" {
			return ordo.FieldError("PrivateAddress", "url",
				"url: %s resolves to %s, a %s address; webhooks may only reach public addresses (the server's --webhook-allow-private lifts this)", host, ip, why)
		}
	}
	return nil
}

// guardDial refuses connections to blocked addresses at connect time, so
// that a name that resolved to a public address when the subscription was
// saved cannot later point the server at its own network.
func guardDial(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if why := blockedReason(ip); why != "" {
		return fmt.Errorf("webhook: refusing to connect to %s, a %s address", ip, why)
	}
	return nil
}

// DeliveryTimeout bounds one POST.
const DeliveryTimeout = 10 * time.Second

// NewClient is the HTTP client of deliveries: no proxy, no redirects, the
// delivery timeout and, unless allowPrivate, the connect-time guard.
func NewClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		d.Control = guardDial
	}
	return &http.Client{
		Timeout:       DeliveryTimeout,
		Transport:     &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
