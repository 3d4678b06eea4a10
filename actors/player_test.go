package actors

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
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
	a := spawnPlayer(system.Root, srv.d, "p", store)
	b := spawnPlayer(system.Root, srv.d, "p", store)
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
