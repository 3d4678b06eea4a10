package actors

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/store/memory"
)

func sessionPID(c *client) *actor.PID { return c.s.(*sessionHandle).pid.Load() }

// A session that loses its room before the deadline (protoactor's
// Terminated also comes when only the link to the room's member dropped,
// and the room lives on) tells its client the round is void; the room,
// settling later, must then not store the round for that player.
func TestLostRoomBeforeTheDeadlineIsVoidForGood(t *testing.T) {
	s := testSettings()
	s.RoundTime = time.Second
	srv, system := newTestServer(t, s)
	a, b := connect(t, srv, "a"), connect(t, srv, "b")
	round := pair(t, a, b)
	a.choose(2) // rock beats scissors: a would win a point
	b.choose(1)
	system.Root.Send(sessionPID(a), &messages.RoomGone{RoundId: round})
	if v := a.expect("void").GetVoid(); v.RoundId != round {
		t.Fatalf("void of %q, want %q", v.RoundId, round)
	}
	res := b.expect("result")
	if r := resultOf(res, "b"); r == nil || r.RoundScore != 0 {
		t.Fatalf("b's line: %v", r)
	}
	// A new connection's hi shows what the player actor holds for a.
	if hi := hiAgain(t, srv, "a"); hi.TotalScore != 0 || hi.WinStreak != 0 {
		t.Fatalf("a was told its round was void, and its record counts it: total %d streak %d", hi.TotalScore, hi.WinStreak)
	}
}

// A session whose room's result was lost after the player actor stored the
// round ends the round with that result, not with a void; also when the
// player actor was killed in between.
func TestLostRoomAfterItSettledGivesTheStoredResult(t *testing.T) {
	for _, mode := range append([]string{"none"}, killModes...) {
		t.Run(mode, func(t *testing.T) { lostAfterSettled(t, mode) })
	}
}

func lostAfterSettled(t *testing.T, mode string) {
	s := testSettings()
	s.BotFill = time.Hour // nobody but the test seats a
	srv, system := newTestServer(t, s)
	a := connect(t, srv, "a")
	a.join()
	room, _ := spawnSpy(system)
	start := &messages.Start{RoundId: "lost", GameTimeMs: 1000, RoomUsers: []*messages.RoomUser{{Uid: "a"}, {Uid: "b"}}}
	// After the join in a's mailbox: a is queued when it comes.
	system.Root.RequestWithCustomSender(sessionPID(a), start, room)
	a.expect("start")
	now := time.Now()
	computed := &messages.Result{RoundId: "lost", Result: []*messages.PlayerResult{
		{Uid: "a", Choice: 2, RoundScore: 1, TotalScore: 1, WinStreak: 1},
		{Uid: "b", Choice: 1},
	}}
	got, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{
		Uid: "a", RoundId: "lost", BaseScore: 1,
		StartedUnixMs: now.UnixMilli(), DeadlineUnixMs: now.UnixMilli(), Result: computed,
	}, time.Second).Result()
	if _, ok := got.(*messages.RoundApplied); err != nil || !ok {
		t.Fatalf("apply: %v %v", got, err)
	}
	if mode != "none" {
		kill(t, srv, KindPlayer, "a", mode)
	}
	system.Root.Send(sessionPID(a), &messages.RoomGone{RoundId: "lost"})
	res := a.expect("result")
	if len(res.GetResult().Result) != 2 || res.GetResult().RoundId != "lost" {
		t.Fatalf("result %v, want the room's two lines", res)
	}
	if r := resultOf(res, "a"); r.TotalScore != 1 || r.WinStreak != 1 || r.RoundScore != 1 {
		t.Fatalf("a's line %v, want the stored 1 1 1", r)
	}
}

// failingFor is a memory.Store whose Saves of one uid fail while down is set.
type failingFor struct {
	*memory.Store
	uid  string
	down atomic.Bool
}

func (f *failingFor) Save(uid string, rec caiquan.PlayerRecord) error {
	if uid == f.uid && f.down.Load() {
		return errDown
	}
	return f.Store.Save(uid, rec)
}

