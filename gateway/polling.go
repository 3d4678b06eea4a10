package gateway

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/metrics"
)

// Engine.IO 4 over HTTP long-polling (socketio/engine.io-protocol): a GET
// without sid opens a session and answers the open packet; then GETs wait
// for the server's packets and POSTs carry the client's, several packets
// joined by the record separator. A WebSocket with the same sid may take
// the session over (the upgrade): it answers 2probe with 3probe, the
// pending GET gets a noop, and after the client's 5 every packet goes
// through the WebSocket and HTTP requests with the sid are refused.
//
// A pollSession is its session's actors.Conn for the session's whole life,
// upgraded or not: the session actor never learns of the transport.
// Goroutines: none of its own. The HTTP handlers of its requests do the
// work (a GET waits in its handler until there is something to answer),
// and timers (the next ping, the pong deadline, the hello deadline, the
// end of a close) run short callbacks.

// recordSeparator joins packets in a polling payload.
const recordSeparator = '\x1e'

// Engine.IO's refusals, which clients parse (code and message are fixed).
var (
	eioTransportUnknown = engineIOError{Code: 0, Message: "Transport unknown"}
	eioUnknownSID       = engineIOError{Code: 1, Message: "Session ID unknown"}
	eioBadHandshake     = engineIOError{Code: 2, Message: "Bad handshake method"}
	eioBadRequest       = engineIOError{Code: 3, Message: "Bad request"}
	eioBadVersion       = engineIOError{Code: 5, Message: "Unsupported protocol version"}
)

// pollSession is one Engine.IO 4 session that began on long-polling.
type pollSession struct {
	g       *Gateway
	id      uint64 // as conn.id
	wire    *eio4Wire
	session actors.Session
	addr    netip.Addr // the client's, holding one of its max_connections_per_ip

	// postMu is held by the POST that is handing packets to the session;
	// finish takes it to call Session.Closed, so no Deliver follows.
	postMu  sync.Mutex
	limiter limiter // postMu
	token   string  // postMu: the session token given outside hello

	helloSeen atomic.Bool
	lost      atomic.Bool // ended from the client's side (Lost)

	mu      sync.Mutex
	queue   [][]byte      // packets waiting for a GET; at most cfg.OutboundQueue
	poll    chan struct{} // closed to wake the pending GET; nil: none pending
	posting bool          // a POST is being read
	probe   *conn         // the WebSocket trying to take over, until it gives up or sends 5
	// opening: a WebSocket with this sid is being upgraded; a second one
	// is refused, even before the first has become the probe.
	opening   bool
	upgrading bool  // the probe answered 3probe: GETs get a noop
	ws        *conn // after the upgrade, the transport
	closed    bool
	byClient  bool // the client sent close (1): the last GET gets a noop
	reason    string
	pongDue   bool
	ended     bool // finish ran
	pingTimer *time.Timer
	pongTimer *time.Timer
	helloTmr  *time.Timer
	endTimer  *time.Timer
}

var _ actors.SocketIOConn = (*pollSession)(nil)

// ID is the session's connection id, as conn.ID; its upgrade keeps it.
func (p *pollSession) ID() uint64 { return p.id }

