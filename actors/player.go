package actors

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/rules"
	"google.golang.org/protobuf/proto"
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
	// sessionSince: when session admitted its hello (Attach.since_unix_nano).
	sessionSince int64

	owed    []*messages.ApplyRound // applied but not yet stored, in order
	retry   Timer                  // the next SaveRetry, while owed
	retries int

	keep *playerKeep

	// seat is the round a session of this uid took a seat in, until the
	// player learns its end or its time is surely over; waits: a newer
	// session was told to wait for it.
	seat  *openSeat
	waits bool
	// freeAt: the round whose result frees the waiting session, once its
	// room says it is out (Free); until then the session's busyUntil holds.
	freeAt string
	// left: the last round of the uid that this player knows is over for
	// every client (Attached.last_round); "" when it knows none.
	left string
	// unknownUntil: a round this player never heard of may run until then
	// (it was made while the uid was active on another member); a session
	// that attaches meanwhile joins no queue before it.
	unknownUntil time.Time
}

// openSeat is a round a session of the uid sits in.
type openSeat struct {
	round   string
	session *actor.PID
	until   time.Time
}

// playerKeep is what a uid's player actor keeps across its restarts and its
// lives on one member (the directory holds it): a round refused by an
// earlier one must stay refused, before anything else in the mailbox is
// handled.
type playerKeep struct {
	// lived: a player of the uid started on this member before; one that
	// restarts knows the seats its sessions told it of.
	lived   bool
	refused []refusal
	// unsure: rounds whose save may have been stored (caiquan.ErrMaybeStored);
	// only the store can say whether they were.
	unsure []string
	// last is the result the room computed for the round this player
	// applied last (ApplyRound.result), for a session that lost it.
	last *messages.Result
}

// refusal is a round the player will never apply; it is kept until the
// round's settle window is surely closed, after which the window refuses
// the round by itself.
type refusal struct {
	round string
	until time.Time
}

// saveRetryFirst is the first pause before a player tries again to store
// the rounds it owes.
const saveRetryFirst = 100 * time.Millisecond

