// Package storetest is the behaviour every caiquan.Store must show, as one
// suite that each implementation's tests run against a real instance.
package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// Opener gives a test an empty store, and a way to open the same data again
// (a new process would); reopen closes the store it replaces.
type Opener func(t *testing.T) (s caiquan.Store, reopen func() caiquan.Store)

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open) })
	t.Run("SettlementTwiceAppliesOnce", func(t *testing.T) { testTwice(t, open) })
	t.Run("Leaderboard", func(t *testing.T) { testLeaderboard(t, open) })
	t.Run("StaleSaveRefused", func(t *testing.T) { testStale(t, open) })
	t.Run("GuestsExpire", func(t *testing.T) { testExpire(t, open) })
	t.Run("Avatars", func(t *testing.T) { testAvatars(t, open) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open) })
	t.Run("ExpiredGuestLosesAvatar", func(t *testing.T) { testExpireAvatar(t, open) })
}

// pl is s as a caiquan.Players; every store of this release is one.
func pl(t *testing.T, s caiquan.Store) caiquan.Players {
	t.Helper()
	p, ok := s.(caiquan.Players)
	if !ok {
		t.Fatalf("%T does not implement caiquan.Players", s)
	}
	return p
}

// avatarOf checks what Avatar(name) answers: want, or ErrNoAvatar for nil.
func avatarOf(t *testing.T, s caiquan.Store, name string, want []byte) {
	t.Helper()
	a, err := pl(t, s).Avatar(name)
	if want == nil {
		if !errors.Is(err, caiquan.ErrNoAvatar) {
			t.Errorf("Avatar(%q) = %d bytes, %v; want ErrNoAvatar", name, len(a.Data), err)
		}
		return
	}
	if err != nil || string(a.Data) != string(want) || a.Name != name {
		t.Errorf("Avatar(%q) = %q (%q), %v; want %q", name, a.Data, a.Name, err, want)
	}
}

// testAvatars: a picture is kept by name across a reopen; a new one of the
// same uid replaces (and removes) the old; other players' stay.
func testAvatars(t *testing.T, open Opener) {
	s, reopen := open(t)
	avatarOf(t, s, "nothing.png", nil)
	first := []byte("\x89PNG first\x00\xff")
	if err := pl(t, s).PutAvatar("ann", caiquan.Avatar{Name: "a1.png", Data: first}); err != nil {
		t.Fatal(err)
	}
	if err := pl(t, s).PutAvatar("bob", caiquan.Avatar{Name: "b1.jpg", Data: []byte("bob's")}); err != nil {
		t.Fatal(err)
	}
	s = reopen()
	avatarOf(t, s, "a1.png", first)
	if err := pl(t, s).PutAvatar("ann", caiquan.Avatar{Name: "a2.jpg", Data: []byte("second")}); err != nil {
		t.Fatal(err)
	}
	for _, again := range []bool{false, true} {
		if again {
			s = reopen()
		}
		avatarOf(t, s, "a1.png", nil)
		avatarOf(t, s, "a2.jpg", []byte("second"))
		avatarOf(t, s, "b1.jpg", []byte("bob's"))
	}
}

