package gateway

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// netConn is the socket under a gorilla connection. It gives gorilla a
// read buffer of ours, so the reader can tell when it is empty and wait for
// the socket in a shallow call (waitReadable), and it can hold frames
// written between hold and flush to send them in one system call.
type netConn struct {
	net.Conn
	br  *bufio.Reader      // gorilla reads through it (from Read); reader goroutine only
	raw syscall.RawConn    // nil: no shallow wait
	fd  int32              // the socket's descriptor, for the parker; -1: none
	rdy func(uintptr) bool // c.ready as a value made once: no allocation per wait

	guard  frameGuard   // in Read, between the socket and br; reader role only
	waited bool         // reader role only: ready has already peeked once
	rdl    atomic.Int64 // the read deadline in Unix nanoseconds; 0: none
	dlMu   sync.Mutex   // orders setting the socket's read deadline with noting it

	mu   sync.Mutex
	held bool    // between hold and flush
	buf  *[]byte // frames held; from bufPool
}

// maxHeld is how much a batch buffers before it writes early.
const maxHeld = 32 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func newNetConn(c net.Conn, maxMessage int) *netConn {
	nc := &netConn{Conn: c, fd: -1}
	nc.guard = frameGuard{limit: uint32(maxMessage)}
	nc.br = bufio.NewReaderSize(nc, readBufferSize)
	if sc, ok := c.(syscall.Conn); ok && canPeek {
		if raw, err := sc.SyscallConn(); err == nil {
			nc.raw = raw
			nc.rdy = nc.ready
			raw.Control(func(fd uintptr) { nc.fd = int32(fd) })
		}
	}
	return nc
}

// Read reads through the frame guard. gorilla's Upgrade resets the read
// buffer it is given onto the hijacked connection (bufioReaderSize in
// v1.5.3), so the guard must be on this path, not only in br.
func (nc *netConn) Read(p []byte) (int, error) { return nc.guard.read(nc.Conn, p) }

// SetReadDeadline also notes the deadline, for a parked connection's timer.
func (nc *netConn) SetReadDeadline(t time.Time) error {
	nc.dlMu.Lock()
	defer nc.dlMu.Unlock()
	nc.noteReadDeadline(t)
	return nc.Conn.SetReadDeadline(t)
}

func (nc *netConn) SetDeadline(t time.Time) error {
	nc.dlMu.Lock()
	defer nc.dlMu.Unlock()
	nc.noteReadDeadline(t)
	return nc.Conn.SetDeadline(t)
}

// waitReadableFor is waitReadable for at most d: true when the socket has
// data, failed, or reached its own read deadline within d (the read then
// reports it); false when d passed first. The socket's deadline is
// shortened for the wait and then set back to the one noted, which Close
// may have changed meanwhile.
func (nc *netConn) waitReadableFor(d time.Duration) bool {
	if nc.raw == nil || d <= 0 {
		return false
	}
	if nc.pending() {
		return true
	}
	short := time.Now().Add(d)
	if dl := nc.readDeadline(); !dl.IsZero() && !short.Before(dl) {
		nc.waitReadable() // the socket's own deadline comes first
		return true
	}
	nc.dlMu.Lock()
	nc.Conn.SetReadDeadline(short)
	nc.dlMu.Unlock()
	nc.waited = false
	err := nc.raw.Read(nc.rdy)
	nc.dlMu.Lock()
	nc.Conn.SetReadDeadline(nc.readDeadline())
	nc.dlMu.Unlock()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if dl := nc.readDeadline(); dl.IsZero() || time.Now().Before(dl) {
			return false // our short wait ended, not the socket's deadline
		}
	}
	nc.br.Peek(1)
	return true
}

func (nc *netConn) noteReadDeadline(t time.Time) {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	nc.rdl.Store(ns)
}

// readDeadline is the last read deadline set; zero for none.
func (nc *netConn) readDeadline() time.Time {
	if ns := nc.rdl.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// hold makes writes until flush go into one buffer.
func (nc *netConn) hold() {
	nc.mu.Lock()
	nc.held = true
	nc.mu.Unlock()
}

// Write buffers while held, else writes through. gorilla calls it with one
// whole frame at a time, under its own write lock.
func (nc *netConn) Write(p []byte) (int, error) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if !nc.held {
		return nc.Conn.Write(p)
	}
	if nc.buf == nil {
		nc.buf = bufPool.Get().(*[]byte)
	}
	if b := *nc.buf; len(b) > 0 && len(b)+len(p) > maxHeld {
		*nc.buf = b[:0]
		if _, err := nc.Conn.Write(b); err != nil { // under the deadline gorilla just set
			return 0, err
		}
	}
	*nc.buf = append(*nc.buf, p...)
	return len(p), nil
}