// spawnPlayer starts the player of uid under parent (the directory).
func spawnPlayer(parent actor.SpawnerContext, d *deps, uid string, store caiquan.Store, keep *playerKeep) *actor.PID {
	return d.inv.spawn(parent, d.playerProps, KindPlayer, uid, func() actor.Actor {
		return &player{uid: uid, store: store, d: d, keep: keep}
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
			ctx.Send(ctx.Self(), &messages.Attach{Session: p.session, Uname: p.uname, Uavatar: p.uavatar, SinceUnixNano: p.sessionSince})
		}
		for _, m := range p.owed {
			ctx.Send(ctx.Self(), m)
		}
	case *actor.Stopping:
		stopTimer(p.retry)
		if len(p.owed) > 0 {
			p.d.log.Error("player: stopped owing rounds it could not store", "uid", p.uid, "rounds_owed", len(p.owed))
		}
		// A request, so the directory knows which player of the uid stops.
		ctx.Request(ctx.Parent(), &messages.PlayerStopping{Uid: p.uid, Session: p.session, SessionSinceUnixNano: p.sessionSince})
	case *messages.Attach:
		p.handleAttach(ctx, msg)
	case *messages.Detach:
		p.handleDetach(ctx, msg)
	case *messages.ApplyRound:
		if p.mine(ctx, msg.Uid) {
			p.handleApplyRound(ctx, msg)
			p.ended(ctx, msg.RoundId)
		}
	case *messages.Free:
		if msg.Uid == p.uid && msg.RoundId != "" && msg.RoundId == p.freeAt {
			p.freeAt, p.left = "", msg.RoundId
			if p.seat != nil && p.seat.round == msg.RoundId {
				p.seat, p.waits = nil, false
			}
			if p.session != nil {
				ctx.Send(p.session, &messages.Free{RoundId: msg.RoundId})
			}
		}
	case *messages.AbortRound:
		if p.mine(ctx, msg.Uid) {
			p.handleAbortRound(ctx, msg)
			p.ended(ctx, msg.RoundId)
		}
	case *messages.Seated:
		if msg.Uid == p.uid && ctx.Sender() != nil {
			// The round ends by the room's last word: its settle window and
			// final asks after the deadline.
			until := time.UnixMilli(msg.DeadlineUnixMs).Add(p.d.settings.settleWithin() + finalAsks*p.d.settings.SettleRetry)
			p.seat = &openSeat{round: msg.RoundId, session: ctx.Sender(), until: until}
			p.seenInFirstRound()
		}
	case *messages.ResultQuery:
		if l := p.lastResult(msg.RoundId); l != nil && msg.Uid == p.uid {
			ctx.Respond(&messages.RoundResult{Result: l})
		}
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

// mine reports whether a message about uid is for this player. Rooms and
// sessions ask a player by its PID first, and a member that restarted gives
// the same generated names to the players it makes again, in another order:
// a PID from before names another uid's player now. A message for another
// uid is answered as a dead letter, so the asker goes through the directory.
func (p *player) mine(ctx actor.Context, uid string) bool {
	if uid == p.uid {
		return true
	}
	if ctx.Sender() != nil {
		ctx.Respond(&actor.DeadLetterResponse{Target: ctx.Self()})
	}
	return false
}

func (p *player) handleStarted(ctx actor.Context) {
	rec, err := p.store.Load(p.uid)
	if err != nil {
		// Without its record the player cannot score; fail so the directory
		// restarts it and tries the store again.
		panic(fmt.Sprintf("player %s: load: %v", p.uid, err))
	}
	p.rec = rec
	if !p.keep.lived {
		p.keep.lived = true
		p.holdForUnknownRound()
	}
	// The directory sends a new player its session right after spawning
	// it: the check, queued behind that, finds it attached, and an
	// attached player keeps no timer.
	ctx.Send(ctx.Self(), checkIdle{})
}

// holdForUnknownRound: a player made on this member for the first time,
// while the uid was active a moment ago (on a member that died, or that
// owned the uid before the member list changed), cannot know whether a
// session of the uid sits in a round elsewhere; neither can a lobby that
// moved. A round seated after the record was last seen may run for as
// long as a join waits, a round lasts and its room's last word comes; a
// new session waits that long, at most, before it joins (then reads the
// record again), so that it is not seated in two rounds at once.
// Alone, no round runs where this member is not: a restart ended them all.
func (p *player) holdForUnknownRound() {
	if _, alone := p.d.place.(localPlacement); alone || p.rec.LastSeen.IsZero() {
		return
	}
	now := p.d.settings.Clock.Now()
	mayRun := p.d.settings.RoundTime + p.d.settings.settleWithin() + finalAsks*p.d.settings.SettleRetry
	if now.Sub(p.rec.LastSeen) < p.d.settings.BotFill+offerWait+mayRun {
		p.unknownUntil = now.Add(mayRun)
	}
}

// seenInFirstRound stores that a uid with no round stored yet sits in one
// (a record with no rounds, seen now): otherwise a player made again on
// another member, after this one died, would find no record and could not
// tell that a round of the uid may still run (holdForUnknownRound). It
// costs one write per new player's first seat, in a cluster only.
func (p *player) seenInFirstRound() {
	if _, alone := p.d.place.(localPlacement); alone || p.rec.Rounds > 0 {
		return
	}
	if err := p.save(p.shown); err != nil {
		p.d.log.Warn("player: save of a first seat failed", "uid", p.uid, "err", err)
	}
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
		if msg.SinceUnixNano != 0 && msg.SinceUnixNano < p.sessionSince {
			// An older session asks again (its player died, and it
			// re-registered as the newer one came): the newer one stays.
			ctx.Send(msg.Session, &messages.Kick{Reason: "signed in from another connection"})
			return
		}
		ctx.Send(p.session, &messages.Kick{Reason: "signed in from another connection"})
	}
	p.session, p.sessionSince = msg.Session, msg.SinceUnixNano
	p.uname, p.uavatar = msg.Uname, msg.Uavatar
	p.idleUnlessAttached(ctx)
	if msg.Reload && len(p.owed) == 0 {
		p.reload()
	}
	p.settleUnsureRounds() // the hi must show what the store holds
	attached := &messages.Attached{
		Player:     ctx.Self(),
		TotalScore: p.rec.Total,
		WinStreak:  p.rec.Streak,
		Online:     msg.Online,
	}
	if o := p.seat; o != nil && !o.session.Equal(msg.Session) {
		if p.d.settings.Clock.Now().Before(o.until) {
			// Another session (a connection that dropped) sits in a round
			// that may still run: this one is seated nowhere before its end.
			attached.BusyUntilUnixMs = o.until.UnixMilli()
			p.waits = true
		} else {
			p.seat, p.left = nil, o.round
		}
	}
	if attached.BusyUntilUnixMs == 0 && p.d.settings.Clock.Now().Before(p.unknownUntil) {
		attached.BusyUntilUnixMs = p.unknownUntil.UnixMilli()
	}
	attached.LastRound = p.left
	ctx.Send(msg.Session, attached)
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
	return p.saveBy(time.Time{}, change)
}

// saveBy is save, storing nothing once by has passed when the write
// reaches a store that can tell (caiquan.SaverBy); a zero by is no limit.
func (p *player) saveBy(by time.Time, change func(caiquan.PlayerRecord) caiquan.PlayerRecord) error {
	sb, limited := p.store.(caiquan.SaverBy)
	limited = limited && !by.IsZero()
	for try := 0; ; try++ {
		next := change(p.rec)
		var err error
		if limited {
			err = sb.SaveBy(p.uid, next, by)
		} else {
			err = p.store.Save(p.uid, next)
		}
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

// ended: the round's end reached this player (it applied or refused it).
// A refused round is over: a session told to wait may join now. An
// applied one is not over for the other seats while the room waits for
// their players: its seat holds until the room, told that a session waits
// (RoundApplied.waits), says its result is out (Free), or until its time
// is up.
func (p *player) ended(ctx actor.Context, round string) {
	if p.seat == nil || p.seat.round != round {
		return
	}
	if _, applied := p.find(round); applied || p.isUnsure(round) {
		return
	}
	p.seat, p.left = nil, round
	if p.waits && p.session != nil {
		ctx.Send(p.session, &messages.Free{RoundId: round})
	}
	p.waits = false
}

// waitsOn reports whether a session waits for round, which this player
// applied, to be published: the room is asked to say so (Free).
func (p *player) waitsOn(round string) bool {
	if p.waits && p.seat != nil && p.seat.round == round {
		p.freeAt = round
		return true
	}
	return false
}

func (p *player) handleDetach(ctx actor.Context, msg *messages.Detach) {
	if o := p.seat; o != nil && o.session.Equal(msg.Session) && msg.LastRound == o.round {
		// Its client saw the round end, so the round is over for every
		// client: a session told to wait may join.
		p.seat, p.left = nil, o.round
		if p.waits && p.session != nil && !p.session.Equal(msg.Session) {
			ctx.Send(p.session, &messages.Free{RoundId: o.round})
		}
		p.waits = false
	}
	if p.session != nil && p.session.Equal(msg.Session) {
		p.session = nil
		p.idleUnlessAttached(ctx)
	}
}

// handleApplyRound applies a round's base score once per round id; a repeat
// (a room retrying) gets the same answer again. A round is confirmed only
// once it is stored, and it is either confirmed or refused for good: one
// that cannot be stored is owed, and the player keeps trying on its own
// (applying later rounds after it, so totals never go back) until the
// round's settle window closes; then it drops the round and refuses it.
// The room, which asks until after that, learns the outcome either way.
func (p *player) handleApplyRound(ctx actor.Context, msg *messages.ApplyRound) {
	if r, ok := p.find(msg.RoundId); ok {
		a := p.applied(r)
		a.Waits = p.waitsOn(msg.RoundId) || p.freeAt == msg.RoundId
		ctx.Respond(a)
		return
	}
	if p.isUnsure(msg.RoundId) && !p.owes(msg.RoundId) {
		p.answerUnsure(ctx, msg)
		return
	}
	if !p.owes(msg.RoundId) {
		if why := p.mayNotApply(msg); why != "" {
			if p.refusedBefore(msg.RoundId) {
				p.refuse(ctx, msg.RoundId, why)
				return
			}
			p.refuseFenced(ctx, msg.RoundId, why)
			return
		}
		p.owed = append(p.owed, msg)
	}
	if !p.settle(ctx) {
		const why = "the player's record could not be stored within the round's settle window"
		switch {
		case p.owes(msg.RoundId):
			// Not saved means not applied: the room asks again.
		case p.isUnsure(msg.RoundId):
			p.answerUnsure(ctx, msg)
		case p.mayBeStoredElsewhere(msg.RoundId):
			p.refuseFenced(ctx, msg.RoundId, why)
		default:
			p.refuse(ctx, msg.RoundId, why)
		}
		return
	}
	r, ok := p.find(msg.RoundId)
	if !ok { // settle met a refusal of another player actor of the uid
		p.refuse(ctx, msg.RoundId, "the round was aborted for this player")
		return
	}
	p.keep.last = msg.Result
	a := p.applied(r)
	a.Waits = p.waitsOn(msg.RoundId)
	ctx.Respond(a)
}

// mayNotApply says why the round of msg may never be applied by this
// player, or "" when it may be.
func (p *player) mayNotApply(msg *messages.ApplyRound) string {
	if p.refusedBefore(msg.RoundId) || p.rec.Refuses(msg.RoundId) {
		return "the round was aborted for this player"
	}
	if p.windowClosed(msg) {
		return "the round's settle window has closed"
	}
	return ""
}

// windowClosed reports whether the round's settle window is over: a room
// stops asking after it, and takes silence for "not applied".
func (p *player) windowClosed(msg *messages.ApplyRound) bool {
	if msg.DeadlineUnixMs == 0 {
		return false // a room of the previous release, which names none
	}
	return p.d.settings.Clock.Now().After(time.UnixMilli(msg.DeadlineUnixMs).Add(p.d.settings.settleWithin()))
}

// handleAbortRound answers a session that lost its room: the round is
// applied (with its result when the player still holds it), or it is
// refused from now on, so the session's void is true for good.
func (p *player) handleAbortRound(ctx actor.Context, msg *messages.AbortRound) {
	if p.owes(msg.RoundId) {
		p.settle(ctx) // applied when it can be stored now; dropped otherwise
	}
	if p.isUnsure(msg.RoundId) && !p.settleUnsure(msg.RoundId) {
		p.dropOwed(msg.RoundId)
		return // nobody can say: the session tells its client to try again
	}
	if r, ok := p.find(msg.RoundId); ok {
		a := p.applied(r)
		if l := p.lastResult(msg.RoundId); l != nil {
			a.Result = proto.Clone(l).(*messages.Result)
			for _, line := range a.Result.Result {
				if line.Uid == p.uid {
					line.RoundScore, line.TotalScore, line.WinStreak = a.RoundScore, a.TotalScore, a.WinStreak
				}
			}
		}
		ctx.Respond(a)
		return
	}
	p.dropOwed(msg.RoundId)
	if p.refusedBefore(msg.RoundId) { // a session asks again: stored once is enough
		p.refuse(ctx, msg.RoundId, "the round was aborted for this player")
		return
	}
	p.refuseFenced(ctx, msg.RoundId, "the round was aborted for this player")
}

// refuseInStore writes the refusal of round into the record before the
// session is told: while members disagree about a uid's owner (a
// partition), another player actor of the uid may be about to store the
// round, and its Save then meets this one (Writes) and finds the refusal.
// If that one stored the round first, the round is applied: ok, and the
// session shows it. err is the store's when the refusal could not be
// written (and a read did not find the round): then only this player's
// memory can refuse it, which holds alone but not in a cluster.
func (p *player) refuseInStore(round string) (caiquan.AppliedRound, bool, error) {
	rec, err := refuseUnlessStored(p.store, p.uid, round)
	if err != nil {
		p.d.log.Warn("player: refusal not stored", "uid", p.uid, "round", round, "err", err)
		if r, ok := p.storedElsewhere(round); ok {
			return r, true, nil
		}
		return caiquan.AppliedRound{}, false, err
	}
	p.rec = rec // what the store holds; the next Save starts from it
	r, ok := p.find(round)
	return r, ok, nil
}

// lastResult is round's whole result as the room computed it, when it is
// the last round this player applied: from memory, or from the record (a
// player made again, maybe on another member, keeps no memory of it).
func (p *player) lastResult(round string) *messages.Result {
	if l := p.keep.last; l != nil && l.RoundId == round {
		return l
	}
	return storedResult(p.rec, round)
}

// reload reads the record from the store again: while members disagree
// about a uid's owner, another player actor of the uid may have stored a
// round this one never heard of, and a seat must show the standing the
// round will be scored from. A failed read keeps what the player holds.
func (p *player) reload() {
	rec, err := p.store.Load(p.uid)
	if err != nil {
		p.d.log.Warn("player: reload failed", "uid", p.uid, "err", err)
		return
	}
	p.rec = rec
}

// storedElsewhere loads the record again before a refusal: while members
// disagree about a uid's owner (a partition), another player actor of the
// uid may have stored the round, and a refusal must not contradict it.
// Refusals are rare, so the read costs little.
func (p *player) storedElsewhere(round string) (caiquan.AppliedRound, bool) {
	rec, err := p.store.Load(p.uid)
	if err != nil {
		return caiquan.AppliedRound{}, false
	}
	p.rec = rec // what the store holds; the next Save starts from it
	return p.find(round)
}

// refuseFenced refuses round in the store first (refuseInStore) and then
// answers: applied, when the store holds it after all; nothing, when the
// store cannot be written and another player actor may have stored it.
func (p *player) refuseFenced(ctx actor.Context, round, why string) {
	r, ok, err := p.refuseInStore(round)
	if ok {
		ctx.Respond(p.applied(r))
		return
	}
	if err != nil && p.mayBeStoredElsewhere(round) {
		return // nobody can say: the asker (the room's seat, or its session) goes on
	}
	p.refuse(ctx, round, why)
}

// mayBeStoredElsewhere reports whether another player actor of the uid may
// have stored round, which this one cannot refuse without the store: in a
// cluster, members that disagree about the uid's owner each make one.
// Alone, or once this player refused the round (it told someone so), its
// memory is the answer.
func (p *player) mayBeStoredElsewhere(round string) bool {
	_, alone := p.d.place.(localPlacement)
	return !alone && !p.refusedBefore(round) && !p.rec.Refuses(round)
}

// refuse keeps round refused for good and tells the asker.
func (p *player) refuse(ctx actor.Context, round, why string) {
	if !p.refusedBefore(round) {
		now := p.d.settings.Clock.Now()
		// Any round this player could still apply started after it was
		// asked: its window closes within a round time and the window.
		until := now.Add(p.d.settings.RoundTime + p.d.settings.settleWithin() + time.Second)
		kept := p.keep.refused[:0]
		for _, r := range p.keep.refused {
			if now.Before(r.until) {
				kept = append(kept, r)
			}
		}
		p.keep.refused = append(kept, refusal{round: round, until: until})
	}
	if ctx.Sender() != nil {
		ctx.Respond(&messages.RoundRefused{Uid: p.uid, RoundId: round, Reason: why})
	}
}

func (p *player) refusedBefore(round string) bool {
	for _, r := range p.keep.refused {
		if r.round == round {
			return true
		}
	}
	return false
}

func (p *player) dropOwed(round string) {
	p.owed = slices.DeleteFunc(p.owed, func(m *messages.ApplyRound) bool { return m.RoundId == round })
}

// settle applies every owed round, in order, and stores the result in one
// Save; on failure it sets a timer to try again. Owed rounds whose window
// closed are dropped and refused first: nobody will be told they count.
func (p *player) settle(ctx actor.Context) bool {
	p.owed = slices.DeleteFunc(p.owed, func(m *messages.ApplyRound) bool {
		if !p.windowClosed(m) {
			return false
		}
		if p.isUnsure(m.RoundId) || p.mayBeStoredElsewhere(m.RoundId) {
			// The next ask writes the refusal over what the store holds.
			ctx.Logger().Warn("player: round not stored within its settle window; the store will tell", "uid", p.uid, "round", m.RoundId)
			return true
		}
		ctx.Logger().Warn("player: round not stored within its settle window; dropped", "uid", p.uid, "round", m.RoundId)
		p.refuse(noAnswer{ctx}, m.RoundId, "")
		return true
	})
	if len(p.owed) == 0 {
		stopTimer(p.retry)
		p.retry, p.retries = nil, 0
		return false
	}
	// Stored only while every owed round's settle window is open: past it,
	// its session may void it unanswered (a save held up in a cut network
	// lands late).
	var by time.Time
	for _, m := range p.owed {
		if m.DeadlineUnixMs != 0 {
			if end := time.UnixMilli(m.DeadlineUnixMs).Add(p.d.settings.settleWithin()); by.IsZero() || end.Before(by) {
				by = end
			}
		}
	}
	err := p.saveBy(by, func(next caiquan.PlayerRecord) caiquan.PlayerRecord {
		for _, m := range p.owed {
			next, _, _ = caiquan.ApplyRoundWith(next, m.RoundId, int(m.BaseScore), resultLines(m.Result))
		}
		return p.shown(next)
	})
	if err != nil {
		p.d.log.Error("player: save failed", "uid", p.uid, "rounds_owed", len(p.owed), "err", err)
		if errors.Is(err, caiquan.ErrMaybeStored) {
			p.markUnsure()
		}
		p.retryLater(ctx)
		return false
	}
	for _, m := range p.owed {
		if _, ok := p.find(m.RoundId); !ok { // refused by another player actor of the uid
			p.refuse(noAnswer{ctx}, m.RoundId, "")
		}
	}
	p.owed = nil
	p.unsureAfterSave(noAnswer{ctx})
	stopTimer(p.retry)
	p.retry, p.retries = nil, 0
	return true
}

// noAnswer is a context whose refusals go to nobody: a round dropped on the
// player's own timer has no asker waiting.
type noAnswer struct{ actor.Context }

func (noAnswer) Sender() *actor.PID { return nil }

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
