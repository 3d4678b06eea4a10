package pebble

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
	"github.com/caiquan/caiquan/store"
)

// Save remembers the head of what it wrote instead of reading it again;
// every other way a record changes must make Save read it again, or Save
// would write over a record it never saw, or refuse a good one.
func TestSaveSeesEveryOtherWrite(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "caiquan.db"), Options{})
	save := func(rec caiquan.PlayerRecord) error { return s.Save("alice", rec) }
	load := func() caiquan.PlayerRecord {
		t.Helper()
		rec, err := s.Load("alice")
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	rec := caiquan.PlayerRecord{Standing: rules.Standing{Total: 3}, Rounds: 1}
	if err := save(rec); err != nil {
		t.Fatal(err)
	}
	if err := save(rec); !errors.Is(err, caiquan.ErrStale) {
		t.Fatalf("second save from the same record: %v, want ErrStale", err)
	}

	// Put (an import) replaces the record: a save made from the old one is stale.
	if err := s.Put("alice", caiquan.PlayerRecord{Standing: rules.Standing{Total: 40}, Rounds: 9, Writes: 7}); err != nil {
		t.Fatal(err)
	}
	if err := save(caiquan.PlayerRecord{Standing: rules.Standing{Total: 5}, Rounds: 2, Writes: 1}); !errors.Is(err, caiquan.ErrStale) {
		t.Fatalf("save over a Put record: %v, want ErrStale", err)
	}
	got := load()
	if got.Total != 40 || got.Writes != 7 {
		t.Fatalf("after Put: %+v", got)
	}
	got.Total = 41
	if err := save(got); err != nil {
		t.Fatalf("save from the Put record: %v", err)
	}

	// A record written raw (here one that does not decode) is read again:
	// Save reports the damage rather than writing blindly over it.
	// (Bob is off the leaderboard: a raw write does not move its keys.)
	if err := s.Save("bob", caiquan.PlayerRecord{Uname: "Bob"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRaw("bob", []byte(`{"v":1,"total":`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("bob", caiquan.PlayerRecord{Uname: "Bobby", Writes: 1}); !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("save over a damaged record: %v, want ErrDamaged", err)
	}
	if err := s.Put("bob", caiquan.PlayerRecord{Uname: "Bob"}); err != nil {
		t.Fatal(err)
	}

	// Expired, the record is gone: a save from nothing makes a new one.
	if err := s.Put("alice", caiquan.PlayerRecord{Standing: rules.Standing{Total: 9}, Rounds: 2, Writes: 3, LastSeen: time.Unix(1, 0)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Expire(time.Unix(100, 0)); err != nil || n != 1 {
		t.Fatalf("expire: %d, %v", n, err)
	}
	if err := save(caiquan.PlayerRecord{Standing: rules.Standing{Total: 2}, Rounds: 1}); err != nil {
		t.Fatalf("save after expiry: %v", err)
	}

	// Deleted (DELETE /me), the record starts afresh from Writes 0.
	if err := s.Save("carol", caiquan.PlayerRecord{Standing: rules.Standing{Total: 7}, Rounds: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("carol"); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("carol", caiquan.PlayerRecord{}); err != nil {
		t.Fatalf("save after delete: %v", err)
	}

	// The leaderboard followed every move: one line, the last total.
	top, err := s.Top(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(top) != 1 || top[0].Total != 2 {
		t.Fatalf("leaderboard: %+v, want alice at 2 alone", top)
	}
	if rep, err := s.Check(); err != nil || len(rep.Damaged) != 0 || rep.Records != 3 || rep.Board != 1 {
		t.Fatalf("check: %+v, %v", rep, err)
	}
}

// uidsInSetOf is n uids other than a whose heads go in a's set.
func uidsInSetOf(s *Store, a string, n int) []string {
	var uids []string
	for i := 0; len(uids) < n; i++ {
		uid := "p" + string(rune('a'+i%26)) + time.Duration(i).String()
		if s.setOf(uid) == s.setOf(a) && uid != a {
			uids = append(uids, uid)
		}
	}
	return uids
}

// More uids than a set has heads take turns in it; each save still checks
// against its own record.
func TestSharedHeadSet(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "caiquan.db"), Options{})
	a := "alice"
	uids := append([]string{a}, uidsInSetOf(s, a, headWays)...)
	recs := map[string]caiquan.PlayerRecord{}
	for i := 0; i < 6; i++ {
		for _, uid := range uids {
			rec := recs[uid]
			rec.Total++
			rec.Rounds++
			if err := s.Save(uid, rec); err != nil {
				t.Fatalf("save %d of %s: %v", i, uid, err)
			}
			rec.Writes++
			recs[uid] = rec
		}
	}
	if err := s.Save(a, caiquan.PlayerRecord{Writes: 3}); !errors.Is(err, caiquan.ErrStale) {
		t.Fatalf("stale save of %s: %v", a, err)
	}
}

// As many uids as a set has heads keep them all: a save after the others'
// goes by its head and reads nothing. The test proves it by changing each
// record behind the store's back (a write Save would refuse as stale if it
// read it), which no real writer does.
func TestFullHeadSetIsNotRead(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "caiquan.db"), Options{})
	uids := append([]string{"alice"}, uidsInSetOf(s, "alice", headWays-1)...)
	for _, uid := range uids {
		if err := s.Save(uid, caiquan.PlayerRecord{Rounds: 1}); err != nil {
			t.Fatalf("first save of %s: %v", uid, err)
		}
	}
	behind, err := store.EncodeRecordVersion(caiquan.PlayerRecord{Writes: 99, Rounds: 1}, store.RecordVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, uid := range uids {
		if err := s.db.Set(recordKey(uid), behind, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, uid := range uids {
		if err := s.Save(uid, caiquan.PlayerRecord{Writes: 1, Rounds: 2}); err != nil {
			t.Fatalf("second save of %s read its record: %v", uid, err)
		}
	}
}
