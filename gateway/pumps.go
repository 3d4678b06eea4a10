package gateway

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/messages"
)

// readLoop reads frames until the socket fails or closes. After Close it
// keeps reading, but only to discard input until the client's close frame
// (or the grace) ends it, so unread data cannot reset the connection before
// our close frame arrives.
func (c *conn) readLoop() {
	limit := c.g.cfg.MaxFrameBytes
	for {
		kind, r, err := c.ws.NextReader()
		if err != nil {
			c.closeAfterReadError(err)
			return
		}
		// Never buffer more than the limit: read one byte past it to notice.
		data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
		if err != nil {
			c.closeAfterReadError(err)
			return
		}
		if c.isClosing() {
			continue
		}
		c.extendReadDeadline()
		if len(data) > limit {
			c.g.countRejected("frame_too_big")
			c.Close(messages.CloseTooBig, fmt.Sprintf("frame exceeds %d bytes", limit))
			continue
		}
		c.pongDue.Store(false) // any frame shows the client is alive
		c.handle(kind, data)
	}
}

// handle applies the rate limit, decodes, and acts on one frame.
func (c *conn) handle(kind int, data []byte) {
	switch c.limiter.take(time.Now()) {
	case dropNotify:
		c.g.countRejected(messages.CodeRateLimited)
		c.Send(errorEnvelope(messages.CodeRateLimited, "too many messages; this one was dropped"))
		return
	case dropSilent:
		c.g.countRejected(messages.CodeRateLimited)
		return
	case floodClosed:
		c.Close(messages.ClosePolicy, "message rate limit exceeded")
		return
	}
	in := c.wire.decode(kind, data)
	if in.token != "" {
		c.token = in.token
	}
	switch {
	case in.env != nil:
		if h := in.env.GetHello(); h != nil {
			c.helloSeen.Store(true)
			if h.Token == "" {
				h.Token = c.token
			}
		}
		c.session.Deliver(in.env)
	case in.reply != nil:
		c.enqueue(*in.reply)
	case in.err != nil:
		c.g.countRejected(in.err.Code)
		c.Send(errorEnvelope(in.err.Code, in.err.Message))
	case in.close:
		c.Close(messages.CloseNormal, in.closeReason)
	}
}

func (c *conn) closeAfterReadError(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		code := ce.Code
		if code == websocket.CloseNoStatusReceived {
			code = messages.CloseNormal
		}
		c.Close(code, fmt.Sprintf("client closed (%d)", ce.Code))
	case errors.Is(err, websocket.ErrReadLimit):
		c.Close(messages.CloseTooBig, "message too big")
	case errors.As(err, &ne) && ne.Timeout():
		// After Close this is the end of the grace, and Close is a no-op.
		c.Close(messages.ClosePolicy, fmt.Sprintf("nothing received for %v", c.g.cfg.IdleTimeout))
	default:
		c.Close(messages.CloseGoingAway, "connection lost")
	}
}

// writeLoop is the only goroutine that writes data frames and pings.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	ping := time.NewTicker(c.g.cfg.PingInterval)
	defer ping.Stop()
	// pongTimer runs while an Engine.IO ping is unanswered.
	pongTimer := time.NewTimer(time.Hour)
	pongTimer.Stop()
	defer pongTimer.Stop()

	for {
		select {
		case <-c.closing:
			c.finish()
			return
		case f := <-c.out:
			if err := c.write(f, c.writeDeadline()); err != nil {
				c.Close(messages.CloseGoingAway, "write failed: "+err.Error())
				c.finish()
				return
			}
		case <-ping.C:
			if err := c.ping(pongTimer); err != nil {
				c.Close(messages.CloseGoingAway, "write failed: "+err.Error())
				c.finish()
				return
			}
		case <-pongTimer.C:
			if c.pongDue.Load() {
				c.Close(messages.ClosePolicy, fmt.Sprintf("no pong within %v", c.g.eio4PingTimeout))
			}
		}
	}
}

// ping sends a WebSocket ping, and the protocol's own ping if it has one.
func (c *conn) ping(pongTimer *time.Timer) error {
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
	// The timer measures from the oldest unanswered ping.
	if !c.pongDue.Swap(true) {
		pongTimer.Reset(c.g.eio4PingTimeout)
	}
	return nil
}

// finish ends the connection after Close: frames queued before it (say an
// Error before a close) go out first, then the close frame, all within the
// grace; then it waits for the client's close frame and closes the socket.
func (c *conn) finish() {
	cause, deadline := c.closeState()
flush:
	for {
		select {
		case f := <-c.out:
			if c.write(f, deadline) != nil {
				break flush
			}
		default:
			break flush
		}
	}
	msg := websocket.FormatCloseMessage(cause.code, closeFrameText(cause.reason))
	c.ws.WriteControl(websocket.CloseMessage, msg, deadline)

	wait := time.NewTimer(time.Until(deadline))
	select {
	case <-c.readStopped:
	case <-wait.C:
	}
	wait.Stop()
	c.ws.Close()
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
		return c.closeDeadline
	}
	return time.Now().Add(writeWait)
}
