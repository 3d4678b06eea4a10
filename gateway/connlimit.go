package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/caiquan/caiquan/metrics"
)

// HTTP refusal codes of the connection limits, in {"code","message"}.
const (
	CodeServerFull         = "server_full"          // 503: max_connections reached
	CodeTooManyConnections = "too_many_connections" // 503: max_connections_per_ip reached
)

// Reasons of caiquan_connections_refused_total.
const (
	refusedTotal = metrics.RefusedTotal
	refusedPerIP = metrics.RefusedPerIP
)

// refuseSlots is how many connections beyond cfg.MaxConnections are kept
// just long enough to answer their request with 503 (bounded by the HTTP
// server's header timeout); any more are closed as soon as accepted, so
// the process never holds more than MaxConnections+refuseSlots sockets of
// the listener.
const refuseSlots = 64

// Serve serves srv on ln, counting every connection of ln against
// cfg.MaxConnections: a request on one accepted over the limit is answered
// 503 server_full (except /healthz) and the connection closed. It sets
// srv.ConnContext; srv.Handler should be the gateway.
func (g *Gateway) Serve(srv *http.Server, ln net.Listener) error {
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if tc, ok := c.(*trackedConn); ok && tc.over {
			return context.WithValue(ctx, overLimitKey{}, true)
		}
		return ctx
	}
	return srv.Serve(&limitListener{Listener: ln, g: g, srv: srv})
}

type overLimitKey struct{}

// overLimit says whether r came on a connection accepted over the limit.
func overLimit(r *http.Request) bool { return r.Context().Value(overLimitKey{}) != nil }

// limitListener counts connections against the limits and serves
// WebSocket upgrades itself (front.go); net/http gets the rest.
type limitListener struct {
	net.Listener
	g   *Gateway
	srv *http.Server // its header timeout and limit hold for upgrades served here too

	once      sync.Once
	closeOnce sync.Once
	conns     chan net.Conn // for net/http
	errs      chan error
	done      chan struct{} // closed by Close
}

// trackedConn counts itself out when closed, whoever closes it: net/http,
// or the gateway after an upgrade. It passes on the raw socket (for the
// parker) and CloseWrite (net/http half-closes before closing so that a
// refusal reaches a client that is still sending).
type trackedConn struct {
	net.Conn
	g      *Gateway
	over   bool
	closed atomic.Bool
}

func (c *trackedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.g.tcpOpen.Add(-1)
	}
	return c.Conn.Close()
}

func (c *trackedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("gateway: the connection has no raw socket")
}

func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// refuseFull answers a request that came on a connection over the limit.
func (g *Gateway) refuseFull(w http.ResponseWriter, r *http.Request) {
	g.refused(refusedTotal, "gateway: request refused: max_connections", "remote", g.ClientAddr(r).String(), "path", r.URL.Path)
	writeJSON(w, http.StatusServiceUnavailable, apiError{Code: CodeServerFull,
		Message: fmt.Sprintf("the server is full (%d connections); try again later", g.cfg.MaxConnections)})
}

// reserveAddr takes one of addr's WebSocket slots; false when it has none
// left. Every true is followed by one releaseAddr.
func (g *Gateway) reserveAddr(addr netip.Addr) bool {
	if g.cfg.MaxConnectionsPerIP <= 0 {
		return true
	}
	k := addrKey(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.perAddr[k] >= g.cfg.MaxConnectionsPerIP {
		return false
	}
	if g.perAddr == nil {
		g.perAddr = make(map[netip.Prefix]int)
	}
	g.perAddr[k]++
	return true
}

func (g *Gateway) releaseAddr(addr netip.Addr) {
	if g.cfg.MaxConnectionsPerIP <= 0 {
		return
	}
	k := addrKey(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.perAddr[k] <= 1 {
		delete(g.perAddr, k)
		return
	}
	g.perAddr[k]--
}

func (g *Gateway) refuseAddr(w http.ResponseWriter, addr netip.Addr) {
	g.refused(refusedPerIP, "gateway: upgrade refused: max_connections_per_ip", "remote", addr.String())
	writeJSON(w, http.StatusServiceUnavailable, apiError{Code: CodeTooManyConnections,
		Message: fmt.Sprintf("this address has %d connections open, the most allowed; close one first", g.cfg.MaxConnectionsPerIP)})
}