// A player actor that cannot store a round within its settle window drops
// it for good: the room tells that seat the round is void (the others get
// the result), and the round is never stored later, when the store is back.
func TestUnstoredRoundIsVoidForThatSeatAndNeverStored(t *testing.T) {
	store := &failingFor{Store: memory.New(), uid: "a"}
	srv, _, _ := newServerWith(t, testSettings(), store)
	a, b := connect(t, srv, "a"), connect(t, srv, "b")
	round := pair(t, a, b)
	store.down.Store(true)
	a.choose(2) // a wins
	b.choose(1)
	if v := a.expect("void").GetVoid(); v.RoundId != round {
		t.Fatalf("void of %q, want %q", v.RoundId, round)
	}
	if r := resultOf(b.expect("result"), "b"); r == nil || r.TotalScore != 0 {
		t.Fatalf("b's line: %v", r)
	}
	store.down.Store(false)
	pair(t, a, b)
	a.choose(2)
	b.choose(1)
	if r := resultOf(a.expect("result"), "a"); r.TotalScore != 1 || r.WinStreak != 1 {
		t.Fatalf("a's next win: total %d streak %d, want 1 1: the void round was stored", r.TotalScore, r.WinStreak)
	}
	if rec, _ := store.Store.Load("a"); rec.Total != 1 || rec.Rounds != 1 {
		t.Fatalf("a's record %+v, want the second round only", rec)
	}
}

// A player refuses a round whose settle window closed, and a round it
// refused stays refused across a restart of the actor.
func TestPlayerRefusesRoundsItMayNotApply(t *testing.T) {
	srv, system := newTestServer(t, testSettings())
	makePlayers(t, srv, system, "p")
	now := time.Now()
	ask := func(round string, started, deadline time.Time) any {
		t.Helper()
		got, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{
			Uid: "p", RoundId: round, BaseScore: 1,
			StartedUnixMs: started.UnixMilli(), DeadlineUnixMs: deadline.UnixMilli(),
		}, time.Second).Result()
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if _, ok := ask("late", now, now.Add(-time.Second)).(*messages.RoundRefused); !ok {
		t.Fatal("a round whose settle window closed was applied")
	}
	got, err := system.Root.RequestFuture(srv.d.players, &messages.AbortRound{Uid: "p", RoundId: "aborted"}, time.Second).Result()
	if _, ok := got.(*messages.RoundRefused); err != nil || !ok {
		t.Fatalf("abort: %v %v", got, err)
	}
	kill(t, srv, KindPlayer, "p", KillPanic)
	if _, ok := ask("aborted", now, now.Add(time.Second)).(*messages.RoundRefused); !ok {
		t.Fatal("an aborted round was applied after the player restarted")
	}
	if r, ok := ask("fine", now, now.Add(time.Second)).(*messages.RoundApplied); !ok || r.TotalScore != 1 {
		t.Fatalf("a round in its window: %v", r)
	}
}

// A PID from before its member restarted may name another uid's player now
// (the member gives players generated names): a settlement sent to it is not
// applied there, and the room hears a dead letter and asks the directory.
func TestPlayerAppliesOnlyItsOwnRounds(t *testing.T) {
	srv, system := newTestServer(t, testSettings())
	makePlayers(t, srv, system, "p", "q")
	_, q, ok := srv.d.inv.Find("", KindPlayer, "q")
	if !ok {
		t.Fatal("no player q")
	}
	now := time.Now()
	got, err := system.Root.RequestFuture(q, &messages.ApplyRound{
		Uid: "p", RoundId: "r1", BaseScore: 1, StartedUnixMs: now.UnixMilli(), DeadlineUnixMs: now.UnixMilli(),
	}, time.Second).Result()
	if !errors.Is(err, actor.ErrDeadLetter) {
		t.Fatalf("p's round sent to q's player: %v %v, want a dead letter", got, err)
	}
	res, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{Uid: "q", RoundId: "probe"}, time.Second).Result()
	if err != nil || res.(*messages.RoundApplied).TotalScore != 0 {
		t.Fatalf("q's record after p's round reached it: %v %v", res, err)
	}
}

