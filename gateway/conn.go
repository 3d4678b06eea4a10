package gateway

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/metrics"
)

// conn is one client connection: the actors.Conn a session sends through.
// Goroutines: serve sets up and becomes the reader (readLoop), which
// parks the connection whenever it has read all there is and returns; an
// unpark starts a new reader (awaitInput). An idle connection has no
// goroutine (park.go).
// The writer (writeLoop) runs only while there is something to write: a
// frame queued, a ping due, or the close to carry out. It exits when the
// queue is empty. At
// most one writer runs at a time (writing); only it writes to the socket,
// except the greeting, written by serve before any writer can start. Close
// may be called from any goroutine; it only flags, wakes the writer and
// returns.
type conn struct {
	g    *Gateway
	id   uint64 // in log lines (actors.LogConn); an upgrade has its polling session's
	ws   *websocket.Conn
	nc   *netConn // the socket under ws
	wire wire
	addr netip.Addr // the client's (ClientAddr); its per-address slot is released by untrack

	// Reader role only (serve, then awaitInput and readLoop).
	session    actors.Session
	limiter    limiter
	helloTimer *time.Timer // until hello
	// token is the session token given outside hello (the URL's ?token=,
	// or the Engine.IO 4 connect auth); a hello without one carries it.
	token string

	mu        sync.Mutex
	queue     []frame     // encoded frames for the writer; at most cfg.OutboundQueue
	spare     []frame     // the writer's last batch, reused for the next queue
	writing   bool        // the writer role is taken: a writeLoop runs (or serve greets)
	pingDue   bool        // a ping is due; the writer sends the pings
	closed    bool        // Close has run; end is set
	tick      *time.Timer // at the next ping, or at the read deadline when parked (onTick)
	nextPing  time.Time
	pongTimer *time.Timer // Engine.IO 4: runs while a ping is unanswered
	end       *ending     // set with closed; nil while open, which is most of a connection's life
	parked    bool        // no reader runs; unpark starts one
	// watched is the reader role's, not mu's: the parker has the socket
	// (park.go). It sits here only to share parked's padding.
	watched bool

	closing atomic.Bool // set by the first Close

	helloSeen atomic.Bool
	pongDue   atomic.Bool // an Engine.IO ping is unanswered
	lost      atomic.Bool // ended from the client's side (Lost)
}

var _ actors.Conn = (*conn)(nil)

// ID is the connection's number in log lines: the session's lines carry
// it, so a player's lines and their connection's can be read together.
func (c *conn) ID() uint64 { return c.id }

// Resumable says whether the wire can carry seqs and resume tokens: /ws
// can; Socket.IO numbers its own way, and the 2016 client cannot ask.
func (c *conn) Resumable() bool {
	_, ok := c.wire.(*oursWire)
	return ok
}

var _ actors.SocketIOConn = (*conn)(nil)

// Connected answers a Socket.IO CONNECT for the session (Engine.IO 4 over
// WebSocket). A recovered session said its hello on an earlier
// connection, so this one has none to wait for.
func (c *conn) Connected(pid string, recovered bool) {
	w, ok := c.wire.(*eio4Wire)
	if !ok {
		return
	}
	if recovered {
		c.helloSeen.Store(true)
	}
	c.enqueue(w.connectFrame(pid))
}

// Lost says whether the client's side ended the connection without saying
// goodbye (it vanished, went silent, or closed with anything but 1000),
// rather than the server closing it for cause (a slow consumer, a flood,
// an oversized frame): only a lost one's session waits for a resume. A
// Socket.IO client that left the namespace first (41) said goodbye.
func (c *conn) Lost() bool {
	if ns, ok := c.wire.(namespaced); ok && !ns.inNamespace() {
		return false
	}
	return c.lost.Load()
}

// namespaced is a wire whose client joins and leaves a namespace.
type namespaced interface{ inNamespace() bool }

// ending is what the close needs: made by the first Close, read-only after.
type ending struct {
	cause       closeCause
	deadline    time.Time     // end of the close handshake
	readStopped chan struct{} // readLoop returned
	writerDone  chan struct{} // the writer finished the close and closed the socket
}

func newConn(g *Gateway, ws *websocket.Conn, nc *netConn, w wire) *conn {
	return &conn{
		g:       g,
		id:      g.connIDs.Add(1),
		ws:      ws,
		nc:      nc,
		wire:    w,
		limiter: newLimiter(g.cfg.RateLimit, g.cfg.RateBurst, time.Now()),
		writing: true, // serve writes the greeting, then hands the role to a writeLoop
	}
}

