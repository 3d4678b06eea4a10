package gateway

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/internal/quietlog"
	"github.com/caiquan/caiquan/metrics"
)

const (
	// writeWait bounds one frame write to a client that stopped reading.
	writeWait = 10 * time.Second
	// closeGrace bounds the close handshake: writing our close frame and
	// waiting for the client's answer before the TCP connection is closed.
	closeGrace = time.Second
	// eio4PingTimeout is Engine.IO's default for Config.PingTimeout.
	eio4PingTimeout = 20 * time.Second
	// Small buffers: memory per connection matters more than syscalls here.
	// Client frames are small; a bigger one is read in several pieces.
	readBufferSize  = 512
	writeBufferSize = 1024
)

// Gateway is the HTTP side of the server: routes, upgrades, and the set of
// open connections.
type Gateway struct {
	cfg      Config
	opener   actors.Opener
	log      *slog.Logger
	quiet    *quietlog.Logger // log for what clients provoke: one line per kind per 10 s
	metrics  *metrics.Metrics // nil: not counted
	static   http.Handler
	routes   map[string]http.Handler
	peers    Peers // nil: one node
	upgrader websocket.Upgrader

	// eio4PingTimeout is a field so tests can shorten it.
	eio4PingTimeout time.Duration
	// parkAfter: see park.go; a field so tests can shorten it.
	parkAfter time.Duration

	draining atomic.Bool
	busy     func() bool   // nil: always admit
	tcpOpen  atomic.Int64  // connections of the listener given to Serve
	connIDs  atomic.Uint64 // the last connection id given (conn.ID)

	mu      sync.Mutex
	conns   map[*conn]struct{}
	perAddr map[netip.Prefix]int // WebSockets by addrKey, when limited
	// polls are the Engine.IO long-polling sessions by sid, upgraded or
	// not; pollingOpen counts those not upgraded (an upgraded one is
	// counted as its WebSocket).
	polls       map[string]*pollSession
	pollingOpen int
	// closedWith is set by CloseAll; connections that finish their upgrade
	// later are closed at once with the same code and reason.
	closedWith *closeCause
}

type closeCause struct {
	code   int
	reason string
}

// Option changes a Gateway made by New.
type Option func(*Gateway)

// WithAdmission refuses new connections with 503 server_busy while busy
// returns true (the process is near its memory limit).
func WithAdmission(busy func() bool) Option { return func(g *Gateway) { g.busy = busy } }

// WithStatic serves every path that no route claims (for example a web demo
// at /) with h instead of answering 404.
func WithStatic(h http.Handler) Option { return func(g *Gateway) { g.static = h } }

// WithRoute serves path with h: exactly path, or, when path ends in "/",
// every path below it. The gateway's own routes (/healthz, /ws, Socket.IO)
// come first; routes come before WithStatic.
func WithRoute(path string, h http.Handler) Option {
	return func(g *Gateway) {
		if g.routes == nil {
			g.routes = make(map[string]http.Handler)
		}
		g.routes[path] = h
	}
}

// New makes a Gateway; it refuses a Config that would turn a limit off.
func New(cfg Config, opener actors.Opener, log *slog.Logger, opts ...Option) (*Gateway, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{
		cfg:             cfg,
		opener:          opener,
		log:             log,
		quiet:           quietlog.New(log),
		eio4PingTimeout: cmp.Or(cfg.PingTimeout, eio4PingTimeout),
		parkAfter:       parkAfter,
		conns:           make(map[*conn]struct{}),
	}
	g.upgrader = websocket.Upgrader{
		// 0: gorilla keeps the hijacked reader, which is ours (see hijacker).
		ReadBufferSize:  0,
		WriteBufferSize: writeBufferSize,
		// The buffer is held only while a frame is written, not per idle connection.
		WriteBufferPool: &sync.Pool{},
		// Origins are checked before the upgrade, with a JSON answer.
		CheckOrigin: func(*http.Request) bool { return true },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			g.refused(metrics.RefusedBadUpgrade, "gateway: upgrade refused: not a WebSocket handshake", "err", reason, "remote", r.RemoteAddr)
			writeJSON(w, status, apiError{Code: "bad_request", Message: reason.Error()})
		},
	}
	for _, opt := range opts {
		opt(g)
	}
	return g, nil
}

// SetDraining makes /healthz answer 503 and refuses new upgrades with 503.
// Open connections stay until CloseAll.
func (g *Gateway) SetDraining() { g.draining.Store(true) }

// CloseAll closes every open connection with code and reason, and every
// connection that completes its upgrade afterwards. It does not wait; see
// WaitIdle.
func (g *Gateway) CloseAll(code int, reason string) {
	g.mu.Lock()
	g.closedWith = &closeCause{code: code, reason: reason}
	open := make([]*conn, 0, len(g.conns))
	for c := range g.conns {
		open = append(open, c)
	}
	g.mu.Unlock()
	for _, c := range open {
		c.Close(code, reason)
	}
	g.closePolls(code, reason)
}

// OpenConns is the number of connections whose goroutines are still running,
// and of long-polling sessions whose session actor has not been told Closed.
func (g *Gateway) OpenConns() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns) + g.pollingOpen
}

// WaitIdle waits until no connection is open (every Session.Closed has been
// called and every connection goroutine has ended) or ctx is done.
func (g *Gateway) WaitIdle(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for g.OpenConns() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// track adds c to the open set. After CloseAll it closes c at once.
func (g *Gateway) track(c *conn) {
	g.mu.Lock()
	g.conns[c] = struct{}{}
	cause := g.closedWith
	g.mu.Unlock()
	g.countConn(c.wire.name(), 1)
	if cause != nil {
		c.Close(cause.code, cause.reason)
	}
}

func (g *Gateway) untrack(c *conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
	g.releaseAddr(c.addr)
	g.countConn(c.wire.name(), -1)
}
