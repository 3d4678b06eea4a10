package actors

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/store/memory"
)

// unansweredStore is a memory.Store behind a network that, while cut for
// one uid, delivers that uid's writes (the first one lands) but never
// their answers (caiquan.ErrMaybeStored), and cannot be read.
type unansweredStore struct {
	*memory.Store
	uid string
	cut atomic.Bool
}

func (s *unansweredStore) Save(uid string, rec caiquan.PlayerRecord) error {
	if uid == s.uid && s.cut.Load() {
		err := s.Store.Save(uid, rec)
		return fmt.Errorf("%w: no answer (%v)", caiquan.ErrMaybeStored, err)
	}
	return s.Store.Save(uid, rec)
}

func (s *unansweredStore) Load(uid string) (caiquan.PlayerRecord, error) {
	if uid == s.uid && s.cut.Load() {
		return caiquan.PlayerRecord{}, errors.New("cut off")
	}
	return s.Store.Load(uid)
}

// A round whose save went out unanswered may be stored: when its window
// closes with the store still out of reach, the player does not refuse
// it, so nobody tells the client it was void. Its session sends it away
// to try again (1013), and when it comes back its hi shows the round the
// store holds.
func TestUnansweredSaveIsNeverCalledVoid(t *testing.T) {
	store := &unansweredStore{Store: memory.New(), uid: "a"}
	srv, _, _ := newServerWith(t, testSettings(), store)
	a := &client{t: t, conn: newFakeConn(), uid: "a"}
	a.conn.resumable = true
	a.s = srv.OpenSession(a.conn)
	a.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: "a"}}}})
	a.expect("hi")
	b := connect(t, srv, "b")
	round := pair(t, a, b)
	store.cut.Store(true)
	a.choose(2) // a wins
	b.choose(1)
	if r := resultOf(b.expect("result"), "b"); r == nil || r.TotalScore != 0 {
		t.Fatalf("b's line: %v", r)
	}
	// The session asks until lostRoundWait after the deadline.
	for end := time.Now().Add(lostRoundWait + 3*time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if closed, _ := a.conn.closeCode(); closed {
			break
		}
	}
	if _, code := a.conn.closeCode(); code != messages.CloseTryAgain {
		t.Fatalf("a closed with %d, want %d (try again)", code, messages.CloseTryAgain)
	}
	for len(a.conn.out) > 0 {
		if env := <-a.conn.out; env.GetVoid() != nil || env.GetResult() != nil {
			t.Fatalf("a was told %s of round %s while nobody could say", kindOf(env), round)
		}
	}
	store.cut.Store(false)
	rec, err := store.Load("a")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Total != 1 || rec.Rounds != 1 || rec.Refuses(round) {
		t.Fatalf("the store holds %+v; want the round a won", rec)
	}
	if hi := hiAgain(t, srv, "a"); hi.TotalScore != 1 || hi.WinStreak != 1 {
		t.Fatalf("a's hi after the store came back: total %d streak %d, want 1 1", hi.TotalScore, hi.WinStreak)
	}
}

// In a cluster, a player actor that never saw a round and cannot reach the
// store does not refuse it: another player actor of the uid (on a member
// that thought it owned the uid) may have stored it. It answers nothing,
// and the session decides (the store, or a try-again). Alone, it is the
// uid's only player actor, and its memory is the answer.
func TestPlayerCutOffFromTheStoreRefusesNothingInACluster(t *testing.T) {
	for _, cluster := range []bool{true, false} {
		t.Run(map[bool]string{true: "cluster", false: "alone"}[cluster], func(t *testing.T) {
			s := placedIn(cluster)
			store := &unansweredStore{Store: memory.New(), uid: "a"}
			srv, system, _ := newServerWith(t, s, store)
			connect(t, srv, "a") // the player has its record
			store.cut.Store(true)
			past := time.Now().Add(-time.Minute).UnixMilli()
			for _, ask := range []any{
				&messages.ApplyRound{Uid: "a", RoundId: "elsewhere", BaseScore: 1, StartedUnixMs: past, DeadlineUnixMs: past},
				&messages.AbortRound{Uid: "a", RoundId: "elsewhere"},
			} {
				res, err := system.Root.RequestFuture(srv.d.players, ask, 500*time.Millisecond).Result()
				if cluster && err == nil {
					t.Fatalf("%T: answered %T %v while the store was out of reach", ask, res, res)
				}
				if !cluster && !isRefused(res) {
					t.Fatalf("%T: answered %T %v (%v), want a refusal", ask, res, res, err)
				}
			}
		})
	}
}

// A player actor asked about a round past its window, which it never saw,
// writes the refusal before it answers: another player actor of the uid
// (members that disagreed about its owner) may have a save of the round
// on its way, made over the record as it was. That save then stores
// nothing, so the store never holds a round the room called void.
func TestLateAskIsRefusedInTheStore(t *testing.T) {
	store := memory.New()
	srv, system, _ := newServerWith(t, testSettings(), store)
	a := connect(t, srv, "a")
	a.join()
	a.expect("start")
	a.choose(1)
	a.expect("result")
	rec, err := store.Load("a")
	if err != nil {
		t.Fatal(err)
	}
	// The other player actor's write, made before the refusal.
	other, _, _ := caiquan.ApplyRoundWith(rec, "elsewhere", 1, nil)
	past := time.Now().Add(-time.Minute).UnixMilli()
	ask := &messages.ApplyRound{Uid: "a", RoundId: "elsewhere", BaseScore: 1, StartedUnixMs: past, DeadlineUnixMs: past}
	res, err := system.Root.RequestFuture(srv.d.players, ask, 3*time.Second).Result()
	if err != nil || !isRefused(res) {
		t.Fatalf("the late ask got %T %v (%v), want a refusal", res, res, err)
	}
	if err := store.Save("a", other); !errors.Is(err, caiquan.ErrStale) {
		t.Fatalf("the other player actor's save after the refusal: %v, want ErrStale", err)
	}
	if rec, _ := store.Load("a"); !rec.Refuses("elsewhere") {
		t.Fatalf("the store holds %+v; want the round refused", rec)
	}
}
