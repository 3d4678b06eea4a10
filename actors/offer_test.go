package actors

import (
	"slices"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

func seatUIDs(start *messages.Start) []string {
	var uids []string
	for _, u := range start.RoomUsers {
		uids = append(uids, u.Uid)
	}
	return uids
}

// A second room that seats a player who is in a round (two lobbies, or a
// lobby and a room that opened late, each seated it) shows nobody a start
// that lists that player: its session declines the offer, and a bot takes
// the seat before any client is told who sits there.
func TestSeatOfAPlayerInAnotherRoundGoesToABot(t *testing.T) {
	s := testSettings()
	s.RoundTime = time.Second
	s.BotFill = time.Hour // the lobby seats c with nobody
	srv, system := newTestServer(t, s)
	a, b, c := connect(t, srv, "a"), connect(t, srv, "b"), connect(t, srv, "c")
	first := pair(t, a, b)
	c.join()
	c.expect("queued")

	spec := &messages.RoomSpec{RoundId: "second", Seed: 7, Seats: []*messages.SeatInfo{
		{Uid: "a", Session: sessionPID(a), TakesOffers: true},
		{Uid: "c", Session: sessionPID(c), TakesOffers: true},
	}}
	if _, err := spawnRoom(system.Root, srv.d, spec); err != nil {
		t.Fatal(err)
	}
	start := c.expect("start").GetStart()
	if start.RoundId != "second" {
		t.Fatalf("c started %q, want second", start.RoundId)
	}
	uids := seatUIDs(start)
	if len(uids) != 2 || uids[0] == "a" || uids[1] != "c" {
		t.Fatalf("c was shown seats %v: want a bot in a's place, and c", uids)
	}
	a.choose(2)
	b.choose(1)
	if r := a.expect("result").GetResult(); r.RoundId != first {
		t.Fatalf("a's result is of %q, want its own round %q", r.RoundId, first)
	}
	if r := c.expect("result").GetResult(); r.RoundId != "second" || len(r.Result) != 2 {
		t.Fatalf("c's result: %v", r)
	}
}

// An offered seat whose session says nothing in time goes to a bot, and the
// session hears that the offer is withdrawn; the other seat's round begins.
func TestUnansweredOfferGoesToABot(t *testing.T) {
	_, system, room, seats := offeringRoom(t, "slow")
	silent, silentCh, taker, takerCh := seats[0].pid, seats[0].ch, seats[1].pid, seats[1].ch
	for _, ch := range []chan any{silentCh, takerCh} {
		if o, ok := recv(t, ch, recvTimeout).(*messages.SeatOffer); !ok || o.Start.RoundId != "slow" {
			t.Fatalf("first message to a seat is not its offer: %v", o)
		}
	}
	system.Root.RequestWithCustomSender(room, &messages.SeatTaken{RoundId: "slow", Uid: "b"}, taker)
	start := recvType[*messages.Start](t, takerCh, offerTimeout+recvTimeout)
	if uids := seatUIDs(start); len(uids) != 2 || uids[0] == "a" || uids[1] != "b" {
		t.Fatalf("b was shown seats %v: want a bot in a's place, and b", uids)
	}
	if v := recvType[*messages.Void](t, silentCh, recvTimeout); v.RoundId != "slow" {
		t.Fatalf("the silent seat heard a void of %q", v.RoundId)
	}
	// Taken too late: the seat is the bot's.
	system.Root.RequestWithCustomSender(room, &messages.SeatTaken{RoundId: "slow", Uid: "a"}, silent)
	system.Root.Send(room, &messages.RoundDeadline{RoundId: "slow"})
	res := recvType[*messages.Result](t, takerCh, recvTimeout)
	env := &messages.Envelope{Body: &messages.Envelope_Result{Result: res}}
	if resultOf(env, "a") != nil || resultOf(env, "b") == nil {
		t.Fatalf("result: %v", res)
	}
	select {
	case m := <-silentCh:
		t.Fatalf("the seat given to a bot heard %T %v", m, m)
	default:
	}
}

// A new session of a uid whose old session still sits in a round is freed
// to join when that round's result is out, not as soon as its own player
// stored the round: the room may still wait for another seat's player, and
// no client may see the uid's next round start before this one ends. The
// word goes behind the result through another seat's session.
func TestWaitingSessionFreedWhenTheResultIsOut(t *testing.T) {
	s := testSettings()
	s.RoundTime = time.Hour
	srv, system := newTestServer(t, s)
	old, oldCh := spawnSpy(system)
	system.Root.RequestWithCustomSender(srv.d.players, &messages.Register{Uid: "a"}, old)
	player := recvType[*messages.Attached](t, oldCh, recvTimeout).Player
	bSession, bCh := spawnSpy(system)
	bPlayer, bPlayerCh := spawnSpy(system) // b's player answers when the test says
	spec := &messages.RoomSpec{RoundId: "r", Seats: []*messages.SeatInfo{
		{Uid: "a", Session: old, Player: player},
		{Uid: "b", Session: bSession, Player: bPlayer},
	}}
	room, err := spawnRoom(system.Root, srv.d, spec)
	if err != nil {
		t.Fatal(err)
	}
	recvType[*messages.Start](t, oldCh, recvTimeout)
	system.Root.RequestWithCustomSender(player, &messages.Seated{Uid: "a", RoundId: "r",
		DeadlineUnixMs: time.Now().Add(time.Hour).UnixMilli()}, old)

	again, againCh := spawnSpy(system) // the client connected again
	system.Root.RequestWithCustomSender(srv.d.players, &messages.Register{Uid: "a"}, again)
	if at := recvType[*messages.Attached](t, againCh, recvTimeout); at.BusyUntilUnixMs == 0 {
		t.Fatal("the new session was not told to wait for the old one's round")
	}
	system.Root.Send(room, &messages.RoundDeadline{RoundId: "r"})
	apply := recvType[*messages.ApplyRound](t, bPlayerCh, recvTimeout)
	eventually(t, "a's player stored the round", func() bool {
		rec, err := srv.d.store.Load("a")
		return err == nil && len(rec.Recent) > 0 && rec.Recent[len(rec.Recent)-1].RoundID == "r"
	})
	ask := &messages.ApplyRound{Uid: "a", RoundId: "r", StartedUnixMs: apply.StartedUnixMs, DeadlineUnixMs: apply.DeadlineUnixMs}
	got, err := system.Root.RequestFuture(player, ask, recvTimeout).Result()
	if a, ok := got.(*messages.RoundApplied); err != nil || !ok || !a.Waits {
		t.Fatalf("a's player on the repeated ask: %v %v; want applied, with waits", got, err)
	}
	// Anything the player sent the new session is in its mailbox by now.
	system.Root.Send(again, "marker")
	if m := recv(t, againCh, recvTimeout); m != "marker" {
		t.Fatalf("the new session heard %T %v before the round's result was out", m, m)
	}
	system.Root.Send(room, &messages.RoundApplied{Uid: "b", RoundId: "r", TotalScore: 1, WinStreak: 1, RoundScore: 1})
	// The word goes behind b's result, through b's session, which passes it
	// on to a's player (here a real session stands in for b's).
	recvType[*messages.Result](t, bCh, recvTimeout)
	free, ok := recv(t, bCh, recvTimeout).(*messages.Free)
	if !ok || free.Uid != "a" || free.RoundId != "r" {
		t.Fatalf("after the result b's session heard %v, want Free of a's round", free)
	}
	c := connect(t, srv, "c")
	system.Root.Send(sessionPID(c), free)
	recvType[*messages.Free](t, againCh, recvTimeout)
}

// A player whose player actor was made again (its member died) knows
// nothing of the seat its old session holds; when it connects again while
// that round runs, the lobby that seated it there seats it nowhere else
// before that round is surely over.
func TestLobbyHoldsANewSessionWhileTheOldRoundMayRun(t *testing.T) {
	s := testSettings()
	s.RoundTime = time.Second
	s.AttachTimeout = 3 * time.Second // a hello may reach the player as it stops
	srv, _ := newTestServer(t, s)
	old := connect(t, srv, "a")
	old.join()
	start := old.expect("start").GetStart() // with a bot
	began := time.Now()
	kill(t, srv, KindPlayer, "a", KillStop)

	again := connect(t, srv, "a") // replaces the old connection; its round runs on
	again.join()
	c := connect(t, srv, "c")
	c.join()
	if uids := seatUIDs(c.expect("start").GetStart()); slices.Contains(uids, "a") {
		t.Fatalf("a was seated with c (%v) while its round %s still ran", uids, start.RoundId)
	}
	var next *messages.Start
	for next == nil {
		select {
		case env := <-again.conn.out:
			next = env.GetStart()
		case <-time.After(10 * time.Second):
			t.Fatal("a was never seated again")
		}
	}
	if next.RoundId == start.RoundId || time.Since(began) < s.RoundTime {
		t.Fatalf("a was seated in %s %v after its old round began", next.RoundId, time.Since(began))
	}
}

// A session that loses its room (its member died, with every player that
// held the room's result) after its player stored the round shows the
// result the room sent it as it settled, with its own line as stored, not
// its own line alone; so does one whose room published without a word
// from its player (RoomGone with the result).
func TestLostRoundResultFromTheRoom(t *testing.T) {
	for _, how := range []string{"settling", "gone"} {
		t.Run(how, func(t *testing.T) { lostRoundResultFromTheRoom(t, how) })
	}
}

func lostRoundResultFromTheRoom(t *testing.T, how string) {
	s := testSettings()
	s.BotFill = time.Hour
	srv, system := newTestServer(t, s)
	a := connect(t, srv, "a")
	a.join()
	room, _ := spawnSpy(system)
	start := &messages.Start{RoundId: "lost", GameTimeMs: 1000, RoomUsers: []*messages.RoomUser{{Uid: "a"}, {Uid: "bot-lost-2"}}}
	system.Root.RequestWithCustomSender(sessionPID(a), start, room)
	a.expect("start")
	computed := &messages.Result{RoundId: "lost", Result: []*messages.PlayerResult{
		{Uid: "a", Choice: 2, RoundScore: 1, TotalScore: 1, WinStreak: 1},
		{Uid: "bot-lost-2", Choice: 1},
	}}
	if how == "settling" {
		system.Root.RequestWithCustomSender(sessionPID(a), &messages.RoundSettling{Result: computed}, room)
	}
	now := time.Now()
	apply := &messages.ApplyRound{Uid: "a", RoundId: "lost", BaseScore: 1, StartedUnixMs: now.UnixMilli(), DeadlineUnixMs: now.UnixMilli()}
	if _, err := system.Root.RequestFuture(srv.d.players, apply, time.Second).Result(); err != nil {
		t.Fatal(err) // stored, and the player holds no result
	}
	if how == "settling" {
		system.Root.Send(sessionPID(a), &messages.RoomGone{RoundId: "lost"}) // as after Terminated
	} else {
		system.Root.RequestWithCustomSender(sessionPID(a), &messages.RoomGone{RoundId: "lost", Result: computed}, room)
	}
	res := a.expect("result")
	if len(res.GetResult().Result) != 2 {
		t.Fatalf("result %v, want both seats' lines", res)
	}
	if r := resultOf(res, "a"); r.TotalScore != 1 || r.WinStreak != 1 || r.RoundScore != 1 || r.Choice != 2 {
		t.Fatalf("a's line %v", r)
	}
}

// A player that connects again after its player actor stored the old
// round, while the room still waits for another seat's player, is told to
// wait: the round is not over for the other seat's client yet.
func TestReconnectAfterTheStoreWaitsForTheResult(t *testing.T) {
	s := testSettings()
	s.RoundTime = time.Hour
	srv, system := newTestServer(t, s)
	old, oldCh := spawnSpy(system)
	system.Root.RequestWithCustomSender(srv.d.players, &messages.Register{Uid: "a"}, old)
	player := recvType[*messages.Attached](t, oldCh, recvTimeout).Player
	bSession, _ := spawnSpy(system)
	bPlayer, bPlayerCh := spawnSpy(system) // never answers
	spec := &messages.RoomSpec{RoundId: "r", Seats: []*messages.SeatInfo{
		{Uid: "a", Session: old, Player: player},
		{Uid: "b", Session: bSession, Player: bPlayer},
	}}
	room, err := spawnRoom(system.Root, srv.d, spec)
	if err != nil {
		t.Fatal(err)
	}
	recvType[*messages.Start](t, oldCh, recvTimeout)
	system.Root.RequestWithCustomSender(player, &messages.Seated{Uid: "a", RoundId: "r",
		DeadlineUnixMs: time.Now().Add(time.Hour).UnixMilli()}, old)
	system.Root.Send(room, &messages.RoundDeadline{RoundId: "r"})
	apply := recvType[*messages.ApplyRound](t, bPlayerCh, recvTimeout)
	ask := &messages.ApplyRound{Uid: "a", RoundId: "r", StartedUnixMs: apply.StartedUnixMs, DeadlineUnixMs: apply.DeadlineUnixMs}
	if got, err := system.Root.RequestFuture(player, ask, recvTimeout).Result(); err != nil {
		t.Fatalf("a's player: %v %v", got, err)
	}
	// a's player stored the round; b's has not, so the room has not published.
	again, againCh := spawnSpy(system)
	system.Root.RequestWithCustomSender(srv.d.players, &messages.Register{Uid: "a"}, again)
	at := recvType[*messages.Attached](t, againCh, recvTimeout)
	if at.BusyUntilUnixMs == 0 || at.LastRound == "r" {
		t.Fatalf("the new session may join at once (busy until %d, last round %q) while r's result is not out", at.BusyUntilUnixMs, at.LastRound)
	}
}

// A lobby holds a join that names no last round from another session of
// a uid it seated, whichever release the session is of: a session of the
// previous release names none and does not tell its player of its seat,
// so the lobby's hold is all that keeps the uid out of two rounds (the
// session that sat in the round is not held: TestLobbyHoldsASecondSessionOfASeatedUid).
func TestLobbyHoldsSessionsThatNameNoLastRound(t *testing.T) {
	for _, takes := range []bool{false, true} {
		t.Run(map[bool]string{false: "previous-release", true: "this-release"}[takes], func(t *testing.T) {
			s := testSettings()
			s.BotFill = time.Hour
			srv, system := newTestServer(t, s)
			makePlayers(t, srv, system, "a", "b", "c")
			join := func(uid string, ticket uint64) chan any {
				pid, ch := spawnSpy(system)
				system.Root.Send(srv.d.lobby, &messages.JoinQueue{Ticket: ticket,
					Seat: &messages.SeatInfo{Uid: uid, Session: pid, TakesOffers: takes}})
				return ch
			}
			join("a", 1)
			join("c", 1) // a and c sit together: the lobby seated a
			again := join("a", 2)
			b := join("b", 2)
			first := recv(t, b, recvTimeout)
			if q, held := first.(*messages.Queued); !held || q.Waiting != 1 {
				t.Fatalf("b heard %T %v first, want to wait alone: a's other session was not held", first, first)
			}
			recvType[*messages.JoinHeld](t, again, recvTimeout)
		})
	}
}

// A session that took an offer and then gave it up before the start
// reached it (the link to the room dropped, and it queued again) declines
// the start; the room, which began with the seat taken, must not score the
// round for a player whose client never saw it.
func TestOfferTakenThenDeclinedIsNotScored(t *testing.T) {
	srv, system, room, seats := offeringRoom(t, "gone")
	pa, cha, pb, chb := seats[0].pid, seats[0].ch, seats[1].pid, seats[1].ch
	for i, ch := range []chan any{cha, chb} {
		recvType[*messages.SeatOffer](t, ch, recvTimeout)
		system.Root.RequestWithCustomSender(room, &messages.SeatTaken{RoundId: "gone", Uid: []string{"a", "b"}[i]}, []*actor.PID{pa, pb}[i])
	}
	recvType[*messages.Start](t, cha, recvTimeout)
	recvType[*messages.Start](t, chb, recvTimeout)
	system.Root.RequestWithCustomSender(room, &messages.LeaveRoom{RoundId: "gone", Uid: "a", Declined: true}, pa)
	system.Root.Send(room, &messages.RoundDeadline{RoundId: "gone"})
	recvType[*messages.Result](t, chb, recvTimeout)
	got, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{Uid: "a", RoundId: "probe", BaseScore: 1}, time.Second).Result()
	if a, ok := got.(*messages.RoundApplied); err != nil || !ok || a.TotalScore != 1 || a.WinStreak != 1 {
		t.Fatalf("a was scored for a round its client never saw: %v %v", got, err)
	}
	if rec, err := srv.d.store.Load("a"); err != nil || len(rec.Recent) != 1 {
		t.Fatalf("a's record holds %+v (%v), want the probe alone", rec.Recent, err)
	}
}

