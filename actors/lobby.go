package actors

import (
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/rules"
	"google.golang.org/protobuf/proto"
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
	wake     Timer
	rounds   uint64 // rooms opened: spreads them over the room hosts
	ids      roundIDs
	forgot   time.Time
	// opening: rooms asked of another member's room host, not yet
	// confirmed; shunned: room hosts that failed to confirm, until when.
	opening map[string]opening
	shunned map[string]time.Time
	// drainingHosts: the members whose lobby said it drains, with when
	// it said so; they get no rooms (see pollDrains).
	drainingHosts map[string]time.Time
	poll          Timer
	// watched: the sessions on other members this lobby watches, by PID.
	// A session stays watched from its first join until it ends, so its
	// rounds cost no Watch and Unwatch each (system messages that wake its
	// mailbox). A session on this member is not watched: it sends
	// LeaveQueue when it stops, and a watch would cost it a watcher set.
	watched map[string]*actor.PID
}

type opening struct {
	spec  *messages.RoomSpec
	host  string
	timer Timer
}

// openTimeout is how long a room host on another member has to confirm a
// room before the lobby gives its players back their places in the queue.
const openTimeout = time.Second

// shunFor is how long a room host that did not confirm gets no rooms.
const shunFor = 5 * time.Second

// drainPollEvery is how often the lobby that seats asks every other
// member's lobby whether its node drains. A draining node finishes the
// rounds it has and exits, so a room opened there would only be voided
// when its drain times out. Members of the previous release answer too
// (GetDrainStatus is as old as drains) but do not refuse rooms
// themselves, so the asking is done here, by whichever release seats.
const drainPollEvery = 500 * time.Millisecond

// drainPoll is the lobby's own tick to ask the members whether they drain.
type drainPoll struct{}

type waiting struct {
	seat   *messages.SeatInfo
	ticket uint64
	since  time.Time
}

type seatedTicket struct {
	ticket  uint64
	at      time.Time
	session *actor.PID
	round   string
	until   time.Time // the round cannot run past this
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
		l.opening = make(map[string]opening)
		l.shunned = make(map[string]time.Time)
		l.watched = make(map[string]*actor.PID)
		l.drainingHosts = make(map[string]time.Time)
		l.d.metrics.PlayersWaiting.Set(0)
		if _, alone := l.d.place.(localPlacement); !alone {
			l.poll = sendAfter(ctx, l.d.settings.Clock, drainPollEvery, drainPoll{})
		}
	case *actor.Restarting, *actor.Stopping:
		stopTimer(l.wake)
		stopTimer(l.poll)
		for _, o := range l.opening {
			stopTimer(o.timer)
		}
	case *messages.JoinQueue:
		l.handleJoin(ctx, msg)
	case *messages.LeaveQueue:
		l.remove(ctx, msg.Uid, ctx.Sender())
	case *actor.Terminated:
		delete(l.watched, pidKey(msg.Who))
		l.removeSession(msg.Who)
	case *messages.MatchTick:
		l.match(ctx)
	case *messages.TopologyChanged:
		l.match(ctx) // gives the queue up if this lobby no longer seats
	case *messages.RoomOpened:
		if o, ok := l.opening[msg.RoundId]; ok {
			stopTimer(o.timer)
			delete(l.opening, msg.RoundId)
		}
	case *messages.OpenTimeout:
		l.handleOpenTimeout(ctx, msg)
	case *messages.Drain:
		l.handleDrain(ctx)
	case *messages.GetDrainStatus:
		ctx.Respond(&messages.DrainStatus{Draining: l.draining, Waiting: int32(len(l.queue))})
	case drainPoll:
		l.pollDrains(ctx)
	}
}

