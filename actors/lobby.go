package actors

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/rules"
)

// lobby is the matchmaker: a queue of waiting players, seated by rules.Match
// and handed to the room host as RoomSpecs.
type lobby struct {
	settings Settings
	rooms    *actor.PID
	rng      *rand.Rand

	queue    []waiting
	draining bool
	wake     *time.Timer
	rounds   uint64
}

type waiting struct {
	seat  *messages.SeatInfo
	since time.Time
}

func lobbyProps(s Settings, rooms *actor.PID) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &lobby{settings: s, rooms: rooms, rng: rand.New(rand.NewPCG(s.Seed, 0x10bb1))}
	})
}

func (l *lobby) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
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

// handleJoin queues a player. A repeat from the same uid (a reconnect) keeps
// its place and takes the new session.
func (l *lobby) handleJoin(ctx actor.Context, msg *messages.JoinQueue) {
	seat := msg.Seat
	if seat == nil || seat.Session == nil || seat.Uid == "" {
		return
	}
	if l.draining {
		ctx.Send(seat.Session, &messages.Error{Code: messages.CodeDraining, Message: "the server is shutting down and starts no new rounds"})
		return
	}
	ctx.Watch(seat.Session)
	found := false
	for i := range l.queue {
		if l.queue[i].seat.Uid == seat.Uid {
			l.queue[i].seat = seat
			found = true
		}
	}
	if !found {
		l.queue = append(l.queue, waiting{seat: seat, since: l.settings.Now()})
	}
	ctx.Send(seat.Session, &messages.Queued{Waiting: int32(len(l.queue))})
	l.match(ctx)
}

func (l *lobby) remove(ctx actor.Context, uid string, session *actor.PID) {
	for i, w := range l.queue {
		if w.seat.Uid == uid && (session == nil || w.seat.Session.Equal(session)) {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			ctx.Unwatch(w.seat.Session)
			return
		}
	}
}

func (l *lobby) removeSession(pid *actor.PID) {
	kept := l.queue[:0]
	for _, w := range l.queue {
		if !w.seat.Session.Equal(pid) {
			kept = append(kept, w)
		}
	}
	l.queue = kept
}

// match asks the rules who sits together now, opens those rooms, and sets
// the timer for the next bot fill.
func (l *lobby) match(ctx actor.Context) {
	if l.draining {
		return
	}
	waiters := make([]rules.Waiter, len(l.queue))
	bySeat := make(map[string]*messages.SeatInfo, len(l.queue))
	for i, w := range l.queue {
		waiters[i] = rules.Waiter{UID: w.seat.Uid, Since: w.since}
		bySeat[w.seat.Uid] = w.seat
	}
	now := l.settings.Now()
	tables, rest, wake := rules.Match(waiters, now, l.settings.RoomSize, l.settings.BotFill)
	for _, t := range tables {
		spec := &messages.RoomSpec{RoundId: l.nextRoundID(), Bots: int32(t.Bots), Seed: l.rng.Int64()}
		for _, uid := range t.UIDs {
			spec.Seats = append(spec.Seats, bySeat[uid])
			ctx.Unwatch(bySeat[uid].Session)
		}
		ctx.Send(l.rooms, spec)
	}
	l.keep(rest)
	stopTimer(l.wake)
	l.wake = nil
	if !wake.IsZero() {
		l.wake = sendAfter(ctx, wake.Sub(now), &messages.MatchTick{})
	}
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
	ctx.Respond(&messages.DrainStatus{Draining: true})
}
