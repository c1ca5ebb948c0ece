package httpapi

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// NetLimits bound a node's connections. Zero values take the defaults.
type NetLimits struct {
	// MaxConns caps the open connections (idle keep-alive ones included);
	// past it, new connections wait in the kernel's accept queue until one
	// closes. Default 1024.
	MaxConns int
	// WriteTimeout is how long a response may take to be written, from the
	// end of its request's headers: a client reading too slowly is cut (and
	// the cut is logged as "response cut"). Default 60 s.
	WriteTimeout time.Duration
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout: 10 s, 60 s and 60 s.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
}

func (l NetLimits) withDefaults() NetLimits {
	if l.MaxConns <= 0 {
		l.MaxConns = 1024
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 60 * time.Second
	}
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = 10 * time.Second
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = 60 * time.Second
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 60 * time.Second
	}
	return l
}

// Listen listens on addr with at most l.MaxConns connections open at once.
func Listen(addr string, l NetLimits) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return netutil.LimitListener(ln, l.withDefaults().MaxConns), nil
}

// HTTPServer returns the http.Server for h with the limits' timeouts; errors
// of the server itself (e.g. a TLS handshake) go to log.
func HTTPServer(h http.Handler, l NetLimits, log *slog.Logger) *http.Server {
	l = l.withDefaults()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
	}
	if log != nil {
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return srv
}
