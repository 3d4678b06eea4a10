package actors

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/rules"
	"google.golang.org/protobuf/proto"
)

// room plays one round: start, relay movements, settle at the deadline,
// publish the result, stop. Phases only go forward, so a round settles once
// whatever arrives at the deadline.
type room struct {
	d      *deps
	spec   *messages.RoomSpec
	deadAt time.Time // when the round's deadline falls

	startAt time.Time // when the round started

	seats    []*seat
	phase    phase
	deadline Timer
	retry    Timer
	attempts int
	offered  *messages.Start  // the start offered, while no seat changed since
	base     []int            // each seat's base score, judged once at the deadline
	computed *messages.Result // every seat's line as judged; never changed once made
	log      *slog.Logger     // made by logger at the first line
	// ticked: the offers' tick of the deadline timer came; stale: it is
	// still on its way, and comes before the round's deadline.
	ticked, stale bool
}

type phase int

const (
	offering phase = iota // seats offered (SeatOffer), no client told yet
	playing
	settling // waiting for player actors to confirm the round
	settled  // the result went out; the room is stopping
)

type seat struct {
	uid     string
	uname   string
	uavatar string
	session *actor.PID // nil for a bot
	player  *actor.PID // the player actor to ask first; nil: the directory
	bot     *actor.PID
	prev    rules.Standing
	hand    rules.Hand
	left    bool
	applied *messages.RoundApplied
	refused bool // the player actor will never apply this round
	bots    int  // bots that have held this seat
	taken   bool // the session told its client the round started
	offered bool // a SeatOffer went to the session, not yet answered
	// unscored: a human seat whose session left without ever taking it (it
	// declined, or died first). It is judged as not choosing, so the others
	// win against it, and its line in the result follows the rules like any
	// other (so every client can check every line), but its player's record
	// is not touched: that player never saw the round.
	unscored bool
}

// offerTimeout is how long a room waits for its seats' sessions to take
// their offers before it gives the silent ones' seats to bots.
const offerTimeout = time.Second

// maxBotsPerSeat bounds how often a killed bot is replaced in one round.
const maxBotsPerSeat = 3

// spawnRoom starts the room of spec under parent (the room host), named by
// its round id: a second room for the same round is refused.
func spawnRoom(parent actor.SpawnerContext, d *deps, spec *messages.RoomSpec) (*actor.PID, error) {
	return d.inv.spawnNamed(parent, d.roomProps, KindRoom, spec.RoundId, spec.RoundId, func() actor.Actor {
		return &room{d: d, spec: spec}
	})
}

func (r *room) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		r.handleStarted(ctx)
	case *actor.Stopping:
		r.handleStopping(ctx)
	case *messages.SubmitChoice:
		r.handleChoice(ctx, msg)
	case *messages.SubmitFace:
		r.handleFace(ctx, msg)
	case *messages.LeaveRoom:
		r.handleLeave(ctx, msg)
	case *messages.SeatTaken:
		if s := r.seatOf(ctx, msg.Uid); s != nil && msg.RoundId == r.spec.RoundId {
			s.taken = true
			if s.offered {
				s.offered = false
				r.beginIfTaken(ctx)
			}
		}
	case *actor.Terminated:
		r.handleTerminated(ctx, msg)
	case *messages.RoundDeadline:
		// One timer serves the offers and then the round.
		switch {
		case msg.RoundId != r.spec.RoundId:
		case r.phase == offering:
			r.ticked = true
			r.handleOfferExpired(ctx)
		case r.phase == playing && r.stale:
			r.stale = false
		case r.phase == playing:
			r.settle(ctx)
		}
	case *messages.RoundApplied:
		r.handleApplied(ctx, msg)
	case *messages.RoundRefused:
		r.handleRefused(ctx, msg)
	case *messages.SettleTimeout:
		if msg.RoundId == r.spec.RoundId && r.phase == settling {
			r.handleSettleTimeout(ctx)
		}
	case *actor.DeadLetterResponse:
		if r.phase == settling {
			r.askDirectory(ctx)
		}
	}
}