// servePolling answers every request with transport=polling.
func (g *Gateway) servePolling(w http.ResponseWriter, r *http.Request, sid string) {
	if !g.corsAllowed(w, r) {
		return
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if sid == "" {
		if r.Method != http.MethodGet {
			writeJSON(w, http.StatusBadRequest, eioBadHandshake)
			return
		}
		g.openPolling(w, r)
		return
	}
	p := g.pollSession(sid)
	if p == nil {
		writeJSON(w, http.StatusBadRequest, eioUnknownSID)
		return
	}
	switch r.Method {
	case http.MethodGet:
		p.serveGet(w, r)
	case http.MethodPost:
		p.servePost(w, r)
	default:
		writeJSON(w, http.StatusBadRequest, eioBadRequest)
	}
}

// corsAllowed applies the Origin check as for upgrades and, for a browser
// page of an allowed origin, the CORS headers that let it read the answers.
func (g *Gateway) corsAllowed(w http.ResponseWriter, r *http.Request) bool {
	if !originAllowed(r, g.cfg.AllowedOrigins, g.cfg.AllowNoOrigin) {
		g.refuseOrigin(w, r)
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Add("Vary", "Origin")
	}
	return true
}

func (g *Gateway) openPolling(w http.ResponseWriter, r *http.Request) {
	if g.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, apiError{Code: messages.CodeDraining, Message: "the server is shutting down"})
		return
	}
	if g.refuseBusy(w, r) {
		return
	}
	// A polling session is a connection of its client's as a WebSocket is.
	addr := g.ClientAddr(r)
	if !g.reserveAddr(addr) {
		g.refuseAddr(w, addr)
		return
	}
	cfg := g.cfg
	p := &pollSession{
		addr:    addr,
		g:       g,
		id:      g.connIDs.Add(1),
		wire:    newEIO4Wire(g.newPollSID(), true, cfg.PingInterval, g.eio4PingTimeout, cfg.MaxFrameBytes),
		limiter: newLimiter(cfg.RateLimit, cfg.RateBurst, time.Now()),
		token:   r.URL.Query().Get("token"),
	}
	g.log.Debug("gateway: polling session opened", actors.LogConn, p.id, "sid", p.wire.sid, "remote", addr.String())
	p.session = g.opener.OpenSession(p) // before any finish can tell it Closed
	cause := g.addPoll(p)
	p.mu.Lock()
	p.pingTimer = time.AfterFunc(cfg.PingInterval, p.onPing)
	p.helloTmr = time.AfterFunc(cfg.HandshakeTimeout, func() {
		if !p.helloSeen.Load() {
			p.Close(messages.CloseHelloTimeout, fmt.Sprintf("no hello within %v", cfg.HandshakeTimeout))
		}
	})
	p.mu.Unlock()
	if cause != nil {
		p.Close(cause.code, cause.reason)
	}
	writePayload(w, http.StatusOK, []byte(p.wire.open))
}

// Send encodes env and queues it for the next GET, or hands it to the
// WebSocket after an upgrade.
func (p *pollSession) Send(env *messages.Envelope) bool {
	p.mu.Lock()
	ws, closed := p.ws, p.closed
	p.mu.Unlock()
	if ws != nil {
		return ws.Send(env)
	}
	if closed {
		return false
	}
	f, err := p.wire.encode(env)
	if err == errNotConnected {
		return true
	}
	if err != nil {
		p.g.log.Error("gateway: cannot encode a server message", actors.LogConn, p.id, "wire", "eio4-polling", "err", err)
		return false
	}
	return p.enqueue(f.data)
}

func (p *pollSession) enqueue(packet []byte) bool {
	p.mu.Lock()
	if p.ws != nil {
		ws := p.ws
		p.mu.Unlock()
		return ws.enqueue(textFrame(string(packet)))
	}
	if p.closed {
		p.mu.Unlock()
		return false
	}
	if len(p.queue) >= p.g.cfg.OutboundQueue {
		p.mu.Unlock()
		p.Close(messages.CloseSlowConsumer, "outbound queue full")
		return false
	}
	p.queue = append(p.queue, packet)
	p.wakeLocked()
	p.mu.Unlock()
	return true
}

// Connected answers a Socket.IO CONNECT for the session; a recovered
// session needs no hello (conn.Connected).
func (p *pollSession) Connected(pid string, recovered bool) {
	if recovered {
		p.sawHello()
	}
	p.enqueue(p.wire.connectFrame(pid).data)
}

// Lost says whether the client's side ended the session: its close packet,
// a silence past the ping timeout, a request cut off, while the client is
// in the namespace; or, after an upgrade, its WebSocket was lost
// (conn.Lost). Only a lost one's session waits for a recovery.
func (p *pollSession) Lost() bool {
	p.mu.Lock()
	ws := p.ws
	p.mu.Unlock()
	if ws != nil {
		return ws.Lost()
	}
	return p.lost.Load() && p.wire.inNamespace()
}

