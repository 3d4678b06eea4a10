package actors

import (
	"crypto/subtle"
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/caiquan/caiquan/messages"
)

// Socket.IO's connection state recovery (socket.io-protocol v5, the
// server's connectionStateRecovery) on the resume machinery of resume.go.
// The session answers the client's CONNECT: the answer carries a pid, the
// session's resume token, and every event the session numbers carries its
// seq as the offset, a string last argument. A client that reconnects
// sends {pid, offset} in its CONNECT's auth; the session the pid names
// takes the new connection over as for a /ws resume, answers the CONNECT
// with the same pid (socket.io-client reports `recovered` only then) and
// sends the events after the offset. Unlike a /ws token the pid does not
// change, since the client keeps its first; what makes it work once is
// that only a session whose connection is gone takes a recovery, and a
// recovered one is connected again.

// sioConnect carries a CONNECT to the session actor; local to the node,
// like the connection.
type sioConnect struct{ c SocketIOConnect }

var _ SocketIOSession = (*sessionHandle)(nil)

func (h *sessionHandle) Connect(c SocketIOConnect) {
	if pid := h.pid.Load(); pid != nil {
		h.root.Send(pid, &sioConnect{c: c})
	}
}

// handleConnect answers a CONNECT: a recovery when it names another
// session with a pid, else a fresh pid (or none, without resume).
func (s *session) handleConnect(ctx actor.Context, c SocketIOConnect) {
	sc, ok := s.conn.(SocketIOConn)
	if !ok || s.gone {
		return
	}
	if s.d.settings.ResumeWindow <= 0 {
		sc.Connected("", false)
		return
	}
	if c.PID == "" {
		sc.Connected(s.offerPID(ctx), false)
		return
	}
	node, pidID, secret, ok := parseResumeToken(c.PID)
	lastSeq, offsetOK := parseOffset(c.Offset)
	switch {
	case !ok || !offsetOK:
		s.refuseRecovery(ctx, sc, "the pid or the offset is malformed")
	case node == nodeKey(ctx.Self().Address) && pidID == ctx.Self().Id:
		s.reconnect(ctx, sc, secret, lastSeq)
	case s.phase != greeting || s.resuming != nil:
		s.refuseRecovery(ctx, sc, "this connection has a session already")
	default:
		s.startRecovery(ctx, sc, c, node, pidID, secret, lastSeq)
	}
}

// refuseRecovery answers a CONNECT whose pid recovers nothing: a fresh
// pid (socket.io-client then reports recovered false), and the reason as
// an error, as a /ws resume that fails gets it.
func (s *session) refuseRecovery(ctx actor.Context, sc SocketIOConn, reason string) {
	sc.Connected(s.offerPID(ctx), false)
	s.sendError(messages.CodeResumeFailed, reason+"; this connection starts a new session: say hello")
}

// offerPID makes the session recoverable, numbering what it sends from
// now on, and returns its pid.
func (s *session) offerPID(ctx actor.Context) string {
	if s.resume == nil {
		s.resume = newResumeState(s.d.settings.RoomSize, true)
	}
	if s.resume.secret == "" {
		s.resume.secret = newSecret()
	}
	return resumeToken(ctx.Self(), s.resume.secret)
}

// reconnect answers a CONNECT on the connection that already carries this
// session: after a DISCONNECT (41) the client connects again with the pid
// it has. The session stayed where it was, and what it sent meanwhile was
// numbered but dropped: it is sent now, if still held.
func (s *session) reconnect(ctx actor.Context, sc SocketIOConn, secret string, lastSeq uint32) {
	r := s.resume
	if r == nil || !r.sio || !constantTimeEqual(secret, r.secret) || !r.held(lastSeq) {
		if r != nil && r.sio {
			r.secret = "" // a new pid: the client learns it missed events
		}
		s.refuseRecovery(ctx, sc, "the pid is not valid, or the events after the offset are no longer held")
		return
	}
	sc.Connected(resumeToken(ctx.Self(), r.secret), true)
	for _, env := range r.after(lastSeq) {
		s.conn.Send(env)
	}
}

// startRecovery asks the session the pid names to take this connection
// over. With login, the CONNECT's token must name that session's player.
func (s *session) startRecovery(ctx actor.Context, sc SocketIOConn, c SocketIOConnect, node, pidID, secret string, lastSeq uint32) {
	uid := ""
	if s.d.settings.Auth != nil {
		claims, err := s.d.settings.Auth.Verify(c.Token, s.d.settings.Clock.Now())
		if err != nil {
			// No player to check the pid against; the hello will say
			// what is wrong with the token.
			s.refuseRecovery(ctx, sc, "a pid needs the token of its player in the CONNECT's auth")
			return
		}
		uid = claims.Sub
	}
	rs := &resumingState{target: s.resumeTarget(ctx, node, pidID), sio: true}
	s.askTakeover(ctx, rs, &messages.ResumeRequest{Secret: secret, Uid: uid, LastSeq: lastSeq, SocketIo: true}, s.recoveryWait())
}

// recoveryWait bounds the wait for the old session's answer: the client
// says no hello before it, and the gateway's hello deadline must not end
// the connection first.
func (s *session) recoveryWait() time.Duration {
	if h := s.d.settings.HandshakeTimeout; h > 0 {
		return min(resumeAnswerWait, h/2)
	}
	return resumeAnswerWait
}

// recoveryFailed: the CONNECT gets a fresh pid and the reason, and the
// session waits for the client's hello as any new one (socket.io-client
// reports recovered false, and the app says hello).
func (s *session) recoveryFailed(ctx actor.Context, rs *resumingState, reason string) {
	if rs.gone {
		ctx.Stop(ctx.Self())
		return
	}
	if sc, ok := s.conn.(SocketIOConn); ok {
		s.refuseRecovery(ctx, sc, reason)
	}
	for _, env := range rs.pending {
		s.handleClient(ctx, env)
	}
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// parseOffset reads a CONNECT's offset, the seq of the last event the
// client saw, which the server sent as a decimal string. None: the client
// saw no event since the pid.
func parseOffset(offset string) (uint32, bool) {
	if offset == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(offset, 10, 32)
	return uint32(n), err == nil
}