// A room stopped while its players settle claims no score it has not seen
// stored: a seat whose player has not answered gets RoomGone (its session
// asks the player), not the room's own computation.
func TestRoomStoppedWhileSettlingClaimsNothingUnconfirmed(t *testing.T) {
	s := testSettings()
	s.RoundTime, s.SettleRetry = time.Hour, time.Minute // only the first, direct ask goes out
	srv, system := newTestServer(t, s)
	makePlayers(t, srv, system, "a", "b")
	silent, asked := spawnSpy(system) // a's player, as the seat names it: it never answers
	spec := &messages.RoomSpec{RoundId: "stopped"}
	var spies [2]chan any
	for i, uid := range []string{"a", "b"} {
		pid, ch := spawnSpy(system)
		spies[i] = ch
		seat := &messages.SeatInfo{Uid: uid, Session: pid}
		if uid == "a" {
			seat.Player = silent
		}
		spec.Seats = append(spec.Seats, seat)
	}
	room, err := spawnRoom(system.Root, srv.d, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range spies {
		recvType[*messages.Start](t, ch, recvTimeout)
	}
	system.Root.Send(room, &messages.RoundDeadline{RoundId: "stopped"})
	recvType[*messages.ApplyRound](t, asked, recvTimeout)
	system.Root.Stop(room)
	switch m := recv(t, spies[0], recvTimeout).(type) {
	case *messages.RoomGone:
		if m.RoundId != "stopped" {
			t.Fatalf("RoomGone of %q", m.RoundId)
		}
	default:
		t.Fatalf("a, whose player never answered, got %T %v", m, m)
	}
}

// A session whose player stored the lost round but no longer holds the
// room's result (it was made again on another member) gets the result from
// another seat's player, with its own line as stored.
func TestLostRoundResultFromAnotherSeat(t *testing.T) {
	s := testSettings()
	s.BotFill = time.Hour
	srv, system := newTestServer(t, s)
	a := connect(t, srv, "a")
	connect(t, srv, "b")
	a.join()
	room, _ := spawnSpy(system)
	start := &messages.Start{RoundId: "lost", GameTimeMs: 1000, RoomUsers: []*messages.RoomUser{{Uid: "a"}, {Uid: "b"}}}
	system.Root.RequestWithCustomSender(sessionPID(a), start, room)
	a.expect("start")
	now := time.Now()
	computed := &messages.Result{RoundId: "lost", Result: []*messages.PlayerResult{
		{Uid: "a", Choice: 2, RoundScore: 1, TotalScore: 1, WinStreak: 1},
		{Uid: "b", Choice: 1},
	}}
	for _, uid := range []string{"a", "b"} {
		apply := &messages.ApplyRound{Uid: uid, RoundId: "lost", StartedUnixMs: now.UnixMilli(), DeadlineUnixMs: now.UnixMilli()}
		if uid == "a" {
			apply.BaseScore = 1
		} else {
			apply.Result = computed // a's player holds no result
		}
		if _, err := system.Root.RequestFuture(srv.d.players, apply, time.Second).Result(); err != nil {
			t.Fatal(err)
		}
	}
	system.Root.Send(sessionPID(a), &messages.RoomGone{RoundId: "lost"})
	res := a.expect("result")
	if len(res.GetResult().Result) != 2 {
		t.Fatalf("result %v, want both seats' lines", res)
	}
	if r := resultOf(res, "a"); r.TotalScore != 1 || r.WinStreak != 1 || r.RoundScore != 1 || r.Choice != 2 {
		t.Fatalf("a's line %v", r)
	}
}

// A player that connects again while its old connection's round still runs
// is seated in no other round before that one ends.
func TestNewSessionWaitsForTheOldSessionsRound(t *testing.T) {
	s := testSettings()
	s.RoundTime = 2 * time.Second
	srv, _ := newTestServer(t, s)
	old := connect(t, srv, "a")
	old.join()
	round := old.expect("start").GetStart().RoundId // with a bot

	again := connect(t, srv, "a") // the old connection is replaced; its round runs on
	again.join()
	c := connect(t, srv, "c")
	c.join()
	for _, u := range c.expect("start").GetStart().RoomUsers {
		if u.Uid == "a" {
			t.Fatalf("a was seated again while its old round %s still ran", round)
		}
	}
	start := again.expect("start").GetStart()
	if start.RoundId == round {
		t.Fatalf("a's new session was sent its old round")
	}
}

// While members disagree about a uid's owner, two player actors of the uid
// may live: one that would refuse a round first loads the record, and
// answers with the round the other stored.
func TestPlayerRefusesNothingAnotherStored(t *testing.T) {
	store := memory.New()
	srv, system, _ := newServerWith(t, testSettings(), store)
	makePlayers(t, srv, system, "p") // this member's player, with its record loaded
	other, otherSystem, _ := newServerWith(t, testSettings(), store)
	now := time.Now()
	apply := &messages.ApplyRound{Uid: "p", RoundId: "r1", BaseScore: 1,
		StartedUnixMs: now.Add(time.Second).UnixMilli(), DeadlineUnixMs: now.Add(2 * time.Second).UnixMilli()}
	if _, err := otherSystem.Root.RequestFuture(other.d.players, apply, time.Second).Result(); err != nil {
		t.Fatal(err) // the other member's player stored r1
	}
	got, err := system.Root.RequestFuture(srv.d.players, &messages.AbortRound{Uid: "p", RoundId: "r1"}, time.Second).Result()
	if a, ok := got.(*messages.RoundApplied); err != nil || !ok || a.TotalScore != 1 {
		t.Fatalf("abort of a round the store holds: %v %v, want it applied", got, err)
	}
}

// stallStore is a memory.Store whose Saves block while stall is set, as a
// player actor stuck (or cut off) after it stored a round would be.
type stallStore struct {
	*memory.Store
	stall   atomic.Bool
	stuck   chan struct{} // one value when a Save blocks
	release chan struct{}
}

func (s *stallStore) Save(uid string, rec caiquan.PlayerRecord) error {
	if s.stall.Load() {
		s.stuck <- struct{}{}
		<-s.release
	}
	return s.Store.Save(uid, rec)
}

// A session that cannot reach its player about a lost round reads the
// store once the round's settle window has closed: a round it finds there
// ends as a result, not as a void.
func TestLostRoundReadFromTheStore(t *testing.T) {
	store := &stallStore{Store: memory.New(), stuck: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(store.release)
	s := testSettings()
	s.BotFill = time.Hour
	srv, system, _ := newServerWith(t, s, store)
	a := connect(t, srv, "a")
	a.join()
	now := time.Now()
	apply := func(round string) *messages.ApplyRound {
		return &messages.ApplyRound{Uid: "a", RoundId: round, BaseScore: 1, StartedUnixMs: now.UnixMilli(), DeadlineUnixMs: now.UnixMilli()}
	}
	lost := apply("lost")
	lost.Result = &messages.Result{RoundId: "lost", Result: []*messages.PlayerResult{
		{Uid: "a", Choice: 1, RoundScore: 1, TotalScore: 1, WinStreak: 1}, {Uid: "bot-lost-1", Choice: 3}}}
	if _, err := system.Root.RequestFuture(srv.d.players, lost, time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	store.stall.Store(true)
	system.Root.Send(srv.d.players, apply("next"))
	select {
	case <-store.stuck: // the player is stuck in its Save from now on
	case <-time.After(3 * time.Second):
		t.Fatal("the player did not save")
	}
	// A round whose deadline passed 2 s ago: its window is closed, and
	// the player that stored it is stuck.
	room, _ := spawnSpy(system)
	start := &messages.Start{RoundId: "lost", GameTimeMs: -2000, RoomUsers: []*messages.RoomUser{{Uid: "a"}, {Uid: "bot-lost-1"}}}
	system.Root.RequestWithCustomSender(sessionPID(a), start, room)
	a.expect("start")
	system.Root.Send(sessionPID(a), &messages.RoomGone{RoundId: "lost"})
	res := a.expect("result")
	if r := resultOf(res, "a"); r == nil || r.TotalScore != 1 || r.WinStreak != 1 {
		t.Fatalf("result %v, want a's stored line", res)
	}
	// The record keeps the round's whole result: the bot's line too, which
	// no player actor could tell.
	if r := resultOf(res, "bot-lost-1"); r == nil || r.Choice != 3 {
		t.Fatalf("result %v, want the bot's line as the room computed it", res)
	}
}

// A player that connects again while its old connection's round runs is
// seated afterwards with the standing that round left, not the one its
// hi showed: the room scores from the player's standing, and a seat that
// showed another would show a result the rules do not give.
func TestNewSessionSeatedWithTheStandingTheOldRoundLeft(t *testing.T) {
	s := testSettings()
	s.RoundTime, s.BotFill = time.Second, time.Hour
	srv, _ := newTestServer(t, s)
	old, b := connect(t, srv, "a"), connect(t, srv, "b")
	old.join()
	b.join()
	old.expect("start")
	b.expect("start")
	old.choose(2) // rock
	b.choose(1)   // scissors: a wins, and has a streak
	if won := resultOf(old.expect("result"), "a"); won.WinStreak == 0 {
		t.Fatalf("a's winning line %v", won)
	}
	b.expect("result")
	old.join()
	b.join()
	old.expect("start")
	b.expect("start")

	// The old connection is replaced mid-round: it leaves the room, a
	// scores no choice, and the streak its hi shows is gone.
	again := connect(t, srv, "a")
	again.join()
	b.choose(2)
	c := connect(t, srv, "c")
	c.join()
	var left *messages.PlayerResult
	for left == nil {
		select {
		case env := <-b.conn.out:
			if env.GetResult() != nil {
				left = resultOf(env, "a")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("b: no result")
		}
	}
	if left.WinStreak != 0 {
		t.Fatalf("a's line without a choice %v", left)
	}
	for _, u := range again.expect("start").GetStart().RoomUsers {
		if u.Uid == "a" && (u.TotalScore != left.TotalScore || u.WinStreak != left.WinStreak) {
			t.Fatalf("a seated with total %d streak %d, the old round left %d %d", u.TotalScore, u.WinStreak, left.TotalScore, left.WinStreak)
		}
	}
}

// lateStore is a memory.Store with SaveBy: a save that blocks while stall
// is set, and then, like a database that a cut network reaches late,
// stores nothing if its time has passed.
type lateStore struct {
	stallStore
}

func (s *lateStore) SaveBy(uid string, rec caiquan.PlayerRecord, by time.Time) error {
	if s.stall.Load() {
		s.stuck <- struct{}{}
		<-s.release
	}
	if !time.Now().Before(by) {
		return caiquan.ErrTooLate
	}
	return s.Store.Save(uid, rec)
}

// A player's save of a round that reaches the store after the round's
// settle window stores nothing, and the player refuses the round from then
// on: its session may have told its client the round was void.
func TestLateSaveStoresNothing(t *testing.T) {
	store := &lateStore{stallStore{Store: memory.New(), stuck: make(chan struct{}, 1), release: make(chan struct{})}}
	s := testSettings()
	srv, system, _ := newServerWith(t, s, store)
	makePlayers(t, srv, system, "a")
	store.stall.Store(true)
	now := time.Now()
	apply := &messages.ApplyRound{Uid: "a", RoundId: "late", BaseScore: 1, StartedUnixMs: now.UnixMilli(), DeadlineUnixMs: now.UnixMilli()}
	system.Root.Send(srv.d.players, apply)
	select {
	case <-store.stuck:
	case <-time.After(3 * time.Second):
		t.Fatal("the player did not save")
	}
	windowEnd := now.Add(s.settleWithin())
	eventually(t, "the round's settle window closed", func() bool { return time.Now().After(windowEnd) })
	store.stall.Store(false)
	close(store.release)
	var got any
	eventually(t, "the player refuses the round", func() bool {
		got, _ = system.Root.RequestFuture(srv.d.players, apply, time.Second).Result()
		_, refused := got.(*messages.RoundRefused)
		return refused
	})
	if rec, err := store.Load("a"); err != nil || rec.Total != 0 || len(rec.Recent) != 0 {
		t.Fatalf("the store holds %+v (%v) after a late save", rec, err)
	}
}

// A room that says nothing by its round's last word (its member cut off by
// a blackhole, which brings no Terminated for as long as the transport
// holds on) does not leave the client waiting: the session asks the player
// as for a lost room, and the player, which stored nothing, refuses the
// round for good.
func TestSilentRoomEndsTheRoundByItsLastWord(t *testing.T) {
	s := testSettings()
	s.BotFill = time.Hour
	srv, system := newTestServer(t, s)
	a := connect(t, srv, "a")
	a.join()
	room, _ := spawnSpy(system)
	start := &messages.Start{RoundId: "silent", GameTimeMs: 200, RoomUsers: []*messages.RoomUser{{Uid: "a"}, {Uid: "bot-silent-1"}}}
	system.Root.RequestWithCustomSender(sessionPID(a), start, room)
	a.expect("start")
	if v := a.expect("void").GetVoid(); v.RoundId != "silent" {
		t.Fatalf("void of %q, want silent", v.RoundId)
	}
	now := time.Now()
	late := &messages.ApplyRound{Uid: "a", RoundId: "silent", BaseScore: 1, StartedUnixMs: now.UnixMilli(), DeadlineUnixMs: now.UnixMilli()}
	got, err := system.Root.RequestFuture(srv.d.players, late, time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.(*messages.RoundRefused); !ok {
		t.Fatalf("the room's late ask got %T %v, want a refusal", got, got)
	}
}

// Two player actors of one uid, on members that disagree about its owner
// (a partition), share one store. One refuses a round its session lost
// (the client is told it is void); the other, which loaded the record
// before and never heard of the refusal, is then asked by the room to
// apply it. It must refuse too: the refusal is in the record, and its Save
// meets it.
func TestRefusalOfOnePlayerActorHoldsForAnother(t *testing.T) {
	store := memory.New()
	s := testSettings()
	s.BotFill = time.Hour
	srvA, systemA, _ := newServerWith(t, s, store)
	srvB, systemB, _ := newServerWith(t, s, store)
	now := time.Now()
	apply := func(round string) *messages.ApplyRound {
		return &messages.ApplyRound{Uid: "a", RoundId: round, BaseScore: 1, StartedUnixMs: now.UnixMilli(), DeadlineUnixMs: now.UnixMilli()}
	}
	ask := func(system *actor.ActorSystem, to *actor.PID, msg any) any {
		t.Helper()
		got, err := system.Root.RequestFuture(to, msg, time.Second).Result()
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// B's player of a loads the record and stores a first round.
	if got := ask(systemB, srvB.d.players, apply("first")); !isApplied(got) {
		t.Fatalf("first round: %T %v", got, got)
	}
	if got := ask(systemA, srvA.d.players, &messages.AbortRound{Uid: "a", RoundId: "lost"}); !isRefused(got) {
		t.Fatalf("A's player answered the abort with %T %v, want a refusal", got, got)
	}
	if got := ask(systemB, srvB.d.players, apply("lost")); !isRefused(got) {
		t.Fatalf("B's player answered the room with %T %v after A refused the round, want a refusal", got, got)
	}
	rec, err := store.Load("a")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Recent {
		if r.RoundID == "lost" {
			t.Fatalf("the store holds the round a's client was told was void: %+v", rec.Recent)
		}
	}
	// And the other way round: a round B stored is not refused by A.
	if got := ask(systemB, srvB.d.players, apply("kept")); !isApplied(got) {
		t.Fatalf("kept: %T %v", got, got)
	}
	if got := ask(systemA, srvA.d.players, &messages.AbortRound{Uid: "a", RoundId: "kept"}); !isApplied(got) {
		t.Fatalf("A's player answered the abort of a round B stored with %T %v, want it applied", got, got)
	}
}

func isApplied(m any) bool { _, ok := m.(*messages.RoundApplied); return ok }
func isRefused(m any) bool { _, ok := m.(*messages.RoundRefused); return ok }

// cutStore is a memory.Store cut off from its player actors: while cut,
// Saves block (the player is stuck, and answers nothing) and Loads fail.
type cutStore struct {
	*memory.Store
	cut     atomic.Bool
	stuck   chan struct{}
	release chan struct{}
}

func (s *cutStore) Save(uid string, rec caiquan.PlayerRecord) error {
	if s.cut.Load() {
		s.stuck <- struct{}{}
		<-s.release
	}
	return s.Store.Save(uid, rec)
}

func (s *cutStore) Load(uid string) (caiquan.PlayerRecord, error) {
	if s.cut.Load() {
		return caiquan.PlayerRecord{}, errors.New("cut off")
	}
	return s.Store.Load(uid)
}

// A lost round whose fate nothing in reach can tell (the player does not
// answer and the store cannot be read) is not called void: the player may
// have stored it. A client of our protocol is sent away with 1013 to
// connect again; a Socket.IO client, which may be the 2016 page that knows
// no reconnect state, gets the void.
func TestLostRoundNobodyKnows(t *testing.T) {
	for _, resumable := range []bool{true, false} {
		t.Run(map[bool]string{true: "ws", false: "socketio"}[resumable], func(t *testing.T) {
			store := &cutStore{Store: memory.New(), stuck: make(chan struct{}, 1), release: make(chan struct{})}
			defer close(store.release)
			s := testSettings()
			s.BotFill = time.Hour
			srv, system, _ := newServerWith(t, s, store)
			a := &client{t: t, conn: newFakeConn(), uid: "a"}
			a.conn.resumable = resumable
			a.s = srv.OpenSession(a.conn)
			a.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: "a"}}}})
			a.expect("hi")
			a.join()
			store.cut.Store(true)
			now := time.Now()
			system.Root.Send(srv.d.players, &messages.ApplyRound{Uid: "a", RoundId: "other", BaseScore: 1, StartedUnixMs: now.UnixMilli(), DeadlineUnixMs: now.UnixMilli()})
			select {
			case <-store.stuck:
			case <-time.After(3 * time.Second):
				t.Fatal("the player did not save")
			}
			// A round whose deadline passed 5 s ago, whose room says nothing.
			room, _ := spawnSpy(system)
			start := &messages.Start{RoundId: "lost", GameTimeMs: -5000, RoomUsers: []*messages.RoomUser{{Uid: "a"}, {Uid: "bot-lost-1"}}}
			system.Root.RequestWithCustomSender(sessionPID(a), start, room)
			a.expect("start")
			if !resumable {
				if v := a.expect("void").GetVoid(); v.RoundId != "lost" {
					t.Fatalf("void of %q, want lost", v.RoundId)
				}
				return
			}
			eventually(t, "the connection closes", func() bool { closed, _ := a.conn.closeCode(); return closed })
			if _, code := a.conn.closeCode(); code != messages.CloseTryAgain {
				t.Fatalf("closed with %d, want %d", code, messages.CloseTryAgain)
			}
			a.quiet(100 * time.Millisecond) // no void, no result
		})
	}
}

// A session that was held while a round it did not see may have run asks
// its player to read its record again (Register.reload): another player
// actor of the uid, on a member that disagreed about its owner, may have
// stored that round, and the seat must show the standing the next round
// is scored from.
func TestReloadShowsARoundAnotherPlayerActorStored(t *testing.T) {
	store := memory.New()
	s := testSettings()
	srvA, systemA, _ := newServerWith(t, s, store)
	srvB, systemB, _ := newServerWith(t, s, store)
	spy, got := spawnSpy(systemA)
	register := func(reload bool) *messages.Attached {
		t.Helper()
		systemA.Root.RequestWithCustomSender(srvA.d.players, &messages.Register{Uid: "a", Reload: reload}, spy)
		return recvType[*messages.Attached](t, got, 2*time.Second)
	}
	if at := register(false); at.TotalScore != 0 { // A's player of a holds the empty record
		t.Fatalf("first attach: %v", at)
	}
	now := time.Now()
	apply := &messages.ApplyRound{Uid: "a", RoundId: "elsewhere", BaseScore: 1, StartedUnixMs: now.UnixMilli(), DeadlineUnixMs: now.UnixMilli()}
	if res, err := systemB.Root.RequestFuture(srvB.d.players, apply, time.Second).Result(); err != nil || !isApplied(res) {
		t.Fatalf("B's player: %v, %v", res, err)
	}
	if at := register(false); at.TotalScore != 0 {
		t.Fatalf("without reload A's player shows %d; this test needs it to hold the old record", at.TotalScore)
	}
	if at := register(true); at.TotalScore != 1 || at.WinStreak != 1 {
		t.Fatalf("after reload A's player shows total %d streak %d, want the round B's player stored (1, 1)", at.TotalScore, at.WinStreak)
	}
}

// clusterPlacement is a single member that says it is part of a cluster.
type clusterPlacement struct{ localPlacement }

// placedIn is testSettings on a member of a cluster, or alone.
func placedIn(cluster bool) Settings {
	s := testSettings()
	if cluster {
		s.Placement = clusterPlacement{localPlacement{self: "nonhost"}}
	}
	return s
}

// A player actor made on a member while its uid was active a moment ago
// (on a member that died) cannot know whether a session of the uid sits in
// a round elsewhere, and neither can a lobby that moved: its first session
// joins no queue before such a round would surely be over. A uid idle for
// long, or a server alone (a restart ended every round), is not held.
func TestPlayerMadeAgainHoldsJoinsForAnUnknownRound(t *testing.T) {
	for _, c := range []struct {
		name    string
		seen    time.Duration // before now
		rounds  int
		cluster bool
		held    bool
	}{
		{"active in a cluster", 0, 1, true, true},
		{"seated in its first round in a cluster", 0, 0, true, true},
		{"idle for long", time.Hour, 1, true, false},
		{"alone", 0, 1, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := newFakeClock()
			s := placedIn(c.cluster)
			s.Clock = clock
			store := memory.New()
			if err := store.Save("a", caiquan.PlayerRecord{Rounds: c.rounds, LastSeen: clock.Now().Add(-c.seen)}); err != nil {
				t.Fatal(err)
			}
			srv, _, _ := newServerWith(t, s, store)
			a := connect(t, srv, "a")
			a.join()
			mayRun := s.RoundTime + s.settleWithin() + finalAsks*s.SettleRetry
			var advanced time.Duration
			for started := false; !started; {
				select {
				case env := <-a.conn.out:
					started = kindOf(env) == "start"
					continue
				case <-time.After(20 * time.Millisecond):
				}
				if advanced > 10*time.Second {
					t.Fatal("never seated")
				}
				clock.Advance(50 * time.Millisecond)
				advanced += 50 * time.Millisecond
			}
			if held := advanced >= mayRun; held != c.held {
				t.Fatalf("seated after %v of the clock (a round may run %v): held %v, want %v", advanced, mayRun, held, c.held)
			}
		})
	}
}

