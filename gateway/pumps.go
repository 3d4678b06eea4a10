package gateway

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/internal/workers"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/metrics"
)

// awaitInput is the reader: it waits for input, then reads on.
func (c *conn) awaitInput() {
	c.nc.restoreReadBuffer()
	c.nc.waitReadable()
	c.readLoop()
}

// readLoop reads frames until the socket fails or closes, then ends the
// connection. When nothing is left to read it parks the connection and
// returns (park.go), or else waits itself. A reader that has read nothing
// but pongs, heartbeats and hellos parks again at once, as these say
// nothing about whether the client is playing: at every ping round
// thousands of idle connections would otherwise keep a goroutine (and its
// stack) for parkAfter, and as many while they connect.
func (c *conn) readLoop() {
	playing := false
	for {
		if !c.skipPong() {
			ok, game := c.readFrame()
			if !ok {
				break
			}
			playing = playing || game
		}
		if c.nc.drained() {
			if playing && c.nc.waitReadableFor(c.g.parkAfter) {
				continue
			}
			if c.park() {
				return
			}
			c.nc.waitReadable()
		}
	}
	if c.watched {
		theParker().forget(c)
	}
	if c.nc.guard.tooBig {
		c.nc.guard.drain(c.nc.Conn) // under the close grace Close has set
	}
	c.readEnded()
}

// skipPong consumes a client's pong if it is wholly buffered, as gorilla's
// pong handler would: gorilla handles control frames inside NextReader and
// then waits there for a data frame, so an idle reader could not park.
// Only between messages (after Close, the rest of a message too big may
// still be buffered).
func (c *conn) skipPong() bool {
	br := c.nc.br
	n := br.Buffered()
	if n < 6 || c.isClosing() {
		return false
	}
	h, _ := br.Peek(2)
	const finPong, masked = 0x8A, 0x80 // a client's frames are masked
	size := 6 + int(h[1]&^masked)
	if h[0] != finPong || h[1]&masked == 0 || size > 6+125 || n < size {
		return false
	}
	br.Discard(size)
	if c.admitControl() {
		c.extendReadDeadline()
	}
	return true
}

// admitControl counts a client's ping or pong against the rate limit:
// true when it may be acted on. Excess ones are dropped unanswered, and a
// flood closes the connection with 1008. Reader role only.
func (c *conn) admitControl() bool {
	if c.isClosing() {
		return false
	}
	switch c.limiter.take(time.Now()) {
	case allowed:
		return true
	case floodClosed:
		c.Close(messages.ClosePolicy, "message rate limit exceeded (control frames)")
	default:
		c.g.countRejected(messages.CodeRateLimited)
	}
	return false
}

// onPing answers a client's ping that the rate limit admits, as gorilla's
// default handler would, under the close grace once closing. A write
// error is left to the writer and the next read to report.
func (c *conn) onPing(data string) error {
	if !c.admitControl() {
		return nil
	}
	c.extendReadDeadline()
	c.ws.WriteControl(websocket.PongMessage, []byte(data), c.writeDeadline())
	return nil
}

// readFrame reads and handles one frame; ok is false when the socket failed
// or closed, game says the frame was a game message other than hello.
// After Close it only discards input until the client's close frame (or
// the grace) ends it, so unread data cannot reset the connection before our
// close frame arrives.
func (c *conn) readFrame() (ok, game bool) {
	limit := c.g.cfg.MaxFrameBytes
	kind, r, err := c.ws.NextReader()
	if err != nil {
		c.closeAfterReadError(err)
		return false, false
	}
	// Never buffer more than the limit: read one byte past it to notice.
	// The buffer goes back to the pool after handle: decoders copy what
	// they keep.
	buf := framePool.Get().(*[]byte)
	defer framePool.Put(buf)
	data, err := readLimited(r, limit+1, (*buf)[:0])
	*buf = data[:0]
	if err != nil {
		c.closeAfterReadError(err)
		return false, false
	}
	if c.isClosing() {
		return true, false
	}
	c.extendReadDeadline()
	if len(data) > limit {
		c.g.countRejected(metrics.RejectedFrameTooBig)
		c.dropped(metrics.DroppedFrameTooBig, "gateway: closed: frame too big", "limit", limit)
		c.Close(messages.CloseTooBig, fmt.Sprintf("frame exceeds %d bytes", limit))
		return true, false
	}
	c.pongDue.Store(false) // any frame shows the client is alive
	return true, c.handle(kind, data)
}

