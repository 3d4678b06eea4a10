package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/rules"
)

// playerIdle is how long a player actor with no session lives on; its record
// is in the store, so stopping it loses nothing.
const playerIdle = 10 * time.Minute

type player struct {
	uid     string
	store   caiquan.Store
	rec     caiquan.PlayerRecord
	session *actor.PID
	uname   string
	uavatar string
	d       *deps

	owed    []*messages.ApplyRound // applied but not yet stored, in order
	retry   Timer                  // the next SaveRetry, while owed
	retries int
}

// saveRetryFirst is the first pause before a player tries again to store
// the rounds it owes.
const saveRetryFirst = 100 * time.Millisecond

// spawnPlayer starts the player of uid under parent (the directory).
func spawnPlayer(parent actor.SpawnerContext, d *deps, uid string, store caiquan.Store) *actor.PID {
	return d.inv.spawn(parent, d.playerProps, KindPlayer, uid, func() actor.Actor {
		return &player{uid: uid, store: store, d: d}
	})
}

func (p *player) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		p.handleStarted(ctx)
	case *actor.Restarting:
		// The next instance starts from the store and learns its session
		// and the rounds it owes from these messages, queued for it.
		stopTimer(p.retry)
		if p.session != nil {
			ctx.Send(ctx.Self(), &messages.Attach{Session: p.session, Uname: p.uname, Uavatar: p.uavatar})
		}
		for _, m := range p.owed {
			ctx.Send(ctx.Self(), m)
		}
	case *actor.Stopping:
		stopTimer(p.retry)
		if len(p.owed) > 0 {
			p.d.log.Error("player: stopped owing rounds it could not store", "uid", p.uid, "rounds_owed", len(p.owed))
		}
		if p.session != nil {
			ctx.Send(ctx.Parent(), &messages.PlayerStopping{Uid: p.uid, Session: p.session})
		}
	case *messages.Attach:
		p.handleAttach(ctx, msg)
	case *messages.Detach:
		p.handleDetach(ctx, msg)
	case *messages.ApplyRound:
		p.handleApplyRound(ctx, msg)
	case *messages.SaveRetry:
		p.handleSaveRetry(ctx)
	case *messages.PlayerOp:
		p.handleOp(ctx, msg)
	case checkIdle:
		p.idleUnlessAttached(ctx)
	case *actor.ReceiveTimeout:
		if p.session == nil && len(p.owed) == 0 {
			ctx.Stop(ctx.Self())
			return
		}
		p.idleUnlessAttached(ctx)
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
	// The directory sends a new player its session right after spawning
	// it: the check, queued behind that, finds it attached, and an
	// attached player keeps no timer.
	ctx.Send(ctx.Self(), checkIdle{})
}

// checkIdle is a player's message to itself: start the idle timeout unless
// a session is attached.
type checkIdle struct{}

// idleUnlessAttached runs the idle timeout while no session is attached.
// protoactor ends the timeout when it fires, so a player that could not
// stop then (it owes rounds) sets it again.
func (p *player) idleUnlessAttached(ctx actor.Context) {
	if p.session == nil {
		ctx.SetReceiveTimeout(p.d.playerIdle)
	} else {
		ctx.CancelReceiveTimeout()
	}
}

func (p *player) handleAttach(ctx actor.Context, msg *messages.Attach) {
	if p.rec.Banned {
		ctx.Send(msg.Session, &messages.Attached{Player: ctx.Self(), Banned: true})
		return
	}
	if p.session != nil && !p.session.Equal(msg.Session) {
		ctx.Send(p.session, &messages.Kick{Reason: "signed in from another connection"})
	}
	p.session = msg.Session
	p.uname, p.uavatar = msg.Uname, msg.Uavatar
	p.idleUnlessAttached(ctx)
	ctx.Send(msg.Session, &messages.Attached{
		Player:     ctx.Self(),
		TotalScore: p.rec.Total,
		WinStreak:  p.rec.Streak,
		Online:     msg.Online,
	})
	// After the answer: hi does not wait for the write.
	p.remember(ctx)
}

