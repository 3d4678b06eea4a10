package actors

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/store/memory"
)

// brokenStore is a memory.Store whose calls fail while down is set, as a
// database that went away would; it counts the calls.
type brokenStore struct {
	*memory.Store
	down         atomic.Bool
	loads, saves atomic.Int32
}

var errDown = errors.New("store is down")

func (b *brokenStore) Load(uid string) (caiquan.PlayerRecord, error) {
	b.loads.Add(1)
	if b.down.Load() {
		return caiquan.PlayerRecord{}, errDown
	}
	return b.Store.Load(uid)
}

func (b *brokenStore) Save(uid string, rec caiquan.PlayerRecord) error {
	b.saves.Add(1)
	if b.down.Load() {
		return errDown
	}
	return b.Store.Save(uid, rec)
}

// newServerWith is newTestServer on a given store; stop shuts the actor
// system down (once, also at the end of the test).
func newServerWith(t *testing.T, s Settings, store caiquan.Store) (srv *Server, system *actor.ActorSystem, stop func()) {
	t.Helper()
	system = actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	})))
	var once sync.Once
	stop = func() { once.Do(system.Shutdown) }
	t.Cleanup(stop)
	srv, err := NewServer(system, s, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv, system, stop
}

// A store that fails Load makes the player fail; the directory restarts it
// with growing pauses instead of spinning, the client is told to try again,
// and once the store is back the same player answers with its record.
func TestLoadFailureRestartsPlayerWithBackoff(t *testing.T) {
	store := &brokenStore{Store: memory.New()}
	store.Store.Save("p", caiquan.PlayerRecord{Rounds: 3})
	rec, _ := store.Store.Load("p")
	rec.Total, rec.Streak = 5, 2
	store.Store.Save("p", rec)
	store.down.Store(true)

	s := testSettings()
	s.AttachTimeout = 700 * time.Millisecond
	srv, _, _ := newServerWith(t, s, store)
	c := &client{t: t, conn: newFakeConn(), uid: "p"}
	began := time.Now()
	c.s = srv.OpenSession(c.conn)
	c.send(hello("p", ""))
	c.expect("error:" + messages.CodeServerBusy)

	// Six loads are the first start and five restarts, the last four after
	// pauses of 50, 100, 200 and 400 ms: at least 750 ms, where restarting
	// at once would take microseconds. Slowness only lengthens it.
	eventually(t, "six loads while the store is down", func() bool { return store.loads.Load() >= 6 })
	if took := time.Since(began); took < 750*time.Millisecond {
		t.Fatalf("six loads within %v: the restarts do not back off", took)
	}
	if _, _, ok := srv.d.inv.Find("", KindPlayer, "p"); !ok {
		t.Fatal("the player was given up")
	}

	store.down.Store(false)
	// The next restart is at most playerBackoffMax away; hello again until hi.
	deadline := time.Now().Add(playerBackoffMax + 3*time.Second)
	for {
		c.send(hello("p", ""))
		env := recv(t, c.conn.out, recvTimeout)
		if hi := env.GetHi(); hi != nil {
			if hi.TotalScore != 5 || hi.WinStreak != 2 {
				t.Fatalf("hi after the store came back = %v, want total 5, streak 2", hi)
			}
			break
		}
		if k := kindOf(env); k != "error:"+messages.CodeServerBusy && k != "error:"+messages.CodeAlreadyHello {
			t.Fatalf("got %s %v", k, env)
		}
		if time.Now().After(deadline) {
			t.Fatal("no hi after the store came back")
		}
		time.Sleep(100 * time.Millisecond) // a pause between hellos, not a wait for an event
	}
}

