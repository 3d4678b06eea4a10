package actors

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// playerIdle is how long a player actor with no session lives on; its record
// is in the store, so stopping it loses nothing.
const playerIdle = 10 * time.Minute

type player struct {
	uid     string
	store   Store
	rec     PlayerRecord
	session *actor.PID
	uname   string
	uavatar string
	clock   func() time.Time
}

func playerProps(d *deps, uid string, store Store) *actor.Props {
	return d.inv.props(KindPlayer, uid, func() actor.Actor {
		return &player{uid: uid, store: store, clock: d.settings.Now}
	})
}

func (p *player) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		p.handleStarted(ctx)
	case *actor.Restarting:
		// The next instance starts from the store and learns its session
		// from this message, queued for it.
		if p.session != nil {
			ctx.Send(ctx.Self(), &messages.Attach{Session: p.session, Uname: p.uname, Uavatar: p.uavatar})
		}
	case *actor.Stopping:
		if p.session != nil {
			ctx.Send(ctx.Parent(), &messages.PlayerStopping{Uid: p.uid, Session: p.session})
		}
	case *messages.Attach:
		p.handleAttach(ctx, msg)
	case *messages.Detach:
		p.handleDetach(ctx, msg)
	case *messages.ApplyRound:
		p.handleApplyRound(ctx, msg)
	case *actor.ReceiveTimeout:
		if p.session == nil {
			ctx.Stop(ctx.Self())
		}
	}
}

func (p *player) handleStarted(ctx actor.Context) {
	rec, err := p.store.Load(p.uid)
	if err != nil {
		// Without its record the player cannot score; fail so the directory
		// restarts it and tries the store again.
		panic(fmt.Sprintf("player %s: load: %v", p.uid, err))
	}
	p.rec = rec
	ctx.SetReceiveTimeout(playerIdle)
}

func (p *player) handleAttach(ctx actor.Context, msg *messages.Attach) {
	if p.session != nil && !p.session.Equal(msg.Session) {
		ctx.Send(p.session, &messages.Kick{Reason: "signed in from another connection"})
	}
	p.session = msg.Session
	p.uname, p.uavatar = msg.Uname, msg.Uavatar
	ctx.Send(msg.Session, &messages.Attached{
		Player:     ctx.Self(),
		TotalScore: p.rec.Total,
		WinStreak:  p.rec.Streak,
		Online:     msg.Online,
	})
	// After the answer: hi does not wait for the write.
	p.remember(ctx, msg.Uname, msg.Uavatar)
}

// remember keeps the name and avatar the player last showed, and when it was
// seen. Failing to save them costs nothing the player would miss at once:
// the next round's Save carries them.
func (p *player) remember(ctx actor.Context, uname, uavatar string) {
	next := p.rec
	if uname != "" || uavatar != "" {
		next.Uname, next.Uavatar = uname, uavatar
	}
	next.LastSeen = p.now()
	if err := p.store.Save(p.uid, next); err != nil {
		ctx.Logger().Warn("player: save of name and last seen failed", "uid", p.uid, "err", err)
	}
	p.rec = next
}

func (p *player) now() time.Time {
	return p.clock().UTC()
}

func (p *player) handleDetach(_ actor.Context, msg *messages.Detach) {
	if p.session != nil && p.session.Equal(msg.Session) {
		p.session = nil
	}
}

// handleApplyRound applies a round's base score once per round id; a repeat
// (a room retrying) gets the same answer again.
func (p *player) handleApplyRound(ctx actor.Context, msg *messages.ApplyRound) {
	next, applied, fresh := applyRound(p.rec, msg.RoundId, int(msg.BaseScore))
	if !fresh {
		ctx.Respond(p.applied(applied))
		return
	}
	next.LastSeen = p.now()
	if err := p.store.Save(p.uid, next); err != nil {
		// Not saved means not applied: the room asks again.
		ctx.Logger().Error("player: save failed", "uid", p.uid, "round", msg.RoundId, "err", err)
		return
	}
	p.rec = next
	ctx.Respond(p.applied(applied))
}

func (p *player) applied(r AppliedRound) *messages.RoundApplied {
	return &messages.RoundApplied{
		Uid:        p.uid,
		RoundId:    r.RoundID,
		RoundScore: r.RoundScore,
		TotalScore: r.Total,
		WinStreak:  r.Streak,
	}
}