func (r *room) handleStarted(ctx actor.Context) {
	// The seats in one allocation: a room is made every round.
	all := make([]seat, len(r.spec.Seats)+int(r.spec.Bots))
	r.seats = make([]*seat, len(all))
	for i := range all {
		r.seats[i] = &all[i]
	}
	for i, s := range r.spec.Seats {
		*r.seats[i] = seat{
			uid: s.Uid, uname: s.Uname, uavatar: s.Uavatar,
			session: s.Session,
			player:  s.Player,
			prev:    rules.Standing{Total: s.TotalScore, Streak: s.WinStreak},
		}
		ctx.Watch(s.Session)
	}
	for i := 0; i < int(r.spec.Bots); i++ {
		*r.seats[len(r.spec.Seats)+i] = seat{
			uid:   fmt.Sprintf("bot-%s-%d", r.spec.RoundId, i+1),
			uname: botName(r.spec.Seed, i),
		}
	}
	// Sessions that take offers are asked first (see messages.SeatOffer):
	// a client shown this round's seats must not see one of a player who
	// sits in another round.
	var offer *messages.SeatOffer
	for i, s := range r.spec.Seats {
		if s.TakesOffers {
			if offer == nil {
				r.offered = r.start()
				offer = &messages.SeatOffer{Start: r.offered}
			}
			r.seats[i].offered = true
			ctx.Request(s.Session, offer)
		}
	}
	if offer == nil {
		r.begin(ctx)
		return
	}
	r.deadline = sendAfter(ctx, r.d.settings.Clock, offerTimeout, &messages.RoundDeadline{RoundId: r.spec.RoundId})
}

// start is the round's start as the seats stand now.
func (r *room) start() *messages.Start {
	start := &messages.Start{
		GameTime:   int32((r.d.settings.RoundTime + time.Second - 1) / time.Second),
		GameTimeMs: int32(r.d.settings.RoundTime / time.Millisecond),
		RoundId:    r.spec.RoundId,
	}
	for _, s := range r.seats {
		start.RoomUsers = append(start.RoomUsers, &messages.RoomUser{
			Uid: s.uid, Uname: s.uname, Uavatar: s.uavatar,
			TotalScore: s.prev.Total, WinStreak: s.prev.Streak,
		})
	}
	return start
}

// beginIfTaken begins the round once no offer waits for an answer; a round
// whose every human declined ends without a word to anyone.
func (r *room) beginIfTaken(ctx actor.Context) {
	humans := false
	for _, s := range r.seats {
		if s.offered {
			return
		}
		humans = humans || s.session != nil
	}
	if !humans {
		r.phase = settled
		ctx.Stop(ctx.Self())
		return
	}
	r.begin(ctx)
}

// handleOfferExpired gives the seats of sessions that did not answer to
// bots; those sessions hear that the offer is withdrawn.
func (r *room) handleOfferExpired(ctx actor.Context) {
	for i, s := range r.seats {
		if s.offered {
			ctx.Request(s.session, &messages.Void{RoundId: r.spec.RoundId, Reason: "the seat was not taken in time"})
			r.toBot(ctx, s, i)
		}
	}
	r.beginIfTaken(ctx)
}

// toBot gives a human seat that was offered and not taken to a bot, before
// any client was told who sits here.
func (r *room) toBot(ctx actor.Context, s *seat, i int) {
	ctx.Unwatch(s.session)
	*s = seat{uid: fmt.Sprintf("bot-%s-%d", r.spec.RoundId, i+1), uname: botName(r.spec.Seed, i)}
	r.offered = nil
}

// seatIndex is the index of seat s.
func (r *room) seatIndex(s *seat) int {
	for i, x := range r.seats {
		if x == s {
			return i
		}
	}
	return -1
}

// begin tells every seat the round started, seats the bots and sets the
// deadline.
func (r *room) begin(ctx actor.Context) {
	r.phase = playing
	start := r.offered
	if start == nil {
		start = r.start()
	}
	r.offered = nil
	for i, s := range r.seats {
		if s.session == nil {
			r.seatBot(ctx, s, i)
		} else {
			ctx.Request(s.session, start)
		}
	}
	if r.d.debugOn() {
		r.logger().Debug("room: round started", "players", len(r.spec.Seats), "bots", r.spec.Bots)
	}
	r.startAt = r.d.settings.Clock.Now()
	r.deadAt = r.startAt.Add(r.d.settings.RoundTime)
	if r.deadline != nil {
		// A timer that went off sent the offers' tick, which comes first.
		r.stale = !r.deadline.Reset(r.d.settings.RoundTime) && !r.ticked
	} else {
		r.deadline = sendAfter(ctx, r.d.settings.Clock, r.d.settings.RoundTime, &messages.RoundDeadline{RoundId: r.spec.RoundId})
	}
}