// testDelete: a deleted player's record, leaderboard line and picture are
// gone, after a reopen too; others stay; the uid starts afresh.
func testDelete(t *testing.T, open Opener) {
	s, reopen := open(t)
	for uid, total := range map[string]int32{"gone": 9, "kept": 4} {
		if err := s.Save(uid, caiquan.PlayerRecord{Standing: rules.Standing{Total: total}, Rounds: 2, Uname: uid}); err != nil {
			t.Fatal(err)
		}
		if err := pl(t, s).PutAvatar(uid, caiquan.Avatar{Name: uid + ".png", Data: []byte(uid)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pl(t, s).Delete("gone"); err != nil {
		t.Fatal(err)
	}
	if err := pl(t, s).Delete("never-was"); err != nil {
		t.Fatalf("Delete of an unknown uid: %v", err)
	}
	for _, again := range []bool{false, true} {
		if again {
			s = reopen()
		}
		if rec, err := s.Load("gone"); err != nil || !reflect.DeepEqual(rec, caiquan.PlayerRecord{}) {
			t.Errorf("Load after Delete = %+v, %v; want the zero record", rec, err)
		}
		avatarOf(t, s, "gone.png", nil)
		avatarOf(t, s, "kept.png", []byte("kept"))
		top, err := s.Top(10)
		if err != nil {
			t.Fatal(err)
		}
		if got := lines(top); got != "[ 1:kept(4) ]" {
			t.Errorf("Top after Delete = %s", got)
		}
		if _, err := s.Around("gone", 1); !errors.Is(err, caiquan.ErrNoPlayer) {
			t.Errorf("Around(a deleted player) = %v; want ErrNoPlayer", err)
		}
	}
	if err := s.Save("gone", caiquan.PlayerRecord{Rounds: 1}); err != nil {
		t.Errorf("Save of a deleted uid anew: %v", err)
	}
}

// testExpireAvatar: an expired guest's picture goes with its record.
func testExpireAvatar(t *testing.T, open Opener) {
	s, reopen := open(t)
	cutoff := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for uid, seen := range map[string]time.Time{"g-old": cutoff.Add(-time.Hour), "g-new": cutoff.Add(time.Hour)} {
		if err := s.Save(uid, caiquan.PlayerRecord{Rounds: 1, LastSeen: seen}); err != nil {
			t.Fatal(err)
		}
		if err := pl(t, s).PutAvatar(uid, caiquan.Avatar{Name: uid + ".png", Data: []byte(uid)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Expire(cutoff); err != nil || n != 1 {
		t.Fatalf("Expire = %d, %v; want 1", n, err)
	}
	s = reopen()
	avatarOf(t, s, "g-old.png", nil)
	avatarOf(t, s, "g-new.png", []byte("g-new"))
}

func testRoundTrip(t *testing.T, open Opener) {
	s, reopen := open(t)
	if rec, err := s.Load("nobody"); err != nil || !reflect.DeepEqual(rec, caiquan.PlayerRecord{}) {
		t.Fatalf("Load(unknown) = %+v, %v; want the zero record", rec, err)
	}
	want := caiquan.PlayerRecord{
		Standing: rules.Standing{Total: 7, Streak: 2},
		Rounds:   5,
		Uname:    "小明 Ming",
		Uavatar:  "https://example.com/a.png",
		LastSeen: time.Date(2026, 5, 1, 12, 30, 15, 123456000, time.UTC),
		Renamed:  true,
		Banned:   true,
	}
	for i := range 40 { // more than a player keeps, to see nothing is cut or reordered
		want.Recent = append(want.Recent, caiquan.AppliedRound{RoundID: fmt.Sprintf("r-%d", i),
			Outcome: rules.Outcome{RoundScore: int32(i), Standing: rules.Standing{Total: int32(100 + i), Streak: int32(i % 3)}}})
	}
	// The newest round's whole result (a seat of another player and a bot's).
	want.LastLines = []caiquan.ResultLine{
		{UID: "ming", Choice: 2, Outcome: want.Recent[len(want.Recent)-1].Outcome},
		{UID: "bot-r-39-1", Choice: 3},
	}
	want.Refused = []string{"r-lost-1", "r-lost-2"}
	if err := s.Save("ming", want); err != nil {
		t.Fatal(err)
	}
	want.Writes = 1 // one Save made it
	for _, again := range []bool{false, true} {
		st := s
		if again {
			st = reopen()
		}
		got, err := st.Load("ming")
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastSeen.Equal(want.LastSeen) {
			t.Errorf("LastSeen = %v, want %v", got.LastSeen, want.LastSeen)
		}
		got.LastSeen = want.LastSeen
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Load after Save:\n got %+v\nwant %+v", got, want)
		}
	}
}

// testTwice: a settlement applied, saved, and delivered again after the
// store was opened anew (a player made again, or a process restarted,
// between the write and the reply) changes the record once.
func testTwice(t *testing.T, open Opener) {
	s, reopen := open(t)
	apply := func(st caiquan.Store, round string, base int) (caiquan.AppliedRound, bool) {
		t.Helper()
		rec, err := st.Load("p")
		if err != nil {
			t.Fatal(err)
		}
		next, applied, fresh := caiquan.ApplyRound(rec, round, base)
		if fresh {
			if err := st.Save("p", next); err != nil {
				t.Fatal(err)
			}
		}
		return applied, fresh
	}
	if a, fresh := apply(s, "r1", 1); !fresh || a.Total != 1 {
		t.Fatalf("r1: %+v fresh=%v", a, fresh)
	}
	if a, fresh := apply(s, "r2", 1); !fresh || a.Total != 3 || a.Streak != 2 {
		t.Fatalf("r2: %+v fresh=%v", a, fresh)
	}
	s = reopen()
	if a, fresh := apply(s, "r2", 1); fresh || a.Total != 3 || a.RoundScore != 2 {
		t.Fatalf("r2 again after reopening: %+v fresh=%v; want the first answer, not applied", a, fresh)
	}
	if a, fresh := apply(s, "r1", 1); fresh || a.Total != 1 {
		t.Fatalf("r1 again: %+v fresh=%v", a, fresh)
	}
	rec, err := s.Load("p")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Total != 3 || rec.Streak != 2 || rec.Rounds != 2 {
		t.Fatalf("record after repeats = %+v; want total 3, streak 2, 2 rounds", rec)
	}
}

// The known set: ties on total sort by uid in byte order ("B" before "a");
// a player who never finished a round is not on the board.
var players = []struct {
	uid           string
	total, streak int32
	rounds        int
}{
	{"dora", 10, 1, 9},
	{"a", 7, 0, 8},
	{"B", 7, 2, 7},
	{"carl", 7, 1, 6},
	{"eve", 12, 3, 5},
	{"fay", 0, 0, 3},
	{"gus", 3, 0, 2},
	{"idle", 0, 0, 0},
}

// want in order: rank uid
var board = []struct {
	rank int
	uid  string
}{{1, "eve"}, {2, "dora"}, {3, "B"}, {3, "a"}, {3, "carl"}, {6, "gus"}, {7, "fay"}}

func testLeaderboard(t *testing.T, open Opener) {
	s, reopen := open(t)
	// "carl" first saved with another total, to see that a move leaves no trace.
	if err := s.Save("carl", caiquan.PlayerRecord{Standing: rules.Standing{Total: 99}, Rounds: 1}); err != nil {
		t.Fatal(err)
	}
	for _, p := range players {
		rec := caiquan.PlayerRecord{Standing: rules.Standing{Total: p.total, Streak: p.streak}, Rounds: p.rounds, Uname: "N" + p.uid, Uavatar: "A" + p.uid}
		if p.uid == "carl" {
			rec.Writes = 1 // over the record saved above
		}
		if err := s.Save(p.uid, rec); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string, got []caiquan.RankedPlayer, err error, from, to int) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := board[from:to]
		if len(got) != len(want) {
			t.Fatalf("%s = %s, want %v", name, lines(got), want)
		}
		for i, w := range want {
			g := got[i]
			if g.UID != w.uid || g.Rank != w.rank || g.Uname != "N"+w.uid || g.Uavatar != "A"+w.uid {
				t.Fatalf("%s = %s, want %v", name, lines(got), want)
			}
			for _, p := range players {
				if p.uid == g.UID && (p.total != g.Total || p.streak != g.Streak) {
					t.Fatalf("%s: %s has %d/%d, want %d/%d", name, g.UID, g.Total, g.Streak, p.total, p.streak)
				}
			}
		}
	}
	for _, again := range []bool{false, true} {
		st := s
		if again {
			st = reopen()
		}
		got, err := st.Top(3)
		check("Top(3)", got, err, 0, 3)
		got, err = st.Top(100)
		check("Top(100)", got, err, 0, len(board))
		got, err = st.Around("a", 2)
		check(`Around("a", 2)`, got, err, 1, 6)
		got, err = st.Around("eve", 2)
		check(`Around("eve", 2)`, got, err, 0, 3)
		got, err = st.Around("fay", 1)
		check(`Around("fay", 1)`, got, err, 5, 7)
		got, err = st.Around("carl", 0)
		check(`Around("carl", 0)`, got, err, 4, 5)
		for _, uid := range []string{"idle", "nobody"} {
			if got, err := st.Around(uid, 2); !errors.Is(err, caiquan.ErrNoPlayer) {
				t.Errorf("Around(%q) = %s, %v; want ErrNoPlayer", uid, lines(got), err)
			}
		}
	}
}

func lines(ps []caiquan.RankedPlayer) string {
	out := "["
	for _, p := range ps {
		out += fmt.Sprintf(" %d:%s(%d)", p.Rank, p.UID, p.Total)
	}
	return out + " ]"
}

// testStale: two writers of one uid that loaded the same record (two
// player actors, for a moment, in a cluster): the second Save is refused,
// so it cannot overwrite the first one's round; loaded again, it goes in.
func testStale(t *testing.T, open Opener) {
	s, reopen := open(t)
	if err := s.Save("p", caiquan.PlayerRecord{Rounds: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("p", caiquan.PlayerRecord{Rounds: 9}); !errors.Is(err, caiquan.ErrStale) {
		t.Fatalf("a second Save of a new record: %v, want ErrStale", err)
	}
	a, _ := s.Load("p")
	b, _ := s.Load("p")
	a1, _, _ := caiquan.ApplyRound(a, "ra", 1)
	b1, _, _ := caiquan.ApplyRound(b, "rb", 1)
	if err := s.Save("p", a1); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("p", b1); !errors.Is(err, caiquan.ErrStale) {
		t.Fatalf("Save over a record saved since it was loaded: %v, want ErrStale", err)
	}
	s = reopen()
	b, err := s.Load("p")
	if err != nil {
		t.Fatal(err)
	}
	b1, _, _ = caiquan.ApplyRound(b, "rb", 1)
	if err := s.Save("p", b1); err != nil {
		t.Fatalf("Save after loading again: %v", err)
	}
	got, _ := s.Load("p")
	if got.Rounds != 3 || got.Total != 3 || got.Writes != 3 || len(got.Recent) != 2 {
		t.Errorf("after both rounds: %+v; want rounds 3, total 3 (1 then 2), writes 3, both rounds recent", got)
	}
}

// testExpire: guests unseen since the cutoff go, with their leaderboard
// lines; guests seen since, guests of unknown age (no last seen) and
// WeChat players (however old) stay.
func testExpire(t *testing.T, open Opener) {
	s, reopen := open(t)
	cutoff := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	old, recent := cutoff.Add(-time.Hour), cutoff.Add(time.Hour)
	recs := map[string]caiquan.PlayerRecord{
		"guest-old":    {Standing: rules.Standing{Total: 9}, Rounds: 3, LastSeen: old},
		"guest-never":  {Rounds: 0},
		"guest-recent": {Standing: rules.Standing{Total: 5}, Rounds: 2, LastSeen: recent},
		"wx_old":       {Standing: rules.Standing{Total: 7}, Rounds: 1, LastSeen: old},
		"wx_never":     {},
	}
	for uid, rec := range recs {
		if err := s.Save(uid, rec); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Expire(cutoff)
	if err != nil || n != 1 {
		t.Fatalf("Expire = %d, %v; want 1 (guest-old)", n, err)
	}
	for _, again := range []bool{false, true} {
		st := s
		if again {
			st = reopen()
		}
		for uid, rec := range recs {
			got, err := st.Load(uid)
			if err != nil {
				t.Fatal(err)
			}
			gone := uid == "guest-old"
			if gone && got.Writes != 0 {
				t.Errorf("%s survived: %+v", uid, got)
			}
			if !gone && (got.Writes != 1 || got.Total != rec.Total) {
				t.Errorf("%s = %+v; want it kept", uid, got)
			}
		}
		top, err := st.Top(10)
		if err != nil {
			t.Fatal(err)
		}
		if got := lines(top); got != "[ 1:wx_old(7) 2:guest-recent(5) ]" {
			t.Errorf("Top after Expire = %s", got)
		}
		if _, err := st.Around("guest-old", 1); !errors.Is(err, caiquan.ErrNoPlayer) {
			t.Errorf("Around(an expired guest) = %v; want ErrNoPlayer", err)
		}
		s = st
	}
	// An expired guest who comes back starts afresh; Save of a new record works.
	if err := s.Save("guest-old", caiquan.PlayerRecord{Rounds: 1}); err != nil {
		t.Errorf("Save of an expired guest anew: %v", err)
	}
}
