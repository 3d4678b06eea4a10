package actors

import (
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// relaySince is the protoactor message header that carries a player's
// move through its relay: the time (Unix nanoseconds) the move was handed
// to the mover's session. The sessions that pass the move on to the other
// players observe caiquan_relay_lag_seconds from it. Headers cross nodes
// with the message, and a node that does not know this one ignores it.
const relaySince = "caiquan-relay-since"

// sinceOf is the stamp in a message's headers, "" for none. protoactor
// gives a nil header for a message sent without an envelope (the root
// context's Send), and a nil map for one sent with Request.
func sinceOf(h actor.ReadonlyMessageHeader) string {
	if h == nil {
		return ""
	}
	return h.Get(relaySince)
}

// stampedMove is a client's move as the gateway's handle gives it to the
// session, with the time it did (Unix nanoseconds). It never leaves the
// process: the handle and the session are on the same node.
type stampedMove struct {
	env *messages.Envelope
	at  int64
}

// stamped is what the gateway's handle sends a session for env: a move
// goes with the time it arrived.
func stamped(env *messages.Envelope, now time.Time) any {
	switch env.Body.(type) {
	case *messages.Envelope_Choice, *messages.Envelope_Face:
		return &stampedMove{env: env, at: now.UnixNano()}
	}
	return env
}

// requestStamped is ctx.Request(pid, msg) with since in its headers.
func requestStamped(ctx actor.Context, pid *actor.PID, msg any, since string) {
	if since == "" {
		ctx.Request(pid, msg)
		return
	}
	e := &actor.MessageEnvelope{Message: msg, Sender: ctx.Self()}
	e.SetHeader(relaySince, since)
	ctx.Send(pid, e)
}

func (s *session) handleStamped(ctx actor.Context, msg *stampedMove) {
	s.moveAt = msg.at
	defer func() { s.moveAt = 0 }() // even if handleClient panics
	s.handleClient(ctx, msg.env)
}

// moveSince is the stamp of the client message being handled, "" for none.
func (s *session) moveSince() string {
	if s.moveAt == 0 {
		return ""
	}
	return strconv.FormatInt(s.moveAt, 10)
}

// relayMove sends a player's move to every seated human but the mover.
// The stamp goes only to the sessions on the mover's node: it was read
// from that node's clock.
func (r *room) relayMove(ctx actor.Context, mv *messages.Movement, mover *seat) {
	since, from := sinceOf(ctx.MessageHeader()), ctx.Sender()
	for _, s := range r.seats {
		if s.session == nil || s.left || s == mover {
			continue
		}
		if from != nil && s.session.Address == from.Address && since != "" {
			ctx.Send(s.session, forwardHeader(ctx.MessageHeader(), mv, ctx.Self(), since))
		} else {
			ctx.Request(s.session, mv)
		}
	}
}

// forwardHeader is an envelope of msg from sender with the headers h of
// the message being handled, which carry since. It reuses h's map when it
// can (it is protoactor's unexported header type, v0.0.0-20240822202345:
// generics name it through EmptyMessageHeader); the map is only read from
// then on. A move is the message a round sends most: this saves two
// allocations per seat per move.
func forwardHeader(h actor.ReadonlyMessageHeader, msg any, sender *actor.PID, since string) *actor.MessageEnvelope {
	e := &actor.MessageEnvelope{Message: msg, Sender: sender}
	if same, ok := sameType(actor.EmptyMessageHeader, h); ok && same != nil {
		e.Header = same
		return e
	}
	e.SetHeader(relaySince, since)
	return e
}

func sameType[T any](_ T, v any) (T, bool) {
	t, ok := v.(T)
	return t, ok
}

// observeRelay notes the lag of a move the session is passing on to its
// client, when the move carries its stamp.
func (s *session) observeRelay(ctx actor.Context) {
	since, err := strconv.ParseInt(sinceOf(ctx.MessageHeader()), 10, 64)
	if err != nil {
		return
	}
	s.d.metrics.RelayLag.Observe(time.Since(time.Unix(0, since)).Seconds())
}