// A player whose client saw its round end and then connected again is
// seated at once: its old session said, as it ended, that the round was
// over (Detach), so neither its player nor the lobby holds the new one.
func TestReconnectAfterTheResultIsSeatedAtOnce(t *testing.T) {
	s := testSettings()
	s.BotFill = time.Hour           // only a human seats c
	s.SettleRetry = 2 * time.Second // the old round's time is long over only after 12 s
	srv, _ := newTestServer(t, s)
	old, b := connect(t, srv, "a"), connect(t, srv, "b")
	pair(t, old, b)
	old.expect("result")
	b.expect("result")
	old.s.Closed("gone")
	eventually(t, "a's old session ended", func() bool { closed, _ := old.conn.closeCode(); return closed })
	again := connect(t, srv, "a")
	again.join()
	c := connect(t, srv, "c")
	c.join()
	if uids := seatUIDs(c.expect("start").GetStart()); !slices.Contains(uids, "a") {
		t.Fatalf("c was seated with %v, not with a, who reconnected after its round ended", uids)
	}
}

// A session that took an offer keeps it when the room seems to die:
// protoactor says Terminated also when only the link to the room's member
// was reset, and the room, alive, may have begun the round with this seat
// listed. Its start, when it comes, is taken.
func TestTakenOfferOutlivesALinkReset(t *testing.T) {
	s := testSettings()
	s.BotFill = time.Hour
	srv, system := newTestServer(t, s)
	a := connect(t, srv, "a")
	a.join()
	a.expect("queued")
	room, roomCh := spawnSpy(system)
	start := &messages.Start{RoundId: "reset", GameTimeMs: 1000, RoomUsers: []*messages.RoomUser{{Uid: "a"}, {Uid: "b"}}}
	system.Root.RequestWithCustomSender(sessionPID(a), &messages.SeatOffer{Start: start}, room)
	if tk := recvType[*messages.SeatTaken](t, roomCh, recvTimeout); tk.RoundId != "reset" {
		t.Fatalf("a took %q", tk.RoundId)
	}
	system.Root.Send(sessionPID(a), &actor.Terminated{Who: room})
	// Two answered joins: what the session sent itself on the Terminated
	// is handled before the second.
	for range 2 {
		a.join()
		a.expect("error:" + messages.CodeAlreadyQueued)
	}
	system.Root.RequestWithCustomSender(sessionPID(a), start, room)
	if got := a.expect("start").GetStart(); got.RoundId != "reset" {
		t.Fatalf("a started %q", got.RoundId)
	}
}

