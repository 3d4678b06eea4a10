package gateway

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/messages"
)

// conn is one client connection: the actors.Conn a session sends through.
// Goroutines: serve runs in its own goroutine and is the reader (readLoop);
// writeLoop is the only writer of data frames. Close may be called from any
// goroutine; it only flags, wakes both loops and returns.
type conn struct {
	g    *Gateway
	ws   *websocket.Conn
	wire wire
	out  chan frame // encoded frames for writeLoop; bounded by cfg.OutboundQueue

	// Reader goroutine only.
	session actors.Session
	limiter limiter
	// token is the session token given outside hello (the URL's ?token=,
	// or the Engine.IO 4 connect auth); a hello without one carries it.
	token string

	mu            sync.Mutex
	closed        bool
	cause         closeCause
	closeDeadline time.Time     // end of the close handshake
	closing       chan struct{} // closed by the first Close

	readStopped chan struct{} // readLoop returned
	writerDone  chan struct{} // writeLoop returned and the socket is closed

	helloSeen atomic.Bool
	pongDue   atomic.Bool // an Engine.IO ping is unanswered
}

var _ actors.Conn = (*conn)(nil)

func newConn(g *Gateway, ws *websocket.Conn, w wire) *conn {
	return &conn{
		g:           g,
		ws:          ws,
		wire:        w,
		out:         make(chan frame, g.cfg.OutboundQueue),
		limiter:     newLimiter(g.cfg.RateLimit, g.cfg.RateBurst, time.Now()),
		closing:     make(chan struct{}),
		readStopped: make(chan struct{}),
		writerDone:  make(chan struct{}),
	}
}

// Send encodes env in the caller's goroutine and queues it without blocking.
// A full queue means the client does not read: it is closed, not waited for.
func (c *conn) Send(env *messages.Envelope) bool {
	if c.isClosing() {
		return false
	}
	f, err := c.wire.encode(env)
	if err != nil {
		c.g.log.Error("gateway: cannot encode a server message", "wire", c.wire.name(), "err", err)
		return false
	}
	return c.enqueue(f)
}

func (c *conn) enqueue(f frame) bool {
	if c.isClosing() {
		return false
	}
	select {
	case c.out <- f:
		return true
	default:
		c.Close(messages.CloseSlowConsumer, "outbound queue full")
		return false
	}
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
	c.cause = closeCause{code: code, reason: reason}
	c.closeDeadline = time.Now().Add(closeGrace)
	deadline := c.closeDeadline
	close(c.closing)
	c.mu.Unlock()

	// Bound both loops by the grace: a write blocked on a client that does
	// not read gives up, and the reader stops waiting for the client soon.
	// net.Conn deadlines are safe to set from any goroutine.
	nc := c.ws.NetConn()
	nc.SetWriteDeadline(deadline)
	nc.SetReadDeadline(deadline)
}

func (c *conn) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

func (c *conn) closeState() (closeCause, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause, c.closeDeadline
}

// serve runs the connection to its end; its goroutine is the reader.
func (c *conn) serve() {
	cfg := c.g.cfg
	// Our own limit (readLoop) closes with a reason; gorilla's, which closes
	// without one, only guards against huge fragmented messages.
	c.ws.SetReadLimit(int64(max(16*cfg.MaxFrameBytes, 1<<20)))
	// The close path answers the client's close frame, with its code.
	c.ws.SetCloseHandler(func(int, string) error { return nil })
	c.ws.SetPongHandler(func(string) error { c.extendReadDeadline(); return nil })
	c.extendReadDeadline()

	for _, f := range c.wire.greeting() {
		if err := c.write(f, time.Now().Add(writeWait)); err != nil {
			c.ws.Close()
			return
		}
	}

	c.g.track(c)
	go c.writeLoop()
	helloTimer := time.AfterFunc(cfg.HandshakeTimeout, func() {
		if !c.helloSeen.Load() {
			c.Close(messages.CloseHelloTimeout, fmt.Sprintf("no hello within %v", cfg.HandshakeTimeout))
		}
	})
	c.session = c.g.opener.OpenSession(c)

	c.readLoop()
	close(c.readStopped)
	c.Close(messages.CloseGoingAway, "connection lost") // no-op unless the read failed silently
	<-c.writerDone
	helloTimer.Stop()

	cause, _ := c.closeState()
	c.session.Closed(cause.reason) // the reader ended: no Deliver can follow
	c.g.untrack(c)
	c.g.log.Debug("gateway: connection closed", "wire", c.wire.name(),
		"remote", c.ws.RemoteAddr().String(), "code", cause.code, "reason", cause.reason)
}

// extendReadDeadline pushes the idle deadline forward, unless Close has
// set the short one: it re-checks after setting, as Close may run in between.
func (c *conn) extendReadDeadline() {
	if c.isClosing() {
		return
	}
	c.ws.SetReadDeadline(time.Now().Add(c.g.cfg.IdleTimeout))
	if c.isClosing() {
		_, deadline := c.closeState()
		c.ws.SetReadDeadline(deadline)
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