// seatBot puts a new bot in seat i; its child PID tells the room its choices
// are its own.
func (r *room) seatBot(ctx actor.Context, s *seat, i int) {
	s.bots++
	s.bot = ctx.Spawn(botProps(r.d, s.uid, uint64(r.spec.Seed), uint64(i*maxBotsPerSeat+s.bots)))
	ctx.Send(s.bot, &messages.BotStart{RoundId: r.spec.RoundId, Uid: s.uid})
}

// handleStopping keeps the room's promise when it dies early. Before the
// deadline nothing was scored: every player still seated hears the round is
// void. After it, the room publishes what it knows: the result to seats
// whose player confirmed, and to the others that it cannot say (their
// sessions ask their player actors, which know).
func (r *room) handleStopping(ctx actor.Context) {
	stopTimer(r.deadline)
	stopTimer(r.retry)
	for _, s := range r.seats {
		// protoactor does not take a stopped watcher out of the watched
		// actor's set: without this, a session would keep every room it
		// ever played in. (One that left was unwatched then.)
		if s.session != nil && !s.left {
			ctx.Unwatch(s.session)
		}
	}
	switch r.phase {
	case settled:
	case offering:
		// No client was told of this round: the sessions drop their offers.
		r.toHumans(ctx, &messages.Void{RoundId: r.spec.RoundId, Reason: "the room stopped before the round began"}, nil)
	case settling:
		r.publish(ctx)
	default:
		r.void(ctx, "the room stopped before the round was settled")
	}
}

// void ends the round without a score for anyone.
func (r *room) void(ctx actor.Context, reason string) {
	r.logger().Info("room: round void", "reason", reason)
	r.phase = settled
	r.d.metrics.RoundsVoided.Inc()
	r.toHumans(ctx, &messages.Void{RoundId: r.spec.RoundId, Reason: reason}, nil)
}

// seatOf finds the seat of uid, and only if the message came from that
// seat's own session or bot: nobody plays for someone else.
func (r *room) seatOf(ctx actor.Context, uid string) *seat {
	sender := ctx.Sender()
	for _, s := range r.seats {
		if s.uid != uid || s.left {
			continue
		}
		if (s.session != nil && s.session.Equal(sender)) || (s.bot != nil && s.bot.Equal(sender)) {
			return s
		}
	}
	return nil
}

func (r *room) handleChoice(ctx actor.Context, msg *messages.SubmitChoice) {
	if r.phase != playing || msg.RoundId != r.spec.RoundId || !rules.ValidChoice(msg.Choice) {
		return
	}
	s := r.seatOf(ctx, msg.Uid)
	if s == nil {
		return
	}
	s.hand = rules.Hand(msg.Choice)
	r.relayMove(ctx, &messages.Movement{Uid: msg.Uid, Movement: "choice"}, s, moveSince(ctx, msg.RelaySince))
}

func (r *room) handleFace(ctx actor.Context, msg *messages.SubmitFace) {
	if r.phase != playing || msg.RoundId != r.spec.RoundId || !rules.ValidFace(msg.Face) {
		return
	}
	if s := r.seatOf(ctx, msg.Uid); s != nil {
		r.relayMove(ctx, &messages.Movement{Uid: msg.Uid, Movement: "face", Face: msg.Face}, s, moveSince(ctx, msg.RelaySince))
	}
}

// handleLeave empties a seat: the player counts as not choosing, the others
// are told. The round still settles at its deadline.
func (r *room) handleLeave(ctx actor.Context, msg *messages.LeaveRoom) {
	if msg.RoundId != r.spec.RoundId || (r.phase != playing && r.phase != offering) {
		return
	}
	s := r.seatOf(ctx, msg.Uid)
	if s == nil {
		return
	}
	if r.phase == offering {
		// Declined before any client was told: a bot sits here instead.
		r.toBot(ctx, s, r.seatIndex(s))
		r.beginIfTaken(ctx)
		return
	}
	if msg.Declined {
		// Its client never saw the round, even if the session took the
		// offer (it gave the seat up before the start reached it).
		s.taken = false
	}
	// A declined seat was never taken, so settle leaves its player's
	// record alone (see seat.unscored).
	r.leave(ctx, s)
}

func (r *room) leave(ctx actor.Context, s *seat) {
	s.left = true
	s.hand = rules.None
	if s.session != nil {
		ctx.Unwatch(s.session)
	}
	r.toHumans(ctx, &messages.Leave{Uid: s.uid}, s)
}