// spySeat is a spy standing in for a seat's session.
type spySeat struct {
	pid *actor.PID
	ch  chan any
}

// offeringRoom opens a room of one hour's round for the players a and b,
// whose sessions (spies) take offers.
func offeringRoom(t *testing.T, round string) (*Server, *actor.ActorSystem, *actor.PID, [2]spySeat) {
	t.Helper()
	s := testSettings()
	s.RoundTime = time.Hour
	srv, system := newTestServer(t, s)
	makePlayers(t, srv, system, "a", "b")
	var seats [2]spySeat
	spec := &messages.RoomSpec{RoundId: round}
	for i, uid := range []string{"a", "b"} {
		seats[i].pid, seats[i].ch = spawnSpy(system)
		spec.Seats = append(spec.Seats, &messages.SeatInfo{Uid: uid, Session: seats[i].pid, TakesOffers: true})
	}
	room, err := spawnRoom(system.Root, srv.d, spec)
	if err != nil {
		t.Fatal(err)
	}
	return srv, system, room, seats
}

// A seat offered with a standing the session no longer holds comes from an
// old join of its (held up in a paused member, or read by a lobby that
// moved): the round would score from another standing than the client
// saw last. The session declines it and queues anew.
func TestOfferOfAStaleSeatIsDeclined(t *testing.T) {
	s := testSettings()
	s.BotFill = time.Hour
	srv, system := newTestServer(t, s)
	a := connect(t, srv, "a")
	a.join()
	a.expect("queued")
	room, roomCh := spawnSpy(system)
	stale := &messages.Start{RoundId: "stale", GameTimeMs: 1000, RoomUsers: []*messages.RoomUser{{Uid: "a", TotalScore: 3, WinStreak: 2}, {Uid: "b"}}}
	system.Root.RequestWithCustomSender(sessionPID(a), &messages.SeatOffer{Start: stale}, room)
	if l := recvType[*messages.LeaveRoom](t, roomCh, recvTimeout); l.RoundId != "stale" || !l.Declined {
		t.Fatalf("a answered the stale seat with %v, want a decline", l)
	}
	// The seat a holds (0, 0) is taken.
	fresh := &messages.Start{RoundId: "fresh", GameTimeMs: 1000, RoomUsers: []*messages.RoomUser{{Uid: "a"}, {Uid: "b"}}}
	system.Root.RequestWithCustomSender(sessionPID(a), &messages.SeatOffer{Start: fresh}, room)
	if tk := recvType[*messages.SeatTaken](t, roomCh, recvTimeout); tk.RoundId != "fresh" {
		t.Fatalf("a took %q", tk.RoundId)
	}
}

// A session that took a seat and died before the start reached it leaves a
// round running with the uid seated: the player learns of the seat when
// the offer is taken, so a new session of the uid waits for that round
// instead of being seated in a second one.
func TestPlayerKnowsATakenSeatBeforeTheStart(t *testing.T) {
	s := testSettings()
	srv, system := newTestServer(t, s)
	a := connect(t, srv, "a")
	a.join()
	a.expect("queued")
	room, roomCh := spawnSpy(system)
	start := &messages.Start{RoundId: "offered", GameTimeMs: 1000, RoomUsers: []*messages.RoomUser{{Uid: "a"}, {Uid: "b"}}}
	system.Root.RequestWithCustomSender(sessionPID(a), &messages.SeatOffer{Start: start}, room)
	recvType[*messages.SeatTaken](t, roomCh, recvTimeout)
	a.s.Closed("gone") // its node died, say, before the start came
	eventually(t, "a's session ended", func() bool { closed, _ := a.conn.closeCode(); return closed })
	again := connect(t, srv, "a")
	again.join()
	// Bots fill a room after 100 ms; the round a took may run seconds more.
	again.quiet(time.Second)
}
