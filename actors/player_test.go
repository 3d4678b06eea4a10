package actors

import (
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/store/memory"
)

// The same round's settlement delivered twice changes the totals once, even
// when the player actor is stopped and made again in between.
func TestApplyRoundOnce(t *testing.T) {
	srv, system := newTestServer(t, testSettings())
	ask := func(round string, x int32) *messages.RoundApplied {
		t.Helper()
		res, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{Uid: "p", RoundId: round, BaseScore: x}, time.Second).Result()
		if err != nil {
			t.Fatal(err)
		}
		return res.(*messages.RoundApplied)
	}
	first := ask("r1", 1)
	again := ask("r1", 1)
	if first.TotalScore != 1 || again.TotalScore != 1 || again.WinStreak != 1 {
		t.Fatalf("applied twice: %v then %v", first, again)
	}
	if r := ask("r2", 1); r.TotalScore != 3 || r.RoundScore != 2 {
		t.Fatalf("second win: %v", r)
	}

	_, pid, _ := srv.d.inv.Find("", KindPlayer, "p")
	system.Root.Stop(pid)
	// Until the directory hears of the stop, asks go to the dead actor and
	// time out; a room retries the same way.
	eventually(t, "player made again from the store", func() bool {
		res, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{Uid: "p", RoundId: "r2", BaseScore: 1}, 100*time.Millisecond).Result()
		return err == nil && res.(*messages.RoundApplied).TotalScore == 3
	})
	if r := ask("r3", -1); r.TotalScore != 3 || r.WinStreak != 0 {
		t.Fatalf("loss after restart: %v", r)
	}
}

// Two player actors of one uid on one store (a cluster's moment while the
// uid moves between members) each apply a round: the store keeps both, and
// the second actor answers with totals that include the first's round.
func TestTwoPlayersOfOneUIDLoseNoRound(t *testing.T) {
	srv, system := newTestServer(t, testSettings())
	store := memory.New()
	a := spawnPlayer(system.Root, srv.d, "p", store, &playerKeep{})
	b := spawnPlayer(system.Root, srv.d, "p", store, &playerKeep{})
	ask := func(pid *actor.PID, round string) *messages.RoundApplied {
		t.Helper()
		res, err := system.Root.RequestFuture(pid, &messages.ApplyRound{Uid: "p", RoundId: round, BaseScore: 1}, time.Second).Result()
		if err != nil {
			t.Fatal(err)
		}
		return res.(*messages.RoundApplied)
	}
	if r := ask(a, "r1"); r.TotalScore != 1 {
		t.Fatalf("r1 on a: %v", r)
	}
	if r := ask(b, "r2"); r.TotalScore != 3 || r.WinStreak != 2 {
		t.Fatalf("r2 on b: %v; want total 3, streak 2 (over a's r1)", r)
	}
	if r := ask(a, "r2"); r.TotalScore != 3 {
		t.Fatalf("r2 again on a: %v; want b's answer, not a second application", r)
	}
	rec, _ := store.Load("p")
	if rec.Total != 3 || rec.Rounds != 2 {
		t.Fatalf("stored %+v; want both rounds", rec)
	}
}

// A player with a session attached keeps no idle timer however long it
// idles; once its session is gone it stops after playerIdle.
func TestPlayerIdlesOutOnlyWithoutASession(t *testing.T) {
	srv, _ := newTestServer(t, testSettings())
	srv.d.playerIdle = 200 * time.Millisecond // before any player exists
	live := func(uid string) bool {
		for _, a := range srv.Inventory().List(KindPlayer) {
			if a.ID == uid {
				return true
			}
		}
		return false
	}
	connect(t, srv, "b")
	a := connect(t, srv, "a")
	a.s.Closed("gone")
	eventually(t, "player a stopped", func() bool { return !live("a") })
	// b has heard nothing since before a's session closed: an idle timer
	// of b's would have ended it before a's ended a.
	if !live("b") {
		t.Fatal("player b stopped with its session attached")
	}
}

// countingStore counts the Saves of each uid.
type countingStore struct {
	caiquan.Store
	mu    sync.Mutex
	saves map[string]int
}

func (s *countingStore) Save(uid string, rec caiquan.PlayerRecord) error {
	s.mu.Lock()
	s.saves[uid]++
	s.mu.Unlock()
	return s.Store.Save(uid, rec)
}

func (s *countingStore) count(uid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves[uid]
}

// A hello of a player that never finished a round writes nothing (uids
// cost nothing to make; only playing may cost the store), yet its name
// shows in the room; the first round stores the record with the name, and
// a later hello of a player with rounds updates it.
func TestNoRecordBeforeARound(t *testing.T) {
	system := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	})))
	t.Cleanup(system.Shutdown)
	store := &countingStore{Store: memory.New(), saves: map[string]int{}}
	s := testSettings()
	s.BotFill = 5 * time.Second // a and b meet each other
	srv, err := NewServer(system, s, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := connect(t, srv, "a"), connect(t, srv, "b")
	a.join()
	b.join()
	start := a.expect("start")
	b.expect("start")
	var names []string
	for _, u := range start.GetStart().RoomUsers {
		names = append(names, u.Uid+"="+u.Uname)
	}
	if !slices.Contains(names, "b=b") {
		t.Fatalf("start seats %v; want b under its name", names)
	}
	a.choose(2)
	b.choose(1)
	a.expect("result")
	b.expect("result")
	// Each player's mailbox had its hello's Attach before the round's
	// ApplyRound: one Save each means the hello wrote nothing.
	for _, uid := range []string{"a", "b"} {
		if n := store.count(uid); n != 1 {
			t.Errorf("%s: %d saves after hello and one round; want 1 (the round's)", uid, n)
		}
		rec, _ := store.Load(uid)
		if rec.Rounds != 1 || rec.Uname != uid {
			t.Errorf("%s: stored %+v; want one round under its name", uid, rec)
		}
	}

	// Only saying hello: nothing stored, ever. A second Attach, answered
	// once the player has handled the first (and its would-be save), is the
	// signal to look.
	connect(t, srv, "lurker")
	c := connect(t, srv, "a") // replaces a's session: a has rounds, so its hello is saved
	eventually(t, "a's second hello saved", func() bool { return store.count("a") == 2 })
	c.s.Closed("done")
	_, lurker, ok := srv.d.inv.Find("", KindPlayer, "lurker")
	if !ok {
		t.Fatal("no player actor for lurker")
	}
	spy, got := spawnSpy(system)
	system.Root.Send(lurker, &messages.Attach{Session: spy, Uname: "lurker"})
	select {
	case <-got:
	case <-time.After(3 * time.Second):
		t.Fatal("lurker's player did not answer a second Attach")
	}
	if n := store.count("lurker"); n != 0 {
		t.Errorf("lurker, who never played, was saved %d times", n)
	}
	if rec, _ := store.Load("lurker"); rec.Writes != 0 {
		t.Errorf("lurker has a record: %+v", rec)
	}
}