// pollDrains asks the other members' lobbies whether their nodes drain,
// when this lobby seats, and asks again after drainPollEvery. A node
// without a cluster has nobody to ask and never polls.
func (l *lobby) pollDrains(ctx actor.Context) {
	l.poll = sendAfter(ctx, l.d.settings.Clock, drainPollEvery, drainPoll{})
	if l.draining || l.d.place.Lobby() != l.d.self {
		return
	}
	now := l.d.settings.Clock.Now()
	for host, at := range l.drainingHosts {
		// A node drains for drain_timeout at most, then leaves the
		// member list; an answer not repeated is forgotten.
		if now.Sub(at) > 4*drainPollEvery {
			delete(l.drainingHosts, host)
		}
	}
	for _, host := range l.d.place.RoomHosts() {
		if host == l.d.self {
			continue
		}
		// An answer (Respond) names no sender, so the future keeps
		// which member it came from.
		f := ctx.RequestFuture(lobbyAt(host), &messages.GetDrainStatus{}, drainPollEvery)
		ctx.ReenterAfter(f, func(res any, err error) {
			if st, ok := res.(*messages.DrainStatus); ok && err == nil {
				l.noteDrainStatus(ctx, host, st)
			}
		})
	}
}

// noteDrainStatus notes a member's answer to pollDrains. The players on
// a member that drains get no new round either: the member closes their
// sockets once its own rooms are done, and one cut off in a round on
// another member would come back elsewhere, join, and sit in two rounds.
// So those waiting are told, as those who join later are (handleJoin).
func (l *lobby) noteDrainStatus(ctx actor.Context, host string, st *messages.DrainStatus) {
	if !st.Draining {
		delete(l.drainingHosts, host)
		return
	}
	l.drainingHosts[host] = l.d.settings.Clock.Now()
	kept := l.queue[:0]
	for _, w := range l.queue {
		if w.seat.Session.Address == host {
			refuseDraining(ctx, w.seat.Session)
		} else {
			kept = append(kept, w)
		}
	}
	l.queue = kept
	l.d.metrics.PlayersWaiting.Set(float64(len(l.queue)))
}

// refuseDraining tells a session on a member that drains that it gets no
// new round; a session of either release then stops waiting.
func refuseDraining(ctx actor.Context, session *actor.PID) {
	ctx.Send(session, &messages.Error{Code: messages.CodeDraining, Message: "the server is shutting down and starts no new rounds"})
}

// handleJoin queues a player. A repeat of the same ticket keeps the place; a
// new session of the same uid takes it over.
func (l *lobby) handleJoin(ctx actor.Context, msg *messages.JoinQueue) {
	seat := msg.Seat
	if seat == nil || seat.Session == nil || seat.Uid == "" {
		return
	}
	if !l.d.place.MaySeat() {
		l.passOn(ctx, msg)
		return
	}
	if l.draining {
		l.tellDraining(ctx, seat.Session)
		return
	}
	if _, ok := l.drainingHosts[seat.Session.Address]; ok {
		refuseDraining(ctx, seat.Session)
		return
	}
	if why := l.d.hold.Load(); why != nil {
		l.tellHeld(ctx, seat.Session, *why)
		return
	}
	if s, ok := l.seated[seat.Uid]; ok && msg.Ticket != 0 && msg.Ticket <= s.ticket {
		return // already seated; the start is on its way
	}
	if s, ok := l.seated[seat.Uid]; ok && l.holds(s, msg) {
		// Another session of the uid may sit in a round this lobby opened:
		// its client came back on a new connection while that round runs.
		// Seated now, the player would sit in two rounds at once. The
		// session joins again once that round is over (a session of the
		// previous release, which does not know JoinHeld, repeats its join
		// every second, and is taken then).
		l.remove(ctx, seat.Uid, nil)
		ctx.Send(seat.Session, &messages.JoinHeld{UntilUnixMs: s.until.UnixMilli()})
		return
	}
	found := false
	for i := range l.queue {
		if l.queue[i].seat.Uid == seat.Uid {
			l.queue[i].seat, l.queue[i].ticket = seat, msg.Ticket
			found = true
		}
	}
	if !found {
		since := l.d.settings.Clock.Now()
		if msg.JoinedAtUnixMs > 0 {
			since = time.UnixMilli(msg.JoinedAtUnixMs)
		}
		l.queue = append(l.queue, waiting{seat: seat, ticket: msg.Ticket, since: since})
	}
	l.watch(ctx, seat.Session)
	l.match(ctx)
	// Only a player who waits is told so: one seated at once gets its start.
	for _, w := range l.queue {
		if w.seat.Uid == seat.Uid {
			ctx.Send(seat.Session, &messages.Queued{Waiting: int32(len(l.queue))})
			break
		}
	}
}

