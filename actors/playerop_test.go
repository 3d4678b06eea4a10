package actors

import (
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/store/memory"
)

// TestPlayerOps: an operator's reset, rename and ban, and the player's own
// deletion, go through the live player actor: its cached record does not
// write over them, a ban closes the attached session and refuses the next
// hello, a deletion leaves the store without the uid.
func TestPlayerOps(t *testing.T) {
	system := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	})))
	t.Cleanup(system.Shutdown)
	store := memory.New()
	srv, err := NewServer(system, testSettings(), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	apply := func(round string) *messages.RoundApplied {
		t.Helper()
		res, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{Uid: "p", RoundId: round, BaseScore: 1}, time.Second).Result()
		if err != nil {
			t.Fatal(err)
		}
		return res.(*messages.RoundApplied)
	}
	op := func(name, uname string) bool {
		t.Helper()
		kicked, err := srv.PlayerOp("p", name, uname)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return kicked
	}
	c := connect(t, srv, "p")
	apply("r1")
	if r := apply("r2"); r.TotalScore != 3 {
		t.Fatalf("two wins: %v", r)
	}

	if op(OpReset, "") {
		t.Error("reset kicked the session")
	}
	if r := apply("r3"); r.TotalScore != 1 || r.WinStreak != 1 {
		t.Fatalf("a win after reset: %v; want total 1, streak 1", r)
	}
	if r := apply("r2"); r.TotalScore != 3 {
		t.Fatalf("r2 settled again after reset: %v; want its first answer, not applied again", r)
	}

	op(OpRename, "Boss")
	apply("r4") // the session's own name "p" is saved with every round
	if rec, _ := store.Load("p"); rec.Uname != "Boss" || !rec.Renamed {
		t.Fatalf("after rename and a round: %+v", rec)
	}

	if !op(OpBan, "") {
		t.Error("ban did not kick the attached session")
	}
	c.expect("error:banned")
	eventually(t, "the banned session closed with 4005", func() bool {
		closed, code := c.conn.closeCode()
		return closed && code == messages.CloseBanned
	})
	again := &client{t: t, conn: newFakeConn(), uid: "p"}
	again.s = srv.OpenSession(again.conn)
	again.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: "p"}}}})
	again.expect("error:banned")
	op(OpUnban, "")
	again.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: "p"}}}})
	again.expect("hi")

	if !op(OpDelete, "") {
		t.Error("delete did not kick the attached session")
	}
	if rec, _ := store.Load("p"); rec.Writes != 0 || rec.Rounds != 0 {
		t.Fatalf("after delete the store has %+v", rec)
	}
	if r := apply("r5"); r.TotalScore != 1 {
		t.Fatalf("a win after delete: %v; want a fresh record", r)
	}
	if _, err := srv.PlayerOp("p", "explode", ""); err == nil {
		t.Error("an unknown operation was taken")
	}
}