// A Save that fails is not a confirmation: the room's retry applies the
// round when the store takes it, once.
func TestSaveFailureIsNotConfirmed(t *testing.T) {
	store := &brokenStore{Store: memory.New()}
	srv, system, _ := newServerWith(t, testSettings(), store)
	ask := func(round string, timeout time.Duration) (*messages.RoundApplied, error) {
		res, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{Uid: "p", RoundId: round, BaseScore: 1}, timeout).Result()
		if err != nil {
			return nil, err
		}
		return res.(*messages.RoundApplied), nil
	}
	if r, err := ask("r0", time.Second); err != nil || r.TotalScore != 1 {
		t.Fatalf("r0: %v %v", r, err)
	}
	store.down.Store(true)
	if r, err := ask("r1", 300*time.Millisecond); err == nil {
		t.Fatalf("r1 was confirmed (%v) while the store was down", r)
	}
	store.down.Store(false)
	for range 2 {
		if r, err := ask("r1", time.Second); err != nil || r.TotalScore != 3 || r.WinStreak != 2 {
			t.Fatalf("r1 retried: %v %v; want total 3, streak 2", r, err)
		}
	}
	if got, _ := store.Store.Load("p"); got.Total != 3 || got.Rounds != 2 {
		t.Fatalf("stored %+v; want r0 and r1 once each", got)
	}
}

// The process dies between the write and the reply: a new node on the same
// store answers the retried settlement from the record, without applying it.
func TestSettlementAfterRestartAppliesOnce(t *testing.T) {
	store := memory.New()
	srvA, sysA, stopA := newServerWith(t, testSettings(), store)
	res, err := sysA.Root.RequestFuture(srvA.d.players, &messages.ApplyRound{Uid: "p", RoundId: "r1", BaseScore: 1}, time.Second).Result()
	if err != nil || res.(*messages.RoundApplied).TotalScore != 1 {
		t.Fatalf("first apply: %v %v", res, err)
	}
	stopA() // the reply is lost with the node

	srvB, sysB, _ := newServerWith(t, testSettings(), store)
	for _, round := range []string{"r1", "r1"} {
		res, err := sysB.Root.RequestFuture(srvB.d.players, &messages.ApplyRound{Uid: "p", RoundId: round, BaseScore: 1}, time.Second).Result()
		if err != nil {
			t.Fatal(err)
		}
		if r := res.(*messages.RoundApplied); r.TotalScore != 1 || r.WinStreak != 1 || r.RoundScore != 1 {
			t.Fatalf("r1 retried on the new node: %v; want the first answer", r)
		}
	}
	if rec, _ := store.Load("p"); rec.Total != 1 || rec.Rounds != 1 {
		t.Fatalf("record %+v; want the round once", rec)
	}
}

// A round the store refused, that the room then stopped asking about, is
// still stored by the player once the store is back (this one names no
// deadline, as a room of the previous release: its window never closes),
// and a later round is applied after it: totals never go back.
func TestOwedRoundStoredWithoutTheRoom(t *testing.T) {
	store := &brokenStore{Store: memory.New()}
	srv, system, _ := newServerWith(t, testSettings(), store)
	ask := func(round string, timeout time.Duration) (*messages.RoundApplied, error) {
		res, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{Uid: "p", RoundId: round, BaseScore: 1}, timeout).Result()
		if err != nil {
			return nil, err
		}
		return res.(*messages.RoundApplied), nil
	}
	if r, err := ask("r0", time.Second); err != nil || r.TotalScore != 1 {
		t.Fatalf("r0: %v %v", r, err)
	}
	store.down.Store(true)
	if _, err := ask("r1", 200*time.Millisecond); err == nil {
		t.Fatal("r1 confirmed while the store was down")
	}
	// The player retries on its own meanwhile, and fails at least once.
	failed := store.saves.Load()
	eventually(t, "a retried save while the store is down", func() bool { return store.saves.Load() > failed })
	store.down.Store(false)
	eventually(t, "r1 stored by the player's own retry", func() bool {
		rec, _ := store.Store.Load("p")
		return rec.Total == 3 && rec.Rounds == 2
	})
	if r, err := ask("r2", time.Second); err != nil || r.TotalScore != 6 || r.WinStreak != 3 {
		t.Fatalf("r2 after the owed r1: %v %v; want total 6, streak 3", r, err)
	}
}