// holds reports whether a join must wait for the round s, in which this
// lobby seated the join's uid last, to be over. The session that sat in
// it is never held: it joins only once it is out of that round. Another
// session of the uid is held while the round may run, unless it names that
// round as the last one the uid left (its client, or its player, saw the
// result). A session of the previous release names no round and does not
// tell the player of its seat (so no player's wait holds its successor):
// only the lobby's hold keeps the uid out of a second round then.
func (l *lobby) holds(s seatedTicket, msg *messages.JoinQueue) bool {
	seat := msg.Seat
	if s.round == "" || s.session.Equal(seat.Session) || !l.d.settings.Clock.Now().Before(s.until) {
		return false
	}
	return !seat.TakesOffers || msg.LastRound != s.round
}

func (l *lobby) watch(ctx actor.Context, session *actor.PID) {
	if !remote(ctx, session) {
		return // a session here leaves the queue itself when it stops
	}
	if k := pidKey(session); l.watched[k] == nil {
		l.watched[k] = session
		ctx.Watch(session)
	}
}

func pidKey(pid *actor.PID) string { return pid.Address + "/" + pid.Id }

func (l *lobby) remove(ctx actor.Context, uid string, session *actor.PID) {
	for i, w := range l.queue {
		if w.seat.Uid == uid && (session == nil || w.seat.Session.Equal(session)) {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
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
	if why := l.d.hold.Load(); why != nil {
		for _, w := range l.queue {
			l.tellHeld(ctx, w.seat.Session, *why)
		}
		l.queue = nil
		l.d.metrics.PlayersWaiting.Set(0)
		return
	}
	if !l.d.place.MaySeat() {
		l.giveUp(ctx)
		return
	}
	now := l.d.settings.Clock.Now()
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
	l.wakeAt(ctx, wake, now)
}

// wakeAt sets the lobby's one timer for the next bot fill (none for a zero
// wake). It is reset, not made anew: a timer per join was one per round.
// A tick that crossed a reset only matches early, which seats nobody
// before their time.
func (l *lobby) wakeAt(ctx actor.Context, wake, now time.Time) {
	switch {
	case wake.IsZero():
		stopTimer(l.wake)
	case l.wake == nil:
		l.wake = sendAfter(ctx, l.d.settings.Clock, wake.Sub(now), &messages.MatchTick{})
	default:
		l.wake.Reset(wake.Sub(now))
	}
}

func (l *lobby) open(ctx actor.Context, t rules.Table, byUID map[string]waiting, now time.Time) {
	spec := &messages.RoomSpec{RoundId: l.nextRoundID(), Bots: int32(t.Bots), Seed: l.rng.Int64()}
	span := l.roundSpan()
	for _, uid := range t.UIDs {
		w := byUID[uid]
		spec.Seats = append(spec.Seats, w.seat)
		// until by the wall clock, as JoinHeld names it: the monotonic
		// clock, which holds compares by otherwise, may run slower.
		l.seated[uid] = seatedTicket{ticket: w.ticket, at: now, session: w.seat.Session, round: spec.RoundId, until: now.Add(span).Round(0)}
		waited := now.Sub(w.since).Seconds()
		if t.Bots > 0 {
			l.d.metrics.BotFill.Observe(waited)
		} else {
			l.d.metrics.TimeToMatch.Observe(waited)
		}
	}
	l.sendSpec(ctx, spec, now)
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
		if now.Sub(s.at) > seatedMemory && now.After(s.until) {
			delete(l.seated, uid)
		}
	}
}

// roundSpan is the longest a round opened now can run: the room host's
// time to confirm it, the room's wait for its seats to take their offers,
// the round, and the room's settling (its window and final asks), after
// which every seat's player has applied or refused it.
func (l *lobby) roundSpan() time.Duration {
	return roundSpan(l.d.settings)
}

func roundSpan(st Settings) time.Duration {
	return openTimeout + offerTimeout + st.RoundTime + st.settleWithin() + finalAsks*st.SettleRetry
}

func (l *lobby) nextRoundID() string {
	l.rounds++
	return l.ids.make(l.rng)
}

// handleDrain stops seating: everyone waiting is told, nobody new is queued.
func (l *lobby) handleDrain(ctx actor.Context) {
	l.draining = true
	stopTimer(l.wake)
	for _, w := range l.queue {
		l.tellDraining(ctx, w.seat.Session)
	}
	l.queue = nil
	l.d.metrics.PlayersWaiting.Set(0)
	ctx.Respond(&messages.DrainStatus{Draining: true})
}

// tellDraining refuses a join because this node shuts down. Only this
// node's sessions are told: in a cluster, a session on another node keeps
// repeating its join, and is seated by the lobby's next member once this
// one has left the member list.
func (l *lobby) tellDraining(ctx actor.Context, session *actor.PID) {
	if session.Address == l.d.self {
		ctx.Send(session, &messages.Error{Code: messages.CodeDraining, Message: "the server is shutting down and starts no new rounds"})
	}
}

// tellHeld refuses a join while seating is held: the player may try again.
func (l *lobby) tellHeld(ctx actor.Context, session *actor.PID, why string) {
	l.d.metrics.JoinsRefused.Inc()
	ctx.Send(session, &messages.Error{Code: messages.CodeServerBusy, Message: why + "; join again later"})
}

// passOn hands a join to the lobby that seats, once: a member that is cut
// off, or that disagrees about who seats, drops it, and the session's next
// repeat goes wherever its own member then points.
func (l *lobby) passOn(ctx actor.Context, msg *messages.JoinQueue) {
	to := l.d.place.Lobby()
	if msg.Forwarded || to == "" || to == l.d.self {
		return
	}
	fwd := proto.Clone(msg).(*messages.JoinQueue)
	fwd.Forwarded = true
	ctx.Send(lobbyAt(to), fwd)
}

// giveUp empties the queue of a lobby that no longer seats. Nobody is told:
// every waiting session repeats its join to the lobby that seats now.
func (l *lobby) giveUp(ctx actor.Context) {
	stopTimer(l.wake)
	l.wake = nil
	for k, session := range l.watched {
		ctx.Unwatch(session)
		delete(l.watched, k)
	}
	l.queue = nil
	l.d.metrics.PlayersWaiting.Set(0)
}

// sendSpec asks a room host for the room, taking the members in turn so
// that rooms spread over the cluster. A host on another member must confirm
// within openTimeout.
func (l *lobby) sendSpec(ctx actor.Context, spec *messages.RoomSpec, now time.Time) {
	host := l.pickHost(now)
	if host == "" || host == l.d.self {
		ctx.Send(l.d.rooms, spec)
		return
	}
	l.opening[spec.RoundId] = opening{spec: spec, host: host,
		timer: sendAfter(ctx, l.d.settings.Clock, openTimeout, &messages.OpenTimeout{RoundId: spec.RoundId})}
	ctx.Request(roomsAt(host), spec)
}

func (l *lobby) pickHost(now time.Time) string {
	hosts := l.d.place.RoomHosts()
	for i := range hosts {
		h := hosts[(int(l.rounds)+i)%len(hosts)]
		if _, draining := l.drainingHosts[h]; draining {
			continue
		}
		if until, ok := l.shunned[h]; !ok || now.After(until) {
			delete(l.shunned, h)
			return h
		}
	}
	return l.d.self
}

// handleOpenTimeout: the room host did not confirm (its member died or is
// cut off). Its players get their places back at their next repeated join,
// and the host gets no rooms for a while. Should the room start after all,
// each session takes only one start, so nobody plays twice.
func (l *lobby) handleOpenTimeout(ctx actor.Context, msg *messages.OpenTimeout) {
	o, ok := l.opening[msg.RoundId]
	if !ok {
		return
	}
	delete(l.opening, msg.RoundId)
	l.shunned[o.host] = l.d.settings.Clock.Now().Add(shunFor)
	l.d.log.Warn("lobby: room host did not confirm a room; its players queue again", "host", o.host, "round", msg.RoundId)
	for _, seat := range o.spec.Seats {
		delete(l.seated, seat.Uid)
	}
}