// Send encodes env in the caller's goroutine and queues it without blocking.
// A full queue means the client does not read: it is closed, not waited for.
func (c *conn) Send(env *messages.Envelope) bool {
	if c.isClosing() {
		return false
	}
	f, err := c.wire.encode(env)
	if errors.Is(err, errNotConnected) {
		return true // the client left the namespace; the connection stays
	}
	if err != nil {
		c.g.log.Error("gateway: cannot encode a server message", actors.LogConn, c.id, "wire", c.wire.name(), "err", err)
		return false
	}
	return c.enqueue(f)
}

func (c *conn) enqueue(f frame) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	if len(c.queue) >= c.g.cfg.OutboundQueue {
		c.mu.Unlock()
		if !c.isClosing() {
			c.dropped(metrics.DroppedSlowConsumer, "gateway: closed: slow consumer", "queue", c.g.cfg.OutboundQueue)
		}
		c.Close(messages.CloseSlowConsumer, "outbound queue full")
		return false
	}
	c.queue = append(c.queue, f)
	start := c.claimWriterLocked()
	c.mu.Unlock()
	if start {
		workerPool.Run((*connWriter)(c))
	}
	return true
}

// connWriter runs a connection's writeLoop on the worker pool without a
// closure made for each burst of frames.
type connWriter conn

func (w *connWriter) Run() { (*conn)(w).writeLoop() }

// claimWriterLocked takes the writer role if nobody has it; the caller then
// starts writeLoop. c.mu must be held.
func (c *conn) claimWriterLocked() bool {
	if c.writing {
		return false
	}
	c.writing = true
	return true
}

// onTick is the connection's one timer, a ticker that needs no goroutine
// in between: it marks a ping due every PingInterval, and it unparks a
// parked connection once its read deadline has passed, so the reader
// reports it. A tick that finds nothing due (a deadline moved) just sets
// the next.
func (c *conn) onTick() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	now := time.Now()
	start := false
	if !now.Before(c.nextPing) {
		c.pingDue = true
		c.nextPing = now.Add(c.g.cfg.PingInterval)
		start = c.claimWriterLocked()
	}
	dl := c.nc.readDeadline()
	wake := c.parked && !dl.IsZero() && !now.Before(dl)
	c.armTickLocked()
	c.mu.Unlock()
	if start {
		workerPool.Run((*connWriter)(c))
	}
	if wake {
		c.unpark()
	}
}

// armTickLocked sets the timer to the next ping, or to the read deadline
// if the connection is parked and that comes first. c.mu held.
func (c *conn) armTickLocked() {
	if c.tick == nil {
		return
	}
	next := c.nextPing
	if dl := c.nc.readDeadline(); c.parked && !dl.IsZero() && dl.Before(next) {
		next = dl
	}
	c.tick.Reset(time.Until(next))
}

// armPongTimer starts the Engine.IO 4 pong deadline.
func (c *conn) armPongTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.pongTimer == nil {
		c.pongTimer = time.AfterFunc(c.g.eio4PingTimeout, func() {
			if c.pongDue.Load() {
				c.lost.Store(true) // gone silent: it may recover
				c.Close(messages.ClosePolicy, fmt.Sprintf("no pong within %v", c.g.eio4PingTimeout))
			}
		})
		return
	}
	c.pongTimer.Reset(c.g.eio4PingTimeout)
}

// Close is the one close path; only its first call counts. The writer then
// sends frames queued so far and the close frame, waits briefly for the
// client's close frame, and closes the socket; the reader then ends and
// reports Session.Closed.
func (c *conn) Close(code int, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.end = &ending{
		cause:       closeCause{code: code, reason: reason},
		deadline:    time.Now().Add(closeGrace),
		readStopped: make(chan struct{}),
		writerDone:  make(chan struct{}),
	}
	c.closing.Store(true)
	deadline := c.end.deadline
	if c.tick != nil {
		c.tick.Stop()
	}
	if c.pongTimer != nil {
		c.pongTimer.Stop()
	}
	start := c.claimWriterLocked()
	c.mu.Unlock()

	// Bound both loops by the grace: a write blocked on a client that does
	// not read gives up, and the reader stops waiting for the client soon.
	// net.Conn deadlines are safe to set from any goroutine.
	nc := c.ws.NetConn()
	nc.SetWriteDeadline(deadline)
	nc.SetReadDeadline(deadline)
	if start {
		workerPool.Run((*connWriter)(c)) // it carries out the close
	}
	c.unpark() // a parked reader waits for the client's close frame
}

