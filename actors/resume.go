package actors

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/caiquan/caiquan/messages"
)

// Resume: a client whose connection drops (a phone's app sent to the
// background, a network blip) keeps its session, with its seat and its
// choice, for Settings.ResumeWindow. A new connection that says hello with
// the session's resume token and the last seq it saw takes the session
// back and gets every message it missed, in order, once.
//
// The session of the dropped connection (the old one) stays where it is:
// the room, the lobby and the player keep its PID. The new connection's
// session asks it for the takeover (ResumeRequest); the old one takes the
// new connection over, and the new one hands on what its client sent
// meanwhile, points the connection's handle at the old session and goes.
// A connection that lands on another member resumes the session there
// through a pipe (pipe.go). A session whose member died is gone: the
// resume fails (resume_failed) and the connection starts afresh.
// Socket.IO's connection state recovery rides on the same (socketio.go).

// replayLen is how many sent messages a resumable session keeps for a
// room of roomSize seats; a client that missed more starts afresh. What a
// client can have missed when its connection drops is what its session
// sent since the last message the client read, and the session joins no
// round without the client asking: at most the queued, the start, a leave
// from each other seat and the result (or void) of one round. Movements
// are not numbered or kept (a resumed client misses only the wiggles).
// Every session holds its ring for its whole life, and the messages in it
// (a round's start and result, shared with the room's other seats) stay
// alive as long: the ring is most of what resume adds to a player's memory.
func replayLen(roomSize int) int { return roomSize + 2 }

// resumeAnswerWait bounds how long a new session waits for the old one.
const resumeAnswerWait = 2 * time.Second

// relayGrace is how long a new session that handed its connection on
// still passes on frames its reader had already read.
const relayGrace = time.Second

// resumableConn is a Conn whose wire can carry seqs and resume tokens
// (gateway: /ws). Others get no resume.
type resumableConn interface{ Resumable() bool }

// lostConn is a Conn that tells a connection the client lost (it may come
// back) from one the server closed for cause (it may not).
type lostConn interface{ Lost() bool }

// sessionHandle is the gateway's handle on a connection's session: a
// resume points it at another session actor.
type sessionHandle struct {
	root *actor.RootContext
	pid  atomic.Pointer[actor.PID] // nil: the connection belongs to no session any more
}

func (h *sessionHandle) Deliver(env *messages.Envelope) {
	if pid := h.pid.Load(); pid != nil {
		h.root.Send(pid, stamped(env, time.Now()))
	}
}

func (h *sessionHandle) DeliverAck(env *messages.Envelope, ack func(code, message string)) {
	if pid := h.pid.Load(); pid != nil {
		h.root.Send(pid, &ackedEnvelope{env: env, ack: ack, at: time.Now().UnixNano()})
	}
}

func (h *sessionHandle) Closed(reason string) {
	if pid := h.pid.Load(); pid != nil {
		h.root.Send(pid, &messages.ConnClosed{Reason: reason})
	}
}

// handover is a connection parked for the session a resume names. Conns
// are Go values of this process; the table is where one passes between
// two sessions, whose messages to each other stay protobuf.
type handover struct {
	conn   Conn
	handle *sessionHandle
}

type handovers struct {
	next atomic.Uint64
	m    sync.Map // uint64 -> *handover
}

func (h *handovers) park(ho *handover) uint64 {
	id := h.next.Add(1)
	h.m.Store(id, ho)
	return id
}

// take removes and returns the handover id; nil if taken already.
func (h *handovers) take(id uint64) *handover {
	v, ok := h.m.LoadAndDelete(id)
	if !ok {
		return nil
	}
	return v.(*handover)
}

// resumeState is a resumable session's: its token's secret, the seq of
// what it sent last, the messages it keeps for a replay, and while its
// connection is gone, the timer of its window.
type resumeState struct {
	sio      bool // the token is a Socket.IO pid (socketio.go)
	secret   string
	seq      uint32
	sent     []*messages.Envelope // a ring of replayLen: seq s is at s % len(sent)
	detached bool
	expiry   Timer
}

// resumingState is a new session's while it asks an old one for the
// takeover, and then while it relays.
type resumingState struct {
	target   *actor.PID
	user     *messages.User
	hello    *messages.Hello
	handover uint64
	sio      bool                                  // a Socket.IO CONNECT asks, not a hello
	remote   bool                                  // the session asked lives on another member: no handover
	piping   bool                                  // after its takeover: the actor is the connection's pipe
	acks     map[uint64]func(code, message string) // a pipe's client messages awaiting their verdicts
	nextAck  uint64
	pending  []*messages.Envelope
	timer    Timer
	gone     bool // our connection closed meanwhile
	relaying bool
}

