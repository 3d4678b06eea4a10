package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The listener reads each connection's first request itself, and serves a
// WebSocket upgrade of /ws or of Socket.IO's websocket transport without
// net/http's per-connection state. net/http gives every connection a
// 4 KiB read buffer and a 4 KiB write buffer from its pools, and a
// connection it hands over (Hijack) takes both along, so they never go
// back: each upgrade made 8 KiB of garbage, over a third of what opening
// an idle connection allocates, and in a rush of arrivals the heap peaks
// with that garbage. Here the request is read through a small pooled
// buffer; the gateway's own ServeHTTP answers it, with a ResponseWriter
// that answers once or hijacks. Any other request (and one that cannot be
// read) goes on to net/http with the bytes read so far given back first,
// so net/http answers it as it always has.

// sniffBufSize is the read buffer of a first request; textproto reads a
// longer header line in pieces.
const sniffBufSize = 512

// sniffer is the pooled state of reading one first request.
type sniffer struct {
	rec recorder
	br  *bufio.Reader
	bw  *bufio.Writer // for gorilla's handshake answer; it copies its buffer out
}

var sniffers = sync.Pool{New: func() any {
	s := &sniffer{}
	s.br = bufio.NewReaderSize(&s.rec, sniffBufSize)
	s.bw = bufio.NewWriterSize(io.Discard, 256)
	return s
}}

// maxRecorded bounds the record a sniffer keeps in the pool.
const maxRecorded = 4 << 10

func (s *sniffer) release() {
	s.rec.conn = nil
	if cap(s.rec.buf) > maxRecorded {
		s.rec.buf = nil
	}
	s.rec.buf = s.rec.buf[:0]
	s.br.Reset(&s.rec)
	s.bw.Reset(io.Discard)
	sniffers.Put(s)
}

// recorder reads from conn and keeps every byte read, so that net/http can
// be given the same bytes again; it fails past limit, as net/http's header
// limit does.
type recorder struct {
	conn  net.Conn
	buf   []byte
	limit int
}

var errHeaderTooBig = errors.New("gateway: request header too big")

func (r *recorder) Read(p []byte) (int, error) {
	if len(r.buf) >= r.limit {
		return 0, errHeaderTooBig
	}
	p = p[:min(len(p), r.limit-len(r.buf))]
	n, err := r.conn.Read(p)
	r.buf = append(r.buf, p[:n]...)
	return n, err
}

// start runs the accept loop once.
func (l *limitListener) start() {
	l.once.Do(func() {
		l.conns = make(chan net.Conn)
		l.errs = make(chan error)
		l.done = make(chan struct{})
		go l.acceptLoop()
	})
}