// wakeLocked ends the pending GET's wait. p.mu held.
func (p *pollSession) wakeLocked() {
	if p.poll != nil {
		close(p.poll)
		p.poll = nil
	}
}

// Close ends the session: the pending or next GET gets what is queued and
// the close packet; after closeGrace without a GET the session ends anyway.
// After an upgrade it closes the WebSocket.
func (p *pollSession) Close(code int, reason string) {
	p.mu.Lock()
	if ws := p.ws; ws != nil {
		p.mu.Unlock()
		ws.Close(code, reason)
		return
	}
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.reason = reason
	p.byClient = code == messages.CloseNormal && reason == clientDisconnected
	p.stopTimersLocked()
	p.wakeLocked()
	p.endTimer = time.AfterFunc(closeGrace, func() { p.finish() })
	probe := p.probe
	p.mu.Unlock()
	if probe != nil {
		probe.Close(code, reason)
	}
	p.g.log.Debug("gateway: polling session closing", actors.LogConn, p.id, "sid", p.wire.sid, "code", code, "reason", reason)
}

// abort ends the session at once for a request the protocol forbids: a
// pending GET gets the close packet, later requests the unknown sid.
func (p *pollSession) abort(code int, reason string) {
	p.Close(code, reason)
	p.finish()
}

// clientDisconnected is the reason of a client's own close packet.
const clientDisconnected = "client disconnected"

func (p *pollSession) stopTimersLocked() {
	for _, t := range []*time.Timer{p.pingTimer, p.pongTimer, p.helloTmr} {
		if t != nil {
			t.Stop()
		}
	}
}

// finish removes the session and tells the session actor, once.
func (p *pollSession) finish() {
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		return
	}
	p.ended = true
	upgraded := p.ws != nil
	reason := cmp.Or(p.reason, "connection lost")
	p.stopTimersLocked()
	if p.endTimer != nil {
		p.endTimer.Stop()
	}
	p.mu.Unlock()
	p.g.removePoll(p, !upgraded)
	p.postMu.Lock()
	p.session.Closed(reason)
	p.postMu.Unlock()
}

// onPing queues the heartbeat and starts the pong deadline.
func (p *pollSession) onPing() {
	p.mu.Lock()
	if p.closed || p.ws != nil {
		p.mu.Unlock()
		return
	}
	p.pingTimer.Reset(p.g.cfg.PingInterval)
	arm := !p.pongDue
	p.pongDue = true
	if arm {
		timeout := p.g.eio4PingTimeout
		if p.pongTimer == nil {
			p.pongTimer = time.AfterFunc(timeout, p.onPongTimeout)
		} else {
			p.pongTimer.Reset(timeout)
		}
	}
	p.mu.Unlock()
	p.enqueue([]byte("2"))
}

func (p *pollSession) onPongTimeout() {
	p.mu.Lock()
	due := p.pongDue && p.ws == nil
	p.mu.Unlock()
	if due {
		p.lost.Store(true)
		p.Close(messages.ClosePolicy, fmt.Sprintf("no pong within %v", p.g.eio4PingTimeout))
	}
}

// serveGet answers with the packets queued, waiting for some if there are
// none yet.
func (p *pollSession) serveGet(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	switch {
	case p.ws != nil:
		p.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, eioBadRequest)
		return
	case p.poll != nil:
		p.mu.Unlock()
		// The protocol: a second GET at once is refused and ends the session.
		p.abort(messages.ClosePolicy, "two GET requests at once")
		writeJSON(w, http.StatusBadRequest, eioBadRequest)
		return
	case p.ended:
		p.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, eioUnknownSID)
		return
	}
	if len(p.queue) == 0 && !p.closed && !p.upgrading {
		wake := make(chan struct{})
		p.poll = wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-r.Context().Done():
		}
		p.mu.Lock()
		if p.poll == wake {
			p.poll = nil // the client went away; what is queued waits for the next GET
			p.mu.Unlock()
			return
		}
	}
	var body []byte
	end := false
	switch {
	case p.ws != nil || (p.upgrading && len(p.queue) == 0):
		body = []byte("6") // the upgrade takes over; the client stops polling
	case p.closed && p.byClient:
		body, end = []byte("6"), true
	default:
		body = bytes.Join(p.queue, []byte{recordSeparator})
		p.queue = p.queue[:0]
		if p.closed {
			if len(body) > 0 {
				body = append(body, recordSeparator)
			}
			body, end = append(body, '1'), true
		}
	}
	p.mu.Unlock()
	writePayload(w, http.StatusOK, body)
	if end {
		p.finish()
	}
}