// remember stores the name and avatar the player last showed, and when it
// was seen. A player that never finished a round has no record, and gets
// none: anyone can make uids (a guest per POST /guest, or any uid in
// anonymous mode), and only playing should cost the store. Its name still
// shows in rooms, which take it from the session; its first round's Save
// carries it. Failing to save costs nothing the player would miss at once:
// the next round's Save carries it too.
func (p *player) remember(ctx actor.Context) {
	if p.rec.Rounds == 0 {
		return
	}
	err := p.save(func(rec caiquan.PlayerRecord) caiquan.PlayerRecord {
		return p.shown(rec)
	})
	if err != nil {
		p.d.log.Warn("player: save of name and last seen failed", "uid", p.uid, "err", err)
	}
}

// staleRetries bounds how often save loads a record again after caiquan.ErrStale.
const staleRetries = 3

// save applies change to the player's record and stores it. A record that
// another player actor of this uid saved meanwhile (caiquan.ErrStale) is loaded
// again and changed again: rounds apply once per round id, so nothing is
// applied twice or lost. On success p.rec is what the store holds.
func (p *player) save(change func(caiquan.PlayerRecord) caiquan.PlayerRecord) error {
	for try := 0; ; try++ {
		next := change(p.rec)
		err := p.store.Save(p.uid, next)
		if err == nil {
			next.Writes++
			p.rec = next
			return nil
		}
		if !errors.Is(err, caiquan.ErrStale) || try == staleRetries {
			return err
		}
		rec, lerr := p.store.Load(p.uid)
		if lerr != nil {
			return lerr
		}
		p.rec = rec
	}
}

// shown is rec with the name and avatar the player shows now, when it
// showed any, and seen now.
func (p *player) shown(rec caiquan.PlayerRecord) caiquan.PlayerRecord {
	if p.uname != "" && !rec.Renamed {
		rec.Uname = p.uname
	}
	if p.uavatar != "" {
		rec.Uavatar = p.uavatar
	}
	rec.LastSeen = p.now()
	return rec
}

func (p *player) now() time.Time {
	return p.d.settings.Clock.Now().UTC()
}

func (p *player) handleDetach(ctx actor.Context, msg *messages.Detach) {
	if p.session != nil && p.session.Equal(msg.Session) {
		p.session = nil
		p.idleUnlessAttached(ctx)
	}
}

// handleApplyRound applies a round's base score once per round id; a repeat
// (a room retrying) gets the same answer again. A round is confirmed only
// once it is stored. One that cannot be stored is owed: the player keeps
// trying on its own (the room gives up after a while and publishes what it
// computed, which is what the player will store), and applies later rounds
// after it, so totals never go back.
func (p *player) handleApplyRound(ctx actor.Context, msg *messages.ApplyRound) {
	if r, ok := p.find(msg.RoundId); ok {
		ctx.Respond(p.applied(r))
		return
	}
	if !p.owes(msg.RoundId) {
		p.owed = append(p.owed, msg)
	}
	if !p.settle(ctx) {
		return // not saved means not applied: the room asks again
	}
	r, _ := p.find(msg.RoundId)
	ctx.Respond(p.applied(r))
}

// settle applies every owed round, in order, and stores the result in one
// Save; on failure it sets a timer to try again.
func (p *player) settle(ctx actor.Context) bool {
	err := p.save(func(next caiquan.PlayerRecord) caiquan.PlayerRecord {
		for _, m := range p.owed {
			next, _, _ = caiquan.ApplyRound(next, m.RoundId, int(m.BaseScore))
		}
		return p.shown(next)
	})
	if err != nil {
		p.d.log.Error("player: save failed", "uid", p.uid, "rounds_owed", len(p.owed), "err", err)
		p.retryLater(ctx)
		return false
	}
	p.owed = nil
	stopTimer(p.retry)
	p.retry, p.retries = nil, 0
	return true
}