func (r *room) handleTerminated(ctx actor.Context, msg *actor.Terminated) {
	for i, s := range r.seats {
		switch {
		case s.session != nil && s.session.Equal(msg.Who) && r.phase == offering:
			r.toBot(ctx, s, i)
			r.beginIfTaken(ctx)
		case s.session != nil && s.session.Equal(msg.Who) && !s.left && r.phase == playing:
			// Terminated may overtake the session's SeatTaken; settle looks
			// at taken only later, when every earlier message is in.
			r.leave(ctx, s)
		case s.bot != nil && s.bot.Equal(msg.Who):
			// Another bot takes the seat; the last choice stands till it chooses.
			s.bot = nil
			if r.phase == playing && s.bots < maxBotsPerSeat {
				r.seatBot(ctx, s, i)
			}
		}
	}
}

// settle judges the hands once and asks each human's player actor to apply
// its base score; bots are scored here, from nothing.
func (r *room) settle(ctx actor.Context) {
	if !r.d.place.Live() {
		// This member is cut off from its cluster (or just woke from a
		// stall): the players' members may have moved on without it.
		r.void(ctx, "this server was cut off from its cluster before the round was settled")
		ctx.Stop(ctx.Self())
		return
	}
	r.phase = settling
	stopTimer(r.deadline)
	hands := make([]rules.Hand, len(r.seats))
	for i, s := range r.seats {
		hands[i] = s.hand
		s.unscored = s.session != nil && s.left && !s.taken
	}
	r.base = rules.BaseScores(hands)
	lines := make([]messages.PlayerResult, len(r.seats))
	r.computed = &messages.Result{RoundId: r.spec.RoundId, Result: make([]*messages.PlayerResult, len(r.seats))}
	for i, s := range r.seats {
		o := rules.Apply(s.prev, r.base[i])
		l := &lines[i] // one allocation for every line: a room settles every round
		l.Uid, l.Choice = s.uid, int32(s.hand)
		l.RoundScore, l.TotalScore, l.WinStreak = o.RoundScore, o.Total, o.Streak
		r.computed.Result[i] = l
	}
	var settling *messages.RoundSettling
	for _, s := range r.seats {
		if s.session != nil && !s.left && remote(ctx, s.session) {
			if settling == nil {
				settling = &messages.RoundSettling{Result: r.computed}
			}
			ctx.Request(s.session, settling)
		}
	}
	r.askPlayers(ctx)
	r.publishIfDone(ctx)
}

// askPlayers sends ApplyRound to every player that has not confirmed yet;
// the retry timer calls it again.
// The first ask goes straight to each seat's player actor, saving the
// directory a hop (and its mailbox a message per seat at every deadline);
// every later one goes through the directory.
func (r *room) askPlayers(ctx actor.Context) {
	for i, s := range r.seats {
		if r.waitsFor(s) {
			to := s.player
			if to == nil || r.attempts > 0 {
				s.player, to = nil, r.d.playersOf(s.uid)
			}
			ctx.Request(to, r.applyRound(i))
		}
	}
	r.retry = sendAfter(ctx, r.d.settings.Clock, r.d.settings.SettleRetry, &messages.SettleTimeout{RoundId: r.spec.RoundId})
}

// askDirectory: an ask reached a player actor that is gone (protoactor does
// not say which), so every seat still asked directly is asked through the
// directory at once. A seat asked twice applies the round once.
func (r *room) askDirectory(ctx actor.Context) {
	for i, s := range r.seats {
		if r.waitsFor(s) && s.player != nil {
			s.player = nil
			ctx.Request(r.d.playersOf(s.uid), r.applyRound(i))
		}
	}
}

func (r *room) applyRound(i int) *messages.ApplyRound {
	return &messages.ApplyRound{
		Uid: r.seats[i].uid, RoundId: r.spec.RoundId, BaseScore: int32(r.base[i]),
		StartedUnixMs: r.startAt.UnixMilli(), DeadlineUnixMs: r.deadAt.UnixMilli(),
		Result: r.computed,
	}
}

func (r *room) handleApplied(ctx actor.Context, msg *messages.RoundApplied) {
	if msg.RoundId != r.spec.RoundId || r.phase != settling {
		return
	}
	for _, s := range r.seats {
		if s.scored() && s.uid == msg.Uid {
			// A store that holds the round wins over a refusal from another
			// player actor of the uid (members that disagreed on its owner).
			s.applied, s.refused = msg, false
		}
	}
	r.publishIfDone(ctx)
}

// handleRefused: the player will never apply the round (its session gave
// it up, or its window closed unstored); that seat's round is void.
func (r *room) handleRefused(ctx actor.Context, msg *messages.RoundRefused) {
	if msg.RoundId != r.spec.RoundId || r.phase != settling {
		return
	}
	for _, s := range r.seats {
		if s.scored() && s.uid == msg.Uid && s.applied == nil {
			s.refused = true
		}
	}
	r.publishIfDone(ctx)
}

