package actors

import (
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// A player's move carries the time it reached the mover's session (Unix
// nanoseconds, that node's clock) through its relay, so that the sessions
// that pass it on observe caiquan_relay_lag_seconds. On one node the time
// travels in the messages themselves (SubmitChoice.relay_since,
// RelayedMovement). Towards another node it also travels in the protoactor
// header relaySince, which releases before those fields read, and which a
// node that knows neither ignores. A header is a map, made per move: on one
// node it was the most bytes any one thing allocated in play.
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

// submitMove sends a move (its relay_since set) to the session's room.
// A room on another node may be of an older release: it gets the time in
// the header too.
func (s *session) submitMove(ctx actor.Context, msg any) {
	if s.moveAt == 0 || s.room.Address == ctx.Self().Address {
		ctx.Request(s.room, msg)
		return
	}
	e := &actor.MessageEnvelope{Message: msg, Sender: ctx.Self()}
	e.SetHeader(relaySince, strconv.FormatInt(s.moveAt, 10))
	ctx.Send(s.room, e)
}

func (s *session) handleStamped(ctx actor.Context, msg *stampedMove) {
	s.moveAt = msg.at
	defer func() { s.moveAt = 0 }() // even if handleClient panics
	s.handleClient(ctx, msg.env)
}

// moveSince is when the move being handled reached its session: stamped
// in the message, or by an older session in the header; 0 for none.
func moveSince(ctx actor.Context, stamped int64) int64 {
	if stamped != 0 {
		return stamped
	}
	h := sinceOf(ctx.MessageHeader())
	if h == "" {
		return 0 // without ParseInt's error, which allocates
	}
	since, err := strconv.ParseInt(h, 10, 64)
	if err != nil {
		return 0
	}
	return since
}

// relayMove sends a player's move to every seated human but the mover.
// The time the move reached its session goes only to the sessions on the
// mover's node: it was read from that node's clock.
func (r *room) relayMove(ctx actor.Context, mv *messages.Movement, mover *seat, since int64) {
	from, self := ctx.Sender(), ctx.Self()
	for _, s := range r.seats {
		if s.session == nil || s.left || s == mover {
			continue
		}
		switch {
		case since == 0 || from == nil || s.session.Address != from.Address:
			ctx.Request(s.session, mv)
		case s.session.Address == self.Address:
			ctx.Request(s.session, &messages.RelayedMovement{Movement: mv, RelaySince: since})
		default:
			ctx.Send(s.session, forwardHeader(ctx.MessageHeader(), mv, self, strconv.FormatInt(since, 10)))
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
	if same, ok := sameType(actor.EmptyMessageHeader, h); ok && same != nil && same.Get(relaySince) == since {
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

// relayMovement passes a move on to the session's client and notes its
// relay's lag, when it came with the time (since, 0 for none).
func (s *session) relayMovement(ctx actor.Context, mv *messages.Movement, since int64) {
	if !s.fromRoom(ctx) {
		return
	}
	s.send(&messages.Envelope{Body: &messages.Envelope_Movement{Movement: mv}})
	if since == 0 {
		since = moveSince(ctx, 0)
	}
	if since != 0 {
		s.d.metrics.RelayLag.Observe(time.Since(time.Unix(0, since)).Seconds())
	}
}