func newSecret() string {
	var b [18]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Tokens are "<node>/<session PID id>", base64url'd, then ".<secret>":
// node names the member that holds the session (nodeKey), so that a
// connection that lands on another member finds it.
func resumeToken(session *actor.PID, secret string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(nodeKey(session.Address)+"/"+session.Id)) + "." + secret
}

func parseResumeToken(token string) (node, pidID, secret string, ok bool) {
	id, secret, ok := strings.Cut(token, ".")
	if !ok || secret == "" {
		return "", "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", "", "", false
	}
	node, pidID, ok = strings.Cut(string(raw), "/")
	if !ok || node == "" || pidID == "" {
		return "", "", "", false
	}
	return node, pidID, secret, true
}

// nodeKey names a member in tokens without telling clients its cluster
// address: 8 characters of a hash of it.
func nodeKey(addr string) string {
	sum := sha256.Sum256([]byte(addr))
	return base64.RawURLEncoding.EncodeToString(sum[:6])
}

// resumeTarget is the session a token names: on this member, or on the
// current member whose key the token carries; nil when no member has it
// (a node that died or left). Only members, and only ids protoactor
// generates for root actors as it does for sessions, are ever asked,
// whatever a client writes into a token: never the lobby or a directory.
func (s *session) resumeTarget(ctx actor.Context, node, pidID string) *actor.PID {
	if !strings.HasPrefix(pidID, "$") || strings.Contains(pidID, "/") {
		return nil
	}
	self := ctx.Self().Address
	if node == nodeKey(self) {
		return actor.NewPID(self, pidID)
	}
	for _, m := range s.d.place.RoomHosts() {
		if m != self && nodeKey(m) == node {
			return actor.NewPID(m, pidID)
		}
	}
	return nil
}

// offerResume makes the session resumable if the settings and the
// connection's wire allow it; the hi then carries the token.
func (s *session) offerResume(ctx actor.Context, hi *messages.Hi) {
	if s.d.settings.ResumeWindow <= 0 {
		return
	}
	if rc, ok := s.conn.(resumableConn); !ok || !rc.Resumable() {
		return
	}
	if s.resume == nil {
		s.resume = newResumeState(s.d.settings.RoomSize, false)
	}
	s.resume.secret = newSecret() // a token works once: a resume rotates it
	token := resumeToken(ctx.Self(), s.resume.secret)
	window := int32(s.d.settings.ResumeWindow / time.Millisecond)
	hi.ResumeToken, hi.ResumeWindowMs = &token, &window
}

func newResumeState(roomSize int, sio bool) *resumeState {
	return &resumeState{sio: sio, sent: make([]*messages.Envelope, replayLen(roomSize))}
}

// number gives env the next seq and keeps it for a replay; a movement is
// neither.
func (r *resumeState) number(env *messages.Envelope) {
	if env.GetMovement() != nil {
		return
	}
	r.seq++
	env.Seq = r.seq
	r.sent[r.seq%uint32(len(r.sent))] = env
}

// held says whether every message after lastSeq is still in the ring.
func (r *resumeState) held(lastSeq uint32) bool {
	return lastSeq <= r.seq && r.seq-lastSeq <= uint32(len(r.sent))
}

// after returns the messages after lastSeq, oldest first (held must be true).
func (r *resumeState) after(lastSeq uint32) []*messages.Envelope {
	out := make([]*messages.Envelope, 0, r.seq-lastSeq)
	for s := lastSeq + 1; s <= r.seq; s++ {
		out = append(out, r.sent[s%uint32(len(r.sent))])
	}
	return out
}

// detach keeps the session for the resume window after its connection
// closed; false when it cannot be resumed, and must stop.
func (s *session) detach(ctx actor.Context) bool {
	if s.resume == nil || s.user == nil || s.phase == greeting || s.phase == attaching {
		return false
	}
	if lc, ok := s.conn.(lostConn); ok && !lc.Lost() {
		return false // closed for cause: a slow consumer, a flood
	}
	if s.phase == queued {
		// Nobody should be seated against a player who is not there: the
		// join is dropped, and the client learns it if it comes back.
		s.leaveLobbies(ctx)
		s.stopWaiting(ctx)
		s.phase, s.leftUnseated = idle, true
		s.sendError(messages.CodeJoinDropped, "the connection dropped while waiting for a seat; join again")
	}
	s.resume.detached = true
	s.debug("session: connection lost; held for a resume", "resume_window", s.d.settings.ResumeWindow)
	stopTimer(s.resume.expiry)
	s.resume.expiry = sendAfter(ctx, s.d.settings.Clock, s.d.settings.ResumeWindow, &messages.ResumeExpired{DetachedAtSeq: s.resume.seq})
	return true
}