// waitsFor reports whether the room still waits for a seat's player.
func (r *room) waitsFor(s *seat) bool { return s.scored() && s.applied == nil && !s.refused }

// finalAsks is how often a room asks a silent player once the round's
// settle window is over: an answer then is final (applied, or refused for
// good), and one ask may be lost or queue behind a slow store.
const finalAsks = 3

// handleSettleTimeout asks silent player actors again (ApplyRound is
// idempotent). Past the settle window the answers are final; after the
// last ask the room publishes, and a seat whose player never answered
// hears that the room cannot say (see publish).
func (r *room) handleSettleTimeout(ctx actor.Context) {
	r.attempts++
	if r.attempts < r.d.settings.SettleAttempts+finalAsks {
		r.askPlayers(ctx)
		return
	}
	r.logger().Warn("room: player actors did not answer; their seats ask them")
	r.publish(ctx)
}

// scored reports whether a seat's player actor applies this round.
func (s *seat) scored() bool { return s.session != nil && !s.unscored }

func (r *room) publishIfDone(ctx actor.Context) {
	for _, s := range r.seats {
		if r.waitsFor(s) {
			return
		}
	}
	r.publish(ctx)
}

// publish ends the round: seats whose player stored it get the result, with
// the lines as stored; seats whose player refused it hear it is void for
// them; and a seat whose player never answered gets RoomGone, which sends
// its session to ask the player (the only one who knows). The result keeps
// every seat's line as the rules give it, so every client can check it.
func (r *room) publish(ctx actor.Context) {
	stopTimer(r.retry)
	result := r.computed
	for i, s := range r.seats {
		a := s.applied
		if a == nil {
			continue
		}
		if line := result.Result[i]; line.RoundScore != a.RoundScore || line.TotalScore != a.TotalScore || line.WinStreak != a.WinStreak {
			if result == r.computed {
				result = proto.Clone(r.computed).(*messages.Result) // player actors hold r.computed
			}
			line = result.Result[i]
			line.RoundScore, line.TotalScore, line.WinStreak = a.RoundScore, a.TotalScore, a.WinStreak
		}
	}
	r.phase = settled
	r.d.metrics.RoundsSettled.Inc()
	r.d.metrics.SettlementLag.Observe(r.d.settings.Clock.Now().Sub(r.deadAt).Seconds())
	if r.d.debugOn() {
		r.logger().Debug("room: round settled", "lag", r.d.settings.Clock.Now().Sub(r.deadAt))
	}
	var void *messages.Void
	var gone *messages.RoomGone
	for _, s := range r.seats {
		switch {
		case s.session == nil || s.left:
		case s.applied != nil:
			ctx.Request(s.session, result)
		case s.refused:
			if void == nil {
				void = &messages.Void{RoundId: r.spec.RoundId, Reason: "the round could not be stored for this player"}
			}
			ctx.Request(s.session, void)
		default:
			if gone == nil {
				gone = &messages.RoomGone{RoundId: r.spec.RoundId, Result: r.computed}
			}
			ctx.Request(s.session, gone)
		}
	}
	r.freeWaiting(ctx)
	ctx.Stop(ctx.Self())
}

// freeWaiting tells the player of each seat whose RoundApplied said a new
// session waits (Waits) that the result is out. No client may see that
// uid's next round begin before this one's result, so the word goes behind
// the result through another seat's session, which passes it on once its
// client has the result (the link to that session may be the slow one);
// with no such session it goes to the player at once.
func (r *room) freeWaiting(ctx actor.Context) {
	for _, w := range r.seats {
		if w.applied == nil || !w.applied.Waits {
			continue
		}
		free := &messages.Free{RoundId: r.spec.RoundId, Uid: w.uid}
		var via *actor.PID
		for _, s := range r.seats {
			if s != w && s.session != nil && !s.left && s.applied != nil {
				via = s.session
				break
			}
		}
		if via == nil {
			via = r.d.playersOf(w.uid)
		}
		ctx.Send(via, free)
	}
}

// toHumans sends msg to every seated human except skip. Request sets the
// room as sender, which is how a session knows the message is from its room.
func (r *room) toHumans(ctx actor.Context, msg any, skip *seat) {
	for _, s := range r.seats {
		if s.session != nil && !s.left && s != skip {
			ctx.Request(s.session, msg)
		}
	}
}