// blockStore is a memory.Store whose Saves of records that hold round
// block until release: a player actor stalled in the middle of a write.
type blockStore struct {
	*memory.Store
	round   string
	stuck   chan struct{}
	release chan struct{}
}

func (s *blockStore) Save(uid string, rec caiquan.PlayerRecord) error {
	for _, r := range rec.Recent {
		if r.RoundID == s.round {
			s.stuck <- struct{}{}
			<-s.release
		}
	}
	return s.Store.Save(uid, rec)
}

// A session that finds a lost round not stored writes its refusal into the
// record before it tells the client void: a player's save of the round
// that began earlier and commits later (its member stalled mid-write)
// then meets the refusal and stores nothing.
func TestLostRoundRefusedInTheStore(t *testing.T) {
	store := &blockStore{Store: memory.New(), round: "lost", stuck: make(chan struct{}, 1), release: make(chan struct{})}
	s := testSettings()
	s.BotFill = time.Hour
	srv, system, _ := newServerWith(t, s, store)
	a := connect(t, srv, "a")
	a.join()
	room, _ := spawnSpy(system)
	// A round whose deadline passed a second ago (its settle window is
	// closed), whose room says nothing.
	start := &messages.Start{RoundId: "lost", GameTimeMs: -1000, RoomUsers: []*messages.RoomUser{{Uid: "a"}, {Uid: "bot-lost-1"}}}
	// The player stores the round and stalls before its write lands.
	now := time.Now()
	apply := &messages.ApplyRound{Uid: "a", RoundId: "lost", BaseScore: 1, StartedUnixMs: now.UnixMilli(), DeadlineUnixMs: now.UnixMilli()}
	applied := system.Root.RequestFuture(srv.d.players, apply, 5*time.Second)
	select {
	case <-store.stuck:
	case <-time.After(3 * time.Second):
		t.Fatal("the player did not save")
	}
	system.Root.RequestWithCustomSender(sessionPID(a), start, room)
	a.expect("start")
	if v := a.expect("void").GetVoid(); v.RoundId != "lost" {
		t.Fatalf("void of %q, want lost", v.RoundId)
	}
	if rec, err := store.Load("a"); err != nil || !rec.Refuses("lost") {
		t.Fatalf("after the void the store holds %+v, %v; want the round refused", rec, err)
	}
	close(store.release) // the stalled write lands now
	res, err := applied.Result()
	if err != nil {
		t.Fatal(err)
	}
	if !isRefused(res) {
		t.Fatalf("the stalled player answered %T %v, want a refusal", res, res)
	}
	rec, err := store.Load("a")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Recent {
		if r.RoundID == "lost" {
			t.Fatalf("the store holds the round its client was told was void: %+v", rec)
		}
	}
}

// A player seated before it has any round stored writes that it was seen
// (a record with no rounds), in a cluster: a player actor made again on
// another member after this one dies then holds its joins while the round
// may run. A server alone writes nothing for it: a restart ends every round.
func TestFirstSeatIsRecordedInACluster(t *testing.T) {
	for _, cluster := range []bool{true, false} {
		t.Run(map[bool]string{true: "cluster", false: "alone"}[cluster], func(t *testing.T) {
			s := placedIn(cluster)
			store := memory.New()
			srv, _, _ := newServerWith(t, s, store)
			a := connect(t, srv, "a")
			if rec, _ := store.Load("a"); rec.Writes != 0 {
				t.Fatalf("a hello wrote %+v", rec)
			}
			a.join()
			a.expect("start")
			a.choose(1)
			a.expect("result")
			// The player handled the seat before the round's result: the
			// writes say whether the seat was stored before the round.
			rec, err := store.Load("a")
			if err != nil {
				t.Fatal(err)
			}
			want := map[bool]int64{true: 2, false: 1}[cluster]
			if rec.Writes != want || rec.Rounds != 1 {
				t.Fatalf("after the first round the store holds %+v; want %d writes", rec, want)
			}
		})
	}
}