// servePost hands the client's packets to the session, in order, with the
// same rate limit as a WebSocket's frames.
func (p *pollSession) servePost(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	switch {
	case p.ws != nil:
		p.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, eioBadRequest)
		return
	case p.closed:
		p.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, eioUnknownSID)
		return
	case p.posting:
		p.mu.Unlock()
		p.abort(messages.ClosePolicy, "two POST requests at once")
		writeJSON(w, http.StatusBadRequest, eioBadRequest)
		return
	}
	p.posting = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.posting = false
		p.mu.Unlock()
	}()

	limit := p.g.cfg.MaxFrameBytes
	body, err := readLimited(r.Body, limit+1, nil)
	if err != nil {
		p.lost.Store(true)
		p.Close(messages.CloseGoingAway, "connection lost")
		return
	}
	if len(body) > limit {
		p.g.countRejected(metrics.RejectedFrameTooBig)
		p.Close(messages.CloseTooBig, fmt.Sprintf("payload exceeds %d bytes", limit))
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Code: "payload_too_big", Message: fmt.Sprintf("a payload may hold at most %d bytes (maxPayload)", limit)})
		return
	}
	p.postMu.Lock()
	ok := true
	for pkt := range bytes.SplitSeq(body, []byte{recordSeparator}) {
		if ok = p.handle(pkt); !ok {
			break
		}
	}
	p.postMu.Unlock()
	if !ok {
		p.finish()
		writeJSON(w, http.StatusBadRequest, eioBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok")
}

// handle is conn.handle for one polled packet; false when it closed the
// session for breaking the protocol. postMu held.
func (p *pollSession) handle(pkt []byte) bool {
	p.mu.Lock()
	closed := p.closed
	p.pongDue = false // any packet shows the client is alive
	p.mu.Unlock()
	if closed {
		return true
	}
	switch p.limiter.take(time.Now()) {
	case dropNotify:
		p.g.countRejected(messages.CodeRateLimited)
		p.Send(errorEnvelope(messages.CodeRateLimited, "too many messages; this one was dropped"))
		return true
	case dropSilent:
		p.g.countRejected(messages.CodeRateLimited)
		return true
	case floodClosed:
		p.Close(messages.ClosePolicy, "message rate limit exceeded")
		return true
	}
	in := p.wire.decode(websocket.TextMessage, pkt)
	if in.token != "" {
		p.token = in.token
	}
	if in.lost {
		p.lost.Store(true)
	}
	if in.connect != nil {
		if ss, ok := p.session.(actors.SocketIOSession); ok {
			ss.Connect(*in.connect) // the session answers (Connected)
			return true
		}
	}
	switch {
	case in.env != nil:
		if h := in.env.GetHello(); h != nil {
			p.sawHello()
			if h.Token == "" {
				h.Token = p.token
			}
		}
		if in.ackID != "" {
			deliverWithAck(p.session, in.env, in.ackID, func(f frame) bool { return p.enqueue(f.data) })
		} else {
			p.session.Deliver(in.env)
		}
	case in.reply != nil:
		p.enqueue(in.reply.data)
	case in.err != nil:
		p.g.countRejected(in.err.Code)
		if in.ackID != "" {
			p.enqueue(ackFrame(in.ackID, in.err.Code, in.err.Message).data)
		} else {
			p.Send(errorEnvelope(in.err.Code, in.err.Message))
		}
	case in.close:
		p.Close(cmp.Or(in.closeCode, messages.CloseNormal), in.closeReason)
		return in.closeCode == 0
	}
	return true
}

func (p *pollSession) sawHello() {
	if p.helloSeen.Swap(true) {
		return
	}
	p.mu.Lock()
	if p.helloTmr != nil {
		p.helloTmr.Stop()
	}
	p.mu.Unlock()
}

func writePayload(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// The upgrade: a WebSocket with the sid of a polling session.

// serveUpgrade takes a WebSocket that names a polling session's sid.
func (g *Gateway) serveUpgrade(w http.ResponseWriter, r *http.Request, sid string) {
	p := g.pollSession(sid)
	if p == nil {
		writeJSON(w, http.StatusBadRequest, eioUnknownSID)
		return
	}
	if !originAllowed(r, g.cfg.AllowedOrigins, g.cfg.AllowNoOrigin) {
		g.refuseOrigin(w, r)
		return
	}
	p.mu.Lock()
	busy := p.closed || p.ws != nil || p.probe != nil || p.opening
	p.opening = !busy
	p.mu.Unlock()
	if busy {
		writeJSON(w, http.StatusBadRequest, eioBadRequest)
		return
	}
	hj := &hijacker{ResponseWriter: w, maxMessage: g.cfg.MaxFrameBytes}
	ws, err := g.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		p.mu.Lock()
		p.opening = false
		p.mu.Unlock()
		return
	}
	uw := &upgradeWire{p: p}
	c := newConn(g, ws, hj.nc, uw)
	c.id = p.id // one connection to the player, on a new transport
	uw.c = c
	c.session = upgradeSession{p: p, c: c}
	c.helloSeen.Store(true) // the polling session keeps the hello deadline
	p.postMu.Lock()
	c.token = p.token
	p.postMu.Unlock()
	p.mu.Lock()
	p.opening = false
	if p.closed || p.ws != nil || p.probe != nil {
		p.mu.Unlock()
		ws.Close() // lost a race with the close
		return
	}
	p.probe = c
	p.mu.Unlock()
	go c.serve()
}

// tokenForHello is the token a hello without one carries: the one this
// connection was given, or for a WebSocket upgraded from long-polling the
// polling session's. The client's CONNECT (with its auth token) may reach
// the polling session after the upgrade began, above all when another node
// relays that POST; the hello follows the CONNECT's answer, so the polling
// session has the token by then.
func (c *conn) tokenForHello() string {
	if c.token != "" {
		return c.token
	}
	if uw, ok := c.wire.(*upgradeWire); ok {
		uw.p.postMu.Lock()
		defer uw.p.postMu.Unlock()
		return uw.p.token
	}
	return ""
}

// startProbe answers 2probe: the pending GET and every GET until the
// upgrade gets a noop.
func (p *pollSession) startProbe(c *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.probe != c || p.closed {
		return false
	}
	p.upgrading = true
	p.wakeLocked()
	return true
}

// completeUpgrade makes c the transport: what was queued for polling goes
// out on it first.
func (p *pollSession) completeUpgrade(c *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.probe != c || !p.upgrading || p.closed {
		return false
	}
	p.ws, p.probe, p.upgrading = c, nil, false
	p.pongDue = false
	for _, t := range []*time.Timer{p.pingTimer, p.pongTimer} {
		if t != nil {
			t.Stop()
		}
	}
	for _, pkt := range p.queue {
		c.enqueue(textFrame(string(pkt))) // lock order: p.mu, then c.mu
	}
	p.queue = nil
	p.wakeLocked()
	p.g.pollUpgraded()
	return true
}

// probeEnded: a WebSocket that never completed the upgrade went away;
// polling goes on.
func (p *pollSession) probeEnded(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.probe == c {
		p.probe, p.upgrading = nil, false
	}
}

// upgradeWire is the WebSocket side of an upgrade: 2probe and 5 first,
// then the polling session's own wire.
type upgradeWire struct {
	p        *pollSession
	c        *conn
	upgraded atomic.Bool
}

func (u *upgradeWire) name() string      { return ProtocolEIO4 }
func (u *upgradeWire) inNamespace() bool { return u.p.wire.inNamespace() }
func (u *upgradeWire) greeting() []frame { return nil }

func (u *upgradeWire) heartbeat() (frame, bool) {
	if u.upgraded.Load() {
		return u.p.wire.heartbeat()
	}
	return frame{}, false // polling carries the pings until the upgrade
}

func (u *upgradeWire) encode(env *messages.Envelope) (frame, error) { return u.p.wire.encode(env) }

func (u *upgradeWire) decode(kind int, data []byte) inbound {
	if u.upgraded.Load() {
		return u.p.wire.decode(kind, data)
	}
	switch {
	case kind == websocket.TextMessage && string(data) == "2probe":
		if !u.p.startProbe(u.c) {
			return violation("the session is closed")
		}
		return reply(textFrame("3probe"))
	case kind == websocket.TextMessage && string(data) == "5":
		if !u.p.completeUpgrade(u.c) {
			return violation("upgrade (5) without a probe")
		}
		u.upgraded.Store(true)
		return inbound{}
	case kind == websocket.TextMessage && string(data) == "3":
		return inbound{}
	}
	return violation("packet %s before the upgrade", preview(data))
}

var (
	_ actors.AckSession      = upgradeSession{}
	_ actors.SocketIOSession = upgradeSession{}
)

// upgradeSession is the upgrading WebSocket's view of the polling
// session's actor.
type upgradeSession struct {
	p *pollSession
	c *conn
}

func (s upgradeSession) Deliver(env *messages.Envelope) {
	if env.GetHello() != nil {
		s.p.sawHello()
	}
	s.p.session.Deliver(env)
}

func (s upgradeSession) DeliverAck(env *messages.Envelope, ack func(code, message string)) {
	if env.GetHello() != nil {
		s.p.sawHello()
	}
	if as, ok := s.p.session.(actors.AckSession); ok {
		as.DeliverAck(env, ack)
		return
	}
	s.p.session.Deliver(env)
	ack("", "")
}

func (s upgradeSession) Connect(c actors.SocketIOConnect) {
	if ss, ok := s.p.session.(actors.SocketIOSession); ok {
		ss.Connect(c)
		return
	}
	s.p.enqueue(s.p.wire.connectFrame("").data)
}

// Closed: the WebSocket ended. Once it carried the session, the session
// ends with it; a probe that never upgraded leaves polling as it was.
func (s upgradeSession) Closed(reason string) {
	s.p.mu.Lock()
	upgraded := s.p.ws == s.c
	if upgraded {
		s.p.reason = reason
	}
	s.p.mu.Unlock()
	if upgraded {
		s.p.finish()
		return
	}
	s.p.probeEnded(s.c)
}

// The gateway's table of polling sessions.

func (g *Gateway) pollSession(sid string) *pollSession {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.polls[sid]
}

// addPoll registers p; after CloseAll it returns the cause to close it with.
func (g *Gateway) addPoll(p *pollSession) *closeCause {
	g.mu.Lock()
	if g.polls == nil {
		g.polls = make(map[string]*pollSession)
	}
	g.polls[p.wire.sid] = p
	g.pollingOpen++
	cause := g.closedWith
	g.mu.Unlock()
	g.countConn(ProtocolEIO4Polling, 1)
	return cause
}

// pollUpgraded: the session's WebSocket counts as its connection now.
func (g *Gateway) pollUpgraded() {
	g.mu.Lock()
	g.pollingOpen--
	g.mu.Unlock()
	g.countConn(ProtocolEIO4Polling, -1)
}

func (g *Gateway) removePoll(p *pollSession, polling bool) {
	g.releaseAddr(p.addr)
	g.mu.Lock()
	delete(g.polls, p.wire.sid)
	if polling {
		g.pollingOpen--
	}
	g.mu.Unlock()
	if polling {
		g.countConn(ProtocolEIO4Polling, -1)
	}
}

// closePolls is CloseAll's part for polling sessions.
func (g *Gateway) closePolls(code int, reason string) {
	g.mu.Lock()
	open := make([]*pollSession, 0, len(g.polls))
	for _, p := range g.polls {
		open = append(open, p)
	}
	g.mu.Unlock()
	for _, p := range open {
		p.Close(code, reason)
	}
}