// handle applies the rate limit, decodes, and acts on one frame; true when
// it was a game message other than hello.
func (c *conn) handle(kind int, data []byte) (game bool) {
	switch c.limiter.take(time.Now()) {
	case dropNotify:
		c.g.countRejected(messages.CodeRateLimited)
		c.Send(errorEnvelope(messages.CodeRateLimited, "too many messages; this one was dropped"))
		return true
	case dropSilent:
		c.g.countRejected(messages.CodeRateLimited)
		return true
	case floodClosed:
		c.dropped(metrics.DroppedFlood, "gateway: closed: message flood", "rate_limit", c.g.cfg.RateLimit)
		c.Close(messages.ClosePolicy, "message rate limit exceeded")
		return false
	}
	in := c.wire.decode(kind, data)
	if in.token != "" {
		c.token = in.token
	}
	if in.lost {
		c.lost.Store(true)
	}
	if in.connect != nil {
		if ss, ok := c.session.(actors.SocketIOSession); ok {
			ss.Connect(*in.connect) // the session answers (Connected)
			return false
		}
	}
	switch {
	case in.env != nil:
		h := in.env.GetHello()
		if h != nil {
			c.helloSeen.Store(true)
			c.stopHelloTimer()
			if h.Token == "" {
				h.Token = c.tokenForHello()
			}
		}
		if in.ackID != "" {
			deliverWithAck(c.session, in.env, in.ackID, c.enqueue)
		} else {
			c.session.Deliver(in.env)
		}
		return h == nil
	case in.reply != nil:
		c.enqueue(*in.reply)
	case in.err != nil:
		c.g.countRejected(in.err.Code)
		c.g.quiet.Debug("bad_frame", "gateway: bad frame", actors.LogConn, c.id, "code", in.err.Code, "wire", c.wire.name(), "remote", c.addr.String())
		if in.ackID != "" {
			c.enqueue(ackFrame(in.ackID, in.err.Code, in.err.Message))
		} else {
			c.Send(errorEnvelope(in.err.Code, in.err.Message))
		}
	case in.close:
		c.Close(cmp.Or(in.closeCode, messages.CloseNormal), in.closeReason)
	}
	return false
}

func (c *conn) closeAfterReadError(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	var bye *websocket.CloseError
	deliberate := errors.As(err, &bye) && bye.Code == websocket.CloseNormalClosure // the client said goodbye
	if !c.isClosing() && !deliberate && !errors.Is(err, errControlTooBig) && !errors.Is(err, errFrameTooBig) && !errors.Is(err, websocket.ErrReadLimit) {
		c.lost.Store(true) // the client's network went, or the app was put away: it may resume
	}
	switch {
	case errors.As(err, &ce):
		code := ce.Code
		if code == websocket.CloseNoStatusReceived {
			code = messages.CloseNormal
		}
		c.Close(code, fmt.Sprintf("client closed (%d)", ce.Code))
	case errors.Is(err, errControlTooBig):
		c.g.countRejected(metrics.RejectedFrameTooBig)
		c.dropped(metrics.DroppedFrameTooBig, "gateway: closed: control frame too big")
		c.Close(messages.CloseTooBig, fmt.Sprintf("control frame exceeds %d bytes", maxControlPayload))
	case errors.Is(err, errFrameTooBig):
		c.g.countRejected(metrics.RejectedFrameTooBig)
		c.dropped(metrics.DroppedFrameTooBig, "gateway: closed: frame too big")
		c.Close(messages.CloseTooBig, fmt.Sprintf("frame exceeds %d bytes", c.g.cfg.MaxFrameBytes))
	case errors.Is(err, websocket.ErrReadLimit):
		if !c.isClosing() { // not the rest of a frame already refused
			c.dropped(metrics.DroppedFrameTooBig, "gateway: closed: message too big")
		}
		c.Close(messages.CloseTooBig, "message too big")
	case errors.As(err, &ne) && ne.Timeout():
		// After Close this is the end of the grace, and Close is a no-op.
		c.Close(messages.ClosePolicy, fmt.Sprintf("nothing received for %v", c.g.cfg.IdleTimeout))
	default:
		c.Close(messages.CloseGoingAway, "connection lost")
	}
}