func (c *conn) isClosing() bool { return c.closing.Load() }

// ending is the close's state; call it only after Close.
func (c *conn) ending() *ending {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.end
}

// serve sets the connection up and starts its reader.
func (c *conn) serve() {
	cfg := c.g.cfg
	// Our own limit (frameGuard) closes with a reason at the frame header;
	// gorilla's, which would close without one, is only a backstop.
	c.ws.SetReadLimit(int64(max(16*cfg.MaxFrameBytes, 1<<20)))
	// The close path answers the client's close frame, with its code.
	c.ws.SetCloseHandler(func(int, string) error { return nil })
	// Control frames cost the server as much as data frames: they take
	// from the same bucket, and a flood of them closes like any other.
	c.ws.SetPingHandler(c.onPing)
	c.ws.SetPongHandler(func(string) error {
		if c.admitControl() {
			c.extendReadDeadline()
		}
		return nil
	})
	c.extendReadDeadline()

	c.nc.hold() // Engine.IO 3 greets with two frames: one write
	for _, f := range c.wire.greeting() {
		c.write(f, time.Now().Add(writeWait)) // held: the flush reports
	}
	if err := c.nc.flush(); err != nil {
		c.ws.Close()
		return
	}

	c.mu.Lock()
	c.nextPing = time.Now().Add(cfg.PingInterval)
	c.tick = time.AfterFunc(cfg.PingInterval, c.onTick)
	c.mu.Unlock()
	c.g.track(c)
	workerPool.Run((*connWriter)(c)) // takes over the writer role from the greeting; exits at once if idle
	c.helloTimer = time.AfterFunc(cfg.HandshakeTimeout, func() {
		if !c.helloSeen.Load() && !c.isClosing() {
			c.dropped(metrics.DroppedHelloTimeout, "gateway: closed: no hello", "handshake_timeout", cfg.HandshakeTimeout)
			c.Close(messages.CloseHelloTimeout, fmt.Sprintf("no hello within %v", cfg.HandshakeTimeout))
		}
	})
	if c.session == nil { // an upgrade comes with its polling session's
		c.session = c.g.opener.OpenSession(c)
	}
	if c.nc.waitReadableFor(c.g.parkAfter) || !c.park() {
		c.awaitInput()
	}
}

// stopHelloTimer drops the timer once it is not needed. Reader role only.
func (c *conn) stopHelloTimer() {
	if c.helloTimer != nil {
		c.helloTimer.Stop()
		c.helloTimer = nil
	}
}

// readEnded ends the connection once the reader has stopped for good.
func (c *conn) readEnded() {
	c.Close(messages.CloseGoingAway, "connection lost") // no-op unless the read failed silently
	end := c.ending()
	close(end.readStopped)
	<-end.writerDone
	c.stopHelloTimer()

	cause := end.cause
	c.session.Closed(cause.reason) // the reader ended: no Deliver can follow
	c.g.untrack(c)
	args := []any{actors.LogConn, c.id, "wire", c.wire.name(), "remote", c.addr.String(), "code", cause.code, "reason", cause.reason}
	if cause.code == messages.CloseNormal || cause.code == messages.CloseGoingAway {
		c.g.log.Debug("gateway: connection closed", args...)
		return
	}
	// Closes for cause are what an attack makes by the thousand.
	c.g.quiet.Debug("closed", "gateway: connection closed", args...)
}

// extendReadDeadline pushes the idle deadline forward, unless Close has
// set the short one: it re-checks after setting, as Close may run in between.
func (c *conn) extendReadDeadline() {
	if c.isClosing() {
		return
	}
	c.ws.SetReadDeadline(time.Now().Add(c.g.cfg.IdleTimeout))
	if c.isClosing() {
		c.ws.SetReadDeadline(c.ending().deadline)
	}
}

// closeFrameText fits a reason into a close frame (125 bytes with the code).
func closeFrameText(reason string) string {
	const max = 123
	if len(reason) <= max {
		return reason
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut]
}