func (s *session) handleResumeExpired(ctx actor.Context, msg *messages.ResumeExpired) {
	if s.resume != nil && s.resume.detached && s.resume.seq >= msg.DetachedAtSeq {
		ctx.Stop(ctx.Self()) // leaves the room: the seat counts as not choosing
	}
}

// handleResumeRequest: another session asks for this one with our token.
func (s *session) handleResumeRequest(ctx actor.Context, req *messages.ResumeRequest) {
	refuse := func(reason string) { ctx.Respond(&messages.ResumeAnswer{Reason: reason}) }
	r := s.resume
	switch {
	case r == nil || r.secret == "" || s.user == nil:
		refuse("the session cannot be resumed")
		return
	case subtle.ConstantTimeCompare([]byte(req.Secret), []byte(r.secret)) != 1:
		refuse("the resume token is not valid (used already, or never given)")
		return
	case req.SocketIo != r.sio:
		refuse("the resume token is of another protocol (a Socket.IO pid resumes only Socket.IO, a /ws token only /ws)")
		return
	case req.Uid != s.user.Uid && !(r.sio && req.Uid == "" && s.d.settings.Auth == nil):
		refuse("the resume token belongs to another player")
		return
	case r.sio && !r.detached:
		// socket.io keeps a session for recovery only once its connection
		// is gone; a pid that a connected session holds is used already.
		refuse("the session of this pid is connected")
		return
	case !r.held(req.LastSeq):
		refuse("the messages after last_seq are no longer held")
		return
	}
	var conn Conn
	var handle *sessionHandle
	if req.Pipe != nil && remote(ctx, req.Pipe) {
		conn = &remoteConn{root: ctx.ActorSystem().Root, pipe: req.Pipe, resumable: req.Resumable}
		ctx.Watch(req.Pipe) // its member may die with the connection
	} else {
		ho := s.d.handovers.take(req.Handover)
		if ho == nil {
			refuse("the new connection is gone")
			return
		}
		conn, handle = ho.conn, ho.handle
	}
	if s.handle != nil {
		s.handle.pid.Store(nil) // the old connection's reader reaches nobody now
	}
	if !r.detached {
		// The old connection is still open to us (a half-open TCP
		// connection the server has not noticed): it is replaced.
		s.conn.Close(messages.CloseReplaced, "the session was resumed on another connection")
	}
	if rc, ok := s.conn.(*remoteConn); ok {
		ctx.Unwatch(rc.pipe)
	}
	dropTimer(&r.expiry)
	r.detached, s.gone = false, false
	old := connID(s.conn)
	s.conn, s.handle = conn, handle
	s.debug("session: resumed on a new connection", "replaced_conn", old)
	if r.sio {
		// The same pid again: socket.io-client says recovered only then.
		if sc, ok := s.conn.(SocketIOConn); ok {
			sc.Connected(resumeToken(ctx.Self(), r.secret), true)
		}
	} else {
		r.secret = "" // the hi below gives a new one
		s.sendResumedHi(ctx)
	}
	for _, env := range r.after(req.LastSeq) {
		s.conn.Send(env)
	}
	ctx.Respond(&messages.ResumeAnswer{Ok: true})
}

// sendResumedHi opens a /ws resume: the hi is not numbered, and what
// follows it is the replay, in its seqs.
func (s *session) sendResumedHi(ctx actor.Context) {
	resumed := true
	hi := &messages.Hi{
		Message: "welcome back", Nearby: 0,
		TotalScore: s.standing.Total, WinStreak: s.standing.Streak, Resumed: &resumed,
	}
	s.offerResume(ctx, hi)
	s.conn.Send(&messages.Envelope{Body: &messages.Envelope_Hi{Hi: hi}})
}

// startResume: a hello that asks for another session. The identity is
// checked as for any hello; the old session then checks token and uid.
func (s *session) startResume(ctx actor.Context, h *messages.Hello, user *messages.User) bool {
	node, pidID, secret, ok := parseResumeToken(h.Resume.Token)
	if !ok || s.d.settings.ResumeWindow <= 0 {
		return false
	}
	rs := &resumingState{target: s.resumeTarget(ctx, node, pidID), user: user, hello: h}
	s.askTakeover(ctx, rs, &messages.ResumeRequest{Secret: secret, Uid: user.Uid, LastSeq: h.Resume.LastSeq}, resumeAnswerWait)
	return true
}