// Accept gives net/http the connections it is to serve: those accepted
// over the limit, and every one whose first request is not an upgrade
// served here.
func (l *limitListener) Accept() (net.Conn, error) {
	l.start()
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *limitListener) Close() error {
	l.start()
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *limitListener) acceptLoop() {
	max := int64(l.g.cfg.MaxConnections)
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case l.errs <- err:
			case <-l.done:
				return
			}
			if !errors.Is(err, net.ErrClosed) && isTemporary(err) {
				time.Sleep(5 * time.Millisecond) // out of descriptors, say: as net/http backs off
				continue
			}
			return
		}
		n := l.g.tcpOpen.Add(1)
		tc := &trackedConn{Conn: c, g: l.g, over: n > max}
		if n > max+refuseSlots {
			l.g.countRefused(refusedTotal)
			tc.Close()
			continue
		}
		if tc.over || l.srv == nil {
			l.handoff(tc) // net/http answers 503 server_full
			continue
		}
		go l.sniff(tc)
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// handoff gives c to net/http; closed if the listener closed meanwhile.
func (l *limitListener) handoff(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

// headerWait is how long a first request may take, as net/http would allow.
func headerWait(srv *http.Server) time.Duration {
	if srv.ReadHeaderTimeout > 0 {
		return srv.ReadHeaderTimeout
	}
	return srv.ReadTimeout
}

// sniff reads tc's first request and serves it if it is an upgrade served
// here, else hands tc to net/http.
func (l *limitListener) sniff(tc *trackedConn) {
	s := sniffers.Get().(*sniffer)
	s.rec.conn = tc
	s.rec.limit = l.srv.MaxHeaderBytes
	if s.rec.limit <= 0 {
		s.rec.limit = http.DefaultMaxHeaderBytes
	}
	s.rec.limit += 4096 // net/http's slack beyond MaxHeaderBytes
	if d := headerWait(l.srv); d > 0 {
		tc.SetReadDeadline(time.Now().Add(d))
	}
	r, err := http.ReadRequest(s.br)
	if err == nil && l.g.upgradesHere(r) {
		tc.SetReadDeadline(time.Time{})
		l.serveUpgrade(tc, s, r)
		return
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// net/http closes a connection whose header is late, unanswered.
		s.release()
		tc.Close()
		return
	}
	rc := &replayConn{trackedConn: tc, pending: bytes.Clone(s.rec.buf)}
	s.release()
	tc.SetReadDeadline(time.Time{}) // net/http sets its own
	l.handoff(rc)
}

// upgradesHere says whether r is a WebSocket upgrade that the listener
// serves itself: /ws, and Socket.IO's websocket transport that does not
// upgrade a polling session (those may be forwarded to another node).
func (g *Gateway) upgradesHere(r *http.Request) bool {
	if r.Method != http.MethodGet || !websocket.IsWebSocketUpgrade(r) {
		return false
	}
	if r.URL.Path == "/ws" {
		return true
	}
	if !g.isSocketIOPath(r.URL.Path) {
		return false
	}
	q := r.URL.Query()
	return q.Get("transport") == "websocket" && q.Get("sid") == ""
}

// serveUpgrade serves r through the gateway's router with a writer that
// hijacks or answers once and closes.
func (l *limitListener) serveUpgrade(tc *trackedConn, s *sniffer, r *http.Request) {
	r.RemoteAddr = tc.RemoteAddr().String()
	w := &upgradeWriter{conn: tc, s: s}
	defer func() {
		if p := recover(); p != nil {
			l.g.log.Error("gateway: panic serving an upgrade", "panic", p, "remote", r.RemoteAddr)
			if !w.hijacked {
				tc.Close()
			}
		}
	}()
	l.g.ServeHTTP(w, r)
	if w.hijacked {
		// The connection has its own buffers now (hijacker); what is in
		// the sniffer's reader made the upgrade fail, and goes with it.
		s.release()
		return
	}
	w.answer(headerWait(l.srv))
	s.release()
}

// upgradeWriter is the http.ResponseWriter of an upgrade served by the
// listener: gorilla hijacks it, or the gateway refuses (a status, headers
// and a short JSON body), which answer sends as one response before the
// connection closes.
type upgradeWriter struct {
	conn     *trackedConn
	s        *sniffer
	header   http.Header
	status   int
	body     []byte
	hijacked bool
}

func (w *upgradeWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

func (w *upgradeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *upgradeWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, p...)
	return len(p), nil
}

func (w *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	w.s.bw.Reset(w.conn)
	return w.conn, bufio.NewReadWriter(w.s.br, w.s.bw), nil
}

// answer writes the response within wait, half-closes, lets the client's
// rest arrive for a moment (so the answer is not lost to a reset, as
// net/http does), and closes.
func (w *upgradeWriter) answer(wait time.Duration) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	resp := &http.Response{
		StatusCode: w.status, ProtoMajor: 1, ProtoMinor: 1,
		Header: w.header, ContentLength: int64(len(w.body)), Close: true,
		Body: io.NopCloser(bytes.NewReader(w.body)),
	}
	if wait <= 0 {
		wait = closeGrace
	}
	w.conn.SetDeadline(time.Now().Add(wait))
	bw := w.s.bw
	bw.Reset(w.conn)
	if resp.Write(bw) == nil && bw.Flush() == nil {
		w.conn.CloseWrite()
		w.conn.SetReadDeadline(time.Now().Add(closeGrace))
		io.Copy(io.Discard, io.LimitReader(w.conn, 64<<10))
	}
	w.conn.Close()
}

// replayConn is a connection handed to net/http after its first bytes
// were read: it reads those again first.
type replayConn struct {
	*trackedConn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) == 0 {
			c.pending = nil
		}
		return n, nil
	}
	return c.trackedConn.Read(p)
}