// flush writes what hold kept, under the last write deadline set, and
// ends the hold.
func (nc *netConn) flush() error {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	nc.held = false
	if nc.buf == nil {
		return nil
	}
	var err error
	if b := *nc.buf; len(b) > 0 {
		_, err = nc.Conn.Write(b)
	}
	if cap(*nc.buf) <= maxHeld {
		*nc.buf = (*nc.buf)[:0]
		bufPool.Put(nc.buf)
	}
	nc.buf = nil
	return err
}

// drained says the reader has nothing buffered and can wait in
// waitReadable; without a way to wait there it reads on in place.
func (nc *netConn) drained() bool { return nc.raw != nil && !nc.pending() }

// pending says whether the reader has something to read without waiting:
// buffered bytes, or the error of an oversized message, which must reach
// the reader even if the client sends nothing more.
func (nc *netConn) pending() bool { return nc.br.Buffered() > 0 || nc.guard.tooBig }

// waitReadable returns once the socket has data, and reads it into the
// buffer (or once it fails or its read deadline passes: gorilla's read
// then reports it). It waits in a shallow call, under 1 KiB of stack;
// waiting in gorilla's read the reader would use more.
func (nc *netConn) waitReadable() {
	if nc.raw == nil || nc.pending() {
		return
	}
	nc.waited = false
	nc.raw.Read(nc.rdy)
	nc.br.Peek(1)
}

// ready peeks once: data or an error means go on; none means park until the
// poller says the socket is readable, then go on without a second peek.
func (nc *netConn) ready(fd uintptr) bool {
	if nc.waited {
		return true
	}
	nc.waited = true
	return !peekWouldBlock(fd)
}

// readBufs keeps a few read buffers of parked connections for the next
// readers that start, each in a bufio.Reader that only carries it. Not a
// sync.Pool: that one keeps what it is given until the second collection,
// and an idle server seldom collects, so it would hold a buffer for nearly
// every parked connection.
var readBufs struct {
	sync.Mutex
	spare []*bufio.Reader
}

// maxSpareReadBufs bounds readBufs: the readers that start at once, a
// ping round's pongs, say, need no more.
const maxSpareReadBufs = 256

// dropReadBuffer gives the read buffer up while the connection is parked,
// so an idle connection holds none; restoreReadBuffer takes one back
// before the next read. gorilla keeps a pointer to nc.br, so the buffer
// moves out of it and back, not the reader. Reader role only, with nothing
// buffered.
func (nc *netConn) dropReadBuffer() {
	if nc.br.Size() == 0 || nc.br.Buffered() > 0 {
		return
	}
	readBufs.Lock()
	if len(readBufs.spare) < maxSpareReadBufs {
		carrier := new(bufio.Reader)
		*carrier = *nc.br
		readBufs.spare = append(readBufs.spare, carrier)
	}
	readBufs.Unlock()
	*nc.br = bufio.Reader{}
}

func (nc *netConn) restoreReadBuffer() {
	if nc.br.Size() > 0 {
		return
	}
	var carrier *bufio.Reader
	readBufs.Lock()
	if n := len(readBufs.spare); n > 0 {
		carrier = readBufs.spare[n-1]
		readBufs.spare[n-1] = nil
		readBufs.spare = readBufs.spare[:n-1]
	}
	readBufs.Unlock()
	if carrier == nil {
		carrier = bufio.NewReaderSize(nc, readBufferSize)
	}
	*nc.br = *carrier
	nc.br.Reset(nc)
}

// hijacker gives gorilla's Upgrade a netConn and our read buffer in place
// of net/http's (gorilla keeps a hijacked reader when ReadBufferSize is 0).
type hijacker struct {
	http.ResponseWriter
	maxMessage int // the frame limit, for the netConn's guard
	nc         *netConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("gateway: response does not implement http.Hijacker")
	}
	c, brw, err := hj.Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return c, brw, err // gorilla refuses data sent before the handshake
	}
	h.nc = newNetConn(c, h.maxMessage)
	return h.nc, bufio.NewReadWriter(h.nc.br, brw.Writer), nil
}