// askTakeover asks the session rs names for the takeover of this
// connection: one on this member takes it parked under a handover; one on
// another member drives it through the new session actor, which stays as its pipe
// (pipe.go).
func (s *session) askTakeover(ctx actor.Context, rs *resumingState, req *messages.ResumeRequest, wait time.Duration) {
	s.resuming = rs
	if rs.target == nil {
		s.resumeFailed(ctx, resumeGone)
		return
	}
	if remote(ctx, rs.target) {
		rs.remote = true
		req.Pipe = ctx.Self()
		rc, ok := s.conn.(resumableConn)
		req.Resumable = ok && rc.Resumable()
	} else {
		rs.handover = s.d.handovers.park(&handover{conn: s.conn, handle: s.handle})
		req.Handover = rs.handover
	}
	ctx.Request(rs.target, req)
	rs.timer = sendAfter(ctx, s.d.settings.Clock, wait, &messages.ResumeTimeout{})
}

func (s *session) handleResumeAnswer(ctx actor.Context, ans *messages.ResumeAnswer) {
	rs := s.resuming
	if rs == nil || rs.relaying {
		return
	}
	if !ans.Ok {
		if !rs.remote && s.d.handovers.take(rs.handover) == nil {
			return // taken after all; the answer that counts is on its way
		}
		s.resumeFailed(ctx, ans.Reason)
		return
	}
	if rs.remote {
		s.becomePipe(ctx)
		return
	}
	s.becomeRelay(ctx)
}

// handleResumeDeadLetter: the session a token names is gone, so its
// ResumeRequest came back at once (protoactor answers a request to a dead
// PID so); no need to wait for the timeout. While resuming, that request
// is the session's only one.
func (s *session) handleResumeDeadLetter(ctx actor.Context, msg *actor.DeadLetterResponse) {
	rs := s.resuming
	if rs == nil || rs.relaying || (msg.Target != nil && !msg.Target.Equal(rs.target)) {
		return
	}
	s.handleResumeAnswer(ctx, &messages.ResumeAnswer{Reason: resumeGone})
}

// resumeGone is the reason a resume fails when its session is not there.
const resumeGone = "the session to resume is gone (its window ended, or its node died)"

func (s *session) handleResumeTimeout(ctx actor.Context) {
	rs := s.resuming
	switch {
	case rs == nil, rs.piping:
	case rs.relaying:
		ctx.Stop(ctx.Self())
	case rs.remote || s.d.handovers.take(rs.handover) != nil:
		// Nobody took our connection: the old session is gone.
		s.resumeFailed(ctx, resumeGone)
	}
	// Otherwise the old session took it, and its answer is coming.
}

// resumeFailed goes on as a new session for the hello's player.
func (s *session) resumeFailed(ctx actor.Context, reason string) {
	rs := s.resuming
	s.resuming = nil
	stopTimer(rs.timer)
	if rs.sio {
		s.recoveryFailed(ctx, rs, reason)
		return
	}
	if rs.gone {
		ctx.Stop(ctx.Self())
		return
	}
	s.sendError(messages.CodeResumeFailed, reason+"; this connection starts a new session")
	s.admit(ctx, rs.user)
	for _, env := range rs.pending {
		s.handleClient(ctx, env)
	}
}

// becomeRelay: the old session has our connection. Hand on what our client
// sent meanwhile, point the handle at the old session, and pass on for a
// moment whatever the reader had already read for us.
func (s *session) becomeRelay(ctx actor.Context) {
	rs := s.resuming
	rs.relaying = true
	for _, env := range rs.pending {
		ctx.Send(rs.target, env)
	}
	rs.pending = nil
	if rs.gone {
		ctx.Send(rs.target, &messages.ConnClosed{Reason: "closed while resuming"})
	} else {
		s.handle.pid.Store(rs.target)
	}
	s.conn = nopConn{}
	stopTimer(rs.timer)
	rs.timer = sendAfter(ctx, s.d.settings.Clock, relayGrace, &messages.ResumeTimeout{})
}

// relay passes on a client message or the connection's end; true if s
// relays (or waits for a takeover) and took it.
func (s *session) relay(ctx actor.Context, msg any) bool {
	rs := s.resuming
	if rs == nil {
		return false
	}
	switch m := msg.(type) {
	case *messages.Envelope:
		if rs.relaying {
			ctx.Send(rs.target, m)
		} else if len(rs.pending) < maxPending {
			rs.pending = append(rs.pending, m)
		}
	case *messages.ConnClosed:
		if rs.relaying {
			ctx.Send(rs.target, m)
		} else {
			rs.gone = true
		}
	}
	return true
}

// nopConn is a relay's: its connection belongs to another session.
type nopConn struct{}

func (nopConn) Send(*messages.Envelope) bool { return false }
func (nopConn) Close(int, string)            {}
