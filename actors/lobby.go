package actors

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/rules"
)

// seatedMemory is how long the lobby remembers whom it seated, so that a
// session's repeated join that crossed its start in flight is not seated twice.
const seatedMemory = 30 * time.Second

// lobby is the matchmaker: a queue of waiting players, seated by rules.Match
// and handed to the room host as RoomSpecs. Its queue is soft state: every
// waiting session repeats its join, so a lobby that was killed and made
// again learns the queue back within a tick, join times included.
type lobby struct {
	d   *deps
	rng *rand.Rand

	queue    []waiting
	seated   map[string]seatedTicket
	draining bool
	wake     *time.Timer
	rounds   uint64
	forgot   time.Time
}

type waiting struct {
	seat   *messages.SeatInfo
	ticket uint64
	since  time.Time
}

type seatedTicket struct {
	ticket uint64
	at     time.Time
}

func lobbyProps(d *deps) *actor.Props {
	return d.inv.props(KindLobby, lobbyName, func() actor.Actor {
		return &lobby{d: d, rng: rand.New(rand.NewPCG(d.settings.Seed, uint64(time.Now().UnixNano())))}
	})
}

func (l *lobby) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		l.seated = make(map[string]seatedTicket)
		l.d.metrics.PlayersWaiting.Set(0)
	case *actor.Restarting, *actor.Stopping:
		stopTimer(l.wake)
	case *messages.JoinQueue:
		l.handleJoin(ctx, msg)
	case *messages.LeaveQueue:
		l.remove(ctx, msg.Uid, ctx.Sender())
	case *actor.Terminated:
		l.removeSession(msg.Who)
	case *messages.MatchTick:
		l.match(ctx)
	case *messages.Drain:
		l.handleDrain(ctx)
	case *messages.GetDrainStatus:
		ctx.Respond(&messages.DrainStatus{Draining: l.draining, Waiting: int32(len(l.queue))})
	}
}

// handleJoin queues a player. A repeat of the same ticket keeps the place; a
// new session of the same uid takes it over.
func (l *lobby) handleJoin(ctx actor.Context, msg *messages.JoinQueue) {
	seat := msg.Seat
	if seat == nil || seat.Session == nil || seat.Uid == "" {
		return
	}
	if l.draining {
		ctx.Send(seat.Session, &messages.Error{Code: messages.CodeDraining, Message: "the server is shutting down and starts no new rounds"})
		return
	}
	if s, ok := l.seated[seat.Uid]; ok && msg.Ticket != 0 && msg.Ticket <= s.ticket {
		return // already seated; the start is on its way
	}
	found := false
	for i := range l.queue {
		if l.queue[i].seat.Uid == seat.Uid {
			if !l.queue[i].seat.Session.Equal(seat.Session) {
				ctx.Unwatch(l.queue[i].seat.Session)
				ctx.Watch(seat.Session)
			}
			l.queue[i].seat, l.queue[i].ticket = seat, msg.Ticket
			found = true
		}
	}
	if !found {
		since := l.d.settings.Now()
		if msg.JoinedAtUnixMs > 0 {
			since = time.UnixMilli(msg.JoinedAtUnixMs)
		}
		l.queue = append(l.queue, waiting{seat: seat, ticket: msg.Ticket, since: since})
		ctx.Watch(seat.Session)
	}
	ctx.Send(seat.Session, &messages.Queued{Waiting: int32(len(l.queue))})
	l.match(ctx)
}

func (l *lobby) remove(ctx actor.Context, uid string, session *actor.PID) {
	for i, w := range l.queue {
		if w.seat.Uid == uid && (session == nil || w.seat.Session.Equal(session)) {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			ctx.Unwatch(w.seat.Session)
			break
		}
	}
	l.d.metrics.PlayersWaiting.Set(float64(len(l.queue)))
}

func (l *lobby) removeSession(pid *actor.PID) {
	kept := l.queue[:0]
	for _, w := range l.queue {
		if !w.seat.Session.Equal(pid) {
			kept = append(kept, w)
		}
	}
	l.queue = kept
	l.d.metrics.PlayersWaiting.Set(float64(len(l.queue)))
}

// match asks the rules who sits together now, opens those rooms, and sets
// the timer for the next bot fill.
func (l *lobby) match(ctx actor.Context) {
	if l.draining {
		return
	}
	now := l.d.settings.Now()
	waiters := make([]rules.Waiter, len(l.queue))
	byUID := make(map[string]waiting, len(l.queue))
	for i, w := range l.queue {
		waiters[i] = rules.Waiter{UID: w.seat.Uid, Since: w.since}
		byUID[w.seat.Uid] = w
	}
	tables, rest, wake := rules.Match(waiters, now, l.d.settings.RoomSize, l.d.settings.BotFill)
	for _, t := range tables {
		l.open(ctx, t, byUID, now)
	}
	l.keep(rest)
	l.forget(now)
	stopTimer(l.wake)
	l.wake = nil
	if !wake.IsZero() {
		l.wake = sendAfter(ctx, wake.Sub(now), &messages.MatchTick{})
	}
}

func (l *lobby) open(ctx actor.Context, t rules.Table, byUID map[string]waiting, now time.Time) {
	spec := &messages.RoomSpec{RoundId: l.nextRoundID(), Bots: int32(t.Bots), Seed: l.rng.Int64()}
	for _, uid := range t.UIDs {
		w := byUID[uid]
		spec.Seats = append(spec.Seats, w.seat)
		ctx.Unwatch(w.seat.Session)
		l.seated[uid] = seatedTicket{ticket: w.ticket, at: now}
		waited := now.Sub(w.since).Seconds()
		if t.Bots > 0 {
			l.d.metrics.BotFill.Observe(waited)
		} else {
			l.d.metrics.TimeToMatch.Observe(waited)
		}
	}
	ctx.Send(l.d.rooms, spec)
}

func (l *lobby) keep(rest []rules.Waiter) {
	keep := make(map[string]bool, len(rest))
	for _, w := range rest {
		keep[w.UID] = true
	}
	kept := l.queue[:0]
	for _, w := range l.queue {
		if keep[w.seat.Uid] {
			kept = append(kept, w)
		}
	}
	l.queue = kept
	l.d.metrics.PlayersWaiting.Set(float64(len(l.queue)))
}

func (l *lobby) forget(now time.Time) {
	if now.Sub(l.forgot) < seatedMemory/2 {
		return
	}
	l.forgot = now
	for uid, s := range l.seated {
		if now.Sub(s.at) > seatedMemory {
			delete(l.seated, uid)
		}
	}
}

func (l *lobby) nextRoundID() string {
	l.rounds++
	return fmt.Sprintf("r%x-%d", l.rng.Uint32(), l.rounds)
}

// handleDrain stops seating: everyone waiting is told, nobody new is queued.
func (l *lobby) handleDrain(ctx actor.Context) {
	l.draining = true
	stopTimer(l.wake)
	for _, w := range l.queue {
		ctx.Send(w.seat.Session, &messages.Error{Code: messages.CodeDraining, Message: "the server is shutting down and starts no new rounds"})
		ctx.Unwatch(w.seat.Session)
	}
	l.queue = nil
	l.d.metrics.PlayersWaiting.Set(0)
	ctx.Respond(&messages.DrainStatus{Draining: true})
}