// retryLater asks settle again after a pause that doubles up to
// playerBackoffMax, unless a retry is already set.
func (p *player) retryLater(ctx actor.Context) {
	if p.retry != nil {
		return
	}
	d := saveRetryFirst << min(p.retries, 10)
	p.retries++
	p.retry = sendAfter(ctx, p.d.settings.Clock, min(d, playerBackoffMax), &messages.SaveRetry{})
}

func (p *player) handleSaveRetry(ctx actor.Context) {
	p.retry = nil
	if len(p.owed) > 0 {
		p.settle(ctx)
	}
}

func (p *player) find(roundID string) (caiquan.AppliedRound, bool) {
	for _, r := range p.rec.Recent {
		if r.RoundID == roundID {
			return r, true
		}
	}
	return caiquan.AppliedRound{}, false
}

func (p *player) owes(roundID string) bool {
	for _, m := range p.owed {
		if m.RoundId == roundID {
			return true
		}
	}
	return false
}

func (p *player) applied(r caiquan.AppliedRound) *messages.RoundApplied {
	return &messages.RoundApplied{
		Uid:        p.uid,
		RoundId:    r.RoundID,
		RoundScore: r.RoundScore,
		TotalScore: r.Total,
		WinStreak:  r.Streak,
	}
}

// Player operations (messages.PlayerOp).
const (
	OpRename = "rename"
	OpReset  = "reset"
	OpBan    = "ban"
	OpUnban  = "unban"
	OpDelete = "delete"
)

// handleOp makes an operator's (or the player's own) change through the
// one actor that writes the record, so its cached record cannot write the
// change over; a ban or a deletion closes the live session.
func (p *player) handleOp(ctx actor.Context, msg *messages.PlayerOp) {
	var err error
	done := &messages.PlayerOpDone{}
	switch msg.Op {
	case OpRename:
		err = p.save(func(rec caiquan.PlayerRecord) caiquan.PlayerRecord {
			rec.Uname, rec.Renamed = msg.Uname, true
			return rec
		})
	case OpReset:
		// The recent round ids stay: a settlement retried from before the
		// reset is still answered, not applied again.
		err = p.save(func(rec caiquan.PlayerRecord) caiquan.PlayerRecord {
			rec.Standing, rec.Rounds = rules.Standing{}, 0
			return rec
		})
	case OpBan, OpUnban:
		err = p.save(func(rec caiquan.PlayerRecord) caiquan.PlayerRecord {
			rec.Banned = msg.Op == OpBan
			return rec
		})
		if err == nil && msg.Op == OpBan {
			done.Kicked = p.kick(ctx, messages.CloseBanned, messages.CodeBanned, "banned by an operator")
		}
	case OpDelete:
		err = p.delete()
		if err == nil {
			done.Kicked = p.kick(ctx, messages.CloseDeleted, messages.CodeDeleted, "the player's data was deleted")
		}
	default:
		err = fmt.Errorf("unknown player operation %q", msg.Op)
	}
	if err != nil {
		ctx.Logger().Warn("player: operation failed", "uid", p.uid, "op", msg.Op, "err", err)
		done.Error = err.Error()
	}
	ctx.Respond(done)
}

// delete removes the record, its leaderboard line and the picture. The
// rounds it owes go too: the player asked for its data to go.
func (p *player) delete() error {
	ps, ok := p.store.(caiquan.Players)
	if !ok {
		return errors.New("this store cannot delete players")
	}
	if err := ps.Delete(p.uid); err != nil {
		return err
	}
	p.rec, p.owed, p.uname, p.uavatar = caiquan.PlayerRecord{}, nil, "", ""
	stopTimer(p.retry)
	p.retry, p.retries = nil, 0
	return nil
}

// kick closes the attached session, if any, with code, after telling the
// client errCode; true when there was one.
func (p *player) kick(ctx actor.Context, code int32, errCode, reason string) bool {
	if p.session == nil {
		return false
	}
	ctx.Send(p.session, &messages.Kick{Reason: reason, CloseCode: code, ErrorCode: errCode})
	p.session = nil
	p.idleUnlessAttached(ctx)
	return true
}