// writeLoop holds the writer role: it writes what is queued, in batches,
// and the pings when due, until nothing is left; then it gives the role up
// and returns. After Close it carries out the close (finish) and keeps the
// role for good, so no writer runs after it.
func (c *conn) writeLoop() {
	var batch []frame
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			c.finish()
			return
		}
		ping := c.pingDue
		c.pingDue = false
		if len(c.queue) == 0 && !ping {
			c.writing = false
			// Keep small buffers for the next burst, not a big one's.
			if cap(c.queue) > maxSpareFrames {
				c.queue = nil
			}
			if c.spare == nil && cap(batch) <= maxSpareFrames {
				c.spare = batch[:0]
			}
			c.mu.Unlock()
			return
		}
		// Swap buffers: the senders fill the spare while this batch is written.
		if batch == nil {
			batch, c.spare = c.spare, nil
		}
		batch, c.queue = c.queue, batch[:0]
		c.mu.Unlock()

		// Several frames (a ping and Engine.IO's beside it count) go out
		// in one write system call.
		held := len(batch) > 1 || ping
		if held {
			c.nc.hold()
		}
		var err error
		for i := range batch {
			if err == nil {
				err = c.write(batch[i], c.writeDeadline())
			}
			if p := batch[i].pooled; p != nil {
				*p = (*p)[:0]
				framePool.Put(p)
			}
			batch[i] = frame{} // the data may be large; do not keep it
		}
		if err == nil && ping {
			err = c.ping()
		}
		if held {
			if ferr := c.nc.flush(); err == nil {
				err = ferr
			}
		}
		if err != nil {
			c.Close(messages.CloseGoingAway, "write failed: "+err.Error())
		}
	}
}

// maxSpareFrames bounds the batch buffer a connection keeps between bursts.
const maxSpareFrames = 8

// ping sends a WebSocket ping, and the protocol's own ping if it has one.
func (c *conn) ping() error {
	if err := c.ws.WriteControl(websocket.PingMessage, nil, c.writeDeadline()); err != nil {
		return err
	}
	hb, ok := c.wire.heartbeat()
	if !ok {
		return nil
	}
	if err := c.write(hb, c.writeDeadline()); err != nil {
		return err
	}
	// The deadline runs from the oldest unanswered ping.
	if !c.pongDue.Swap(true) {
		c.armPongTimer()
	}
	return nil
}

// finish ends the connection after Close: frames queued before it (say an
// Error before a close) go out first, then the close frame, all within the
// grace; then it waits for the client's close frame and closes the socket.
func (c *conn) finish() {
	end := c.ending()
	cause, deadline := end.cause, end.deadline
	c.mu.Lock()
	rest := c.queue
	c.queue, c.spare = nil, nil
	c.mu.Unlock()
	c.nc.hold() // the rest and the close frame: one write
	for _, f := range rest {
		if c.write(f, deadline) != nil {
			break
		}
	}
	msg := websocket.FormatCloseMessage(cause.code, closeFrameText(cause.reason))
	c.ws.WriteControl(websocket.CloseMessage, msg, deadline)
	c.nc.flush()

	wait := time.NewTimer(time.Until(deadline))
	select {
	case <-end.readStopped:
	case <-wait.C:
	}
	wait.Stop()
	c.ws.Close()
	close(end.writerDone)
}

func (c *conn) write(f frame, deadline time.Time) error {
	c.ws.SetWriteDeadline(deadline)
	return c.ws.WriteMessage(f.kind, f.data)
}

// writeDeadline is the usual per-frame bound, or the close grace once
// closing, so a write cannot undo the short deadline Close has set.
func (c *conn) writeDeadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.end.deadline
	}
	return time.Now().Add(writeWait)
}

// workerPool runs writers and resumed readers on kept goroutines: each
// starts with its stack grown already (see package workers). A writer runs
// only while a connection has something to write, so in play one starts
// for almost every frame.
var workerPool = workers.New(2 * time.Second)

// framePool holds the buffers frames are read into, so a read allocates
// nothing once the pool is warm.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// readLimited appends r's bytes to buf until EOF or until buf holds max.
func readLimited(r io.Reader, max int, buf []byte) ([]byte, error) {
	for len(buf) < max {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), max)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
