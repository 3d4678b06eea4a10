package actors

import (
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
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
