package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/caiquan/caiquan/messages"
)

// Resume across members. A connection is a Go value of the member whose
// gateway holds it, so a session on another member cannot take it over as
// resume.go's handover does. Instead the new connection's session stays as
// its pipe: it passes what the client sends to the resumed session (with
// itself as the sender, which is how that session tells its pipe's
// messages from a former pipe's), and the resumed session drives the
// connection through a remoteConn, whose sends, closes and CONNECT answers
// are messages to the pipe. Each watches the other: a pipe whose session
// is gone closes the connection (the client reconnects afresh); a session
// whose pipe is gone counts its connection lost and waits for a resume.

// remoteConn is the Conn of a session resumed from another member: the
// connection is its pipe's. Only the session actor calls it.
type remoteConn struct {
	root      *actor.RootContext
	pipe      *actor.PID
	resumable bool
	lost      bool // as the pipe said when the connection closed
}

var _ SocketIOConn = (*remoteConn)(nil)

func (c *remoteConn) Send(env *messages.Envelope) bool {
	c.root.Send(c.pipe, &messages.PipeSend{Env: env})
	return true
}

func (c *remoteConn) Close(code int, reason string) {
	c.root.Send(c.pipe, &messages.PipeClose{Code: int32(code), Reason: reason})
}

func (c *remoteConn) Connected(pid string, recovered bool) {
	c.root.Send(c.pipe, &messages.PipeConnected{Pid: pid, Recovered: recovered})
}

func (c *remoteConn) Resumable() bool { return c.resumable }
func (c *remoteConn) Lost() bool      { return c.lost }

// fromPipe says whether a client message or ConnClosed that came from
// another actor (sender set) came from the session actor's pipe. A former
// pipe's, in flight when another connection took the session over, is
// dropped.
func (s *session) fromPipe(ctx actor.Context) bool {
	sender := ctx.Sender()
	if sender == nil {
		return true // from the gateway, or a local relay
	}
	rc, ok := s.conn.(*remoteConn)
	return ok && rc.pipe.Equal(sender)
}

// handlePipeAcked: a client message from the pipe whose sender waits for
// the verdict, which goes back to the pipe.
func (s *session) handlePipeAcked(ctx actor.Context, msg *messages.PipeAcked) {
	rc, ok := s.conn.(*remoteConn)
	if !ok || !rc.pipe.Equal(ctx.Sender()) {
		return // a former pipe's
	}
	id := msg.Id
	s.handleAcked(ctx, &ackedEnvelope{env: msg.Env, ack: func(code, message string) {
		rc.root.Send(rc.pipe, &messages.PipeVerdict{Id: id, Code: code, Message: message})
	}})
}

// pipeClosed: the pipe's connection closed (ConnClosed from the pipe), or
// the pipe is gone (its member died).
func (s *session) pipeClosed(ctx actor.Context, lost bool) {
	if rc, ok := s.conn.(*remoteConn); ok {
		rc.lost = lost
	}
	s.gone = true
	if !s.detach(ctx) {
		ctx.Stop(ctx.Self())
	}
}

// becomePipe: the session on another member took our connection over.
// Hand on what our client sent meanwhile, then pass on all it sends.
func (s *session) becomePipe(ctx actor.Context) {
	rs := s.resuming
	rs.relaying, rs.piping = true, true
	stopTimer(rs.timer)
	rs.timer = nil
	ctx.Watch(rs.target)
	for _, env := range rs.pending {
		ctx.Request(rs.target, env)
	}
	rs.pending = nil
	if rs.gone {
		s.pipeEnd(ctx)
	}
}

// pipeEnd: our connection closed; the resumed session learns it, and
// whether the client may come back.
func (s *session) pipeEnd(ctx actor.Context) {
	lost := true
	if lc, ok := s.conn.(lostConn); ok {
		lost = lc.Lost()
	}
	ctx.Request(s.resuming.target, &messages.ConnClosed{Reason: "the connection closed", Lost: lost})
	ctx.Stop(ctx.Self())
}

// pipe handles a piping session's messages; true if it took msg.
func (s *session) pipe(ctx actor.Context, msg any) bool {
	rs := s.resuming
	if rs == nil || !rs.remote {
		return false
	}
	switch msg.(type) {
	case *messages.PipeSend, *messages.PipeClose, *messages.PipeConnected, *messages.PipeVerdict:
		if !rs.piping {
			// The resumed session sends the client its hi and replay
			// before its answer to us: it has the connection already.
			s.becomePipe(ctx)
		}
	}
	if !rs.piping {
		return false
	}
	switch m := msg.(type) {
	case *messages.Envelope:
		ctx.Request(rs.target, m)
	case *ackedEnvelope:
		// The verdict comes from the other member; the ack stays here.
		if rs.acks == nil {
			rs.acks = make(map[uint64]func(code, message string))
		}
		rs.nextAck++
		rs.acks[rs.nextAck] = m.ack
		ctx.Request(rs.target, &messages.PipeAcked{Env: m.env, Id: rs.nextAck})
	case *messages.PipeVerdict:
		if ack, ok := rs.acks[m.Id]; ok {
			delete(rs.acks, m.Id)
			ack(m.Code, m.Message)
		}
	case *messages.ConnClosed:
		s.pipeEnd(ctx)
	case *messages.PipeSend:
		s.conn.Send(m.Env)
	case *messages.PipeClose:
		s.conn.Close(int(m.Code), m.Reason)
	case *messages.PipeConnected:
		if sc, ok := s.conn.(SocketIOConn); ok {
			sc.Connected(m.Pid, m.Recovered)
		}
	case *sioConnect:
		// A CONNECT again after a DISCONNECT: the session it would
		// reconnect to is on another member, which a CONNECT cannot
		// reach; it is answered without recovery.
		if sc, ok := s.conn.(SocketIOConn); ok {
			sc.Connected("", false)
		}
	case *actor.Terminated:
		if m.Who.Equal(rs.target) {
			s.conn.Close(messages.CloseSessionFailed, "the session ended; reconnect to go on")
			ctx.Stop(ctx.Self())
		}
	default:
		return false
	}
	return true
}
