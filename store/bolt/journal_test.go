package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// copyFiles copies every file whose name starts with base from one
// directory to another: what a disk holds if the process died right then
// (a save is acknowledged only after its fsync, and no flush runs here).
func copyFiles(t *testing.T, from, to, base string) {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(from, base+"*"))
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(name)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func playedRecord(rounds int, uname string) caiquan.PlayerRecord {
	var rec caiquan.PlayerRecord
	rec.Uname = uname
	rec.LastSeen = time.Date(2026, 11, 26, 1, 2, 3, 4000, time.UTC)
	for i := range rounds {
		rec, _, _ = caiquan.ApplyRound(rec, fmt.Sprintf("round-%d", i), i%3)
	}
	return rec
}

// Saves a process acknowledged and never wrote to bbolt (it died first)
// are in bbolt after the next Open, the leaderboard too.
func TestJournalReplayedAfterCrash(t *testing.T) {
	live, crashed := t.TempDir(), t.TempDir()
	s := open(t, filepath.Join(live, "caiquan.db"))
	want := map[string]caiquan.PlayerRecord{}
	for i := range 30 {
		uid := fmt.Sprintf("u%02d", i)
		rec := playedRecord(i+1, "玩家"+uid)
		if err := s.Save(uid, rec); err != nil {
			t.Fatal(err)
		}
		rec.Writes = 1
		want[uid] = rec
	}
	copyFiles(t, live, crashed, "caiquan.db")
	if segs, _ := segments(journalPrefix(filepath.Join(crashed, "caiquan.db"))); len(segs) != 1 {
		t.Fatalf("the crashed copy has journal segments %v; want one", segs)
	}

	again := open(t, filepath.Join(crashed, "caiquan.db"))
	for uid, w := range want {
		got, err := again.Load(uid)
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Fatalf("%s after the crash: %+v, %v; want %+v", uid, got, err, w)
		}
	}
	top, err := again.Top(3)
	if err != nil || len(top) != 3 || top[0].UID != "u29" || top[0].Total != want["u29"].Total {
		t.Fatalf("leaderboard after the crash: %+v, %v", top, err)
	}
	if segs, _ := segments(journalPrefix(filepath.Join(crashed, "caiquan.db"))); len(segs) != 1 {
		t.Errorf("after replay the journal has segments %v; want only the new one", segs)
	}
}

// Replay writes each uid's newest save, wherever it is in the segments:
// a player saves many times between flushes, and a newer segment may
// hold an older save (TestJournalOldSegmentDoesNotRegress).
func TestJournalReplayKeepsTheNewestSave(t *testing.T) {
	live, crashed := t.TempDir(), t.TempDir()
	s := open(t, filepath.Join(live, "caiquan.db"))
	var first, rec caiquan.PlayerRecord
	for i := range 3 {
		next, _, _ := caiquan.ApplyRound(rec, fmt.Sprintf("round-%d", i), 1)
		if err := s.Save("p", next); err != nil {
			t.Fatal(err)
		}
		next.Writes++
		if i == 0 {
			first = next
		}
		rec = next
	}
	copyFiles(t, live, crashed, "caiquan.db")
	path := filepath.Join(crashed, "caiquan.db")
	segs, _ := segments(journalPrefix(path))
	if len(segs) != 1 {
		t.Fatalf("the crashed copy has journal segments %v; want one", segs)
	}
	older := appendBatch(nil, []journalEntry{{uid: "p", rec: first}})
	if err := os.WriteFile(segmentName(journalPrefix(path), segs[0]+1), older, 0o600); err != nil {
		t.Fatal(err)
	}

	again := open(t, path)
	got, err := again.Load("p")
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("after replay: %+v, %v; want the third save %+v", got, err, rec)
	}
	top, err := again.Top(5)
	if err != nil || len(top) != 1 || top[0].Total != rec.Total {
		t.Fatalf("leaderboard after replay: %+v, %v; want p alone with total %d", top, err, rec.Total)
	}
}

// A batch the process did not finish writing is dropped; the acknowledged
// saves before it are kept. The same damage in a segment that newer ones
// follow is refused with a sentence instead.
func TestJournalTornTail(t *testing.T) {
	live := t.TempDir()
	s := open(t, filepath.Join(live, "caiquan.db"))
	if err := s.Save("kept", playedRecord(2, "")); err != nil {
		t.Fatal(err)
	}
	torn := appendBatch(nil, []journalEntry{{uid: "lost", rec: playedRecord(1, "")}})
	torn = torn[:len(torn)-3]

	for _, followed := range []bool{false, true} {
		t.Run(fmt.Sprintf("followed=%v", followed), func(t *testing.T) {
			dir := t.TempDir()
			copyFiles(t, live, dir, "caiquan.db")
			prefix := journalPrefix(filepath.Join(dir, "caiquan.db"))
			f, err := os.OpenFile(segmentName(prefix, 1), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(torn); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if followed {
				later := appendBatch(nil, []journalEntry{{uid: "later", rec: playedRecord(1, "")}})
				if err := os.WriteFile(segmentName(prefix, 2), later, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			again, err := Open(filepath.Join(dir, "caiquan.db"))
			if followed {
				if err == nil || !strings.Contains(err.Error(), "is damaged") {
					t.Fatalf("Open over a damaged older segment: %v; want it refused", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if rec, _ := again.Load("kept"); rec.Rounds != 2 || rec.Writes != 1 {
				t.Errorf("kept after a torn tail: %+v", rec)
			}
			if rec, _ := again.Load("lost"); rec.Writes != 0 {
				t.Errorf("the torn batch's save was applied: %+v", rec)
			}
		})
	}
}

// Replaying an old segment over newer records changes nothing: a segment
// whose removal did not reach the disk must not undo what followed it.
func TestJournalOldSegmentDoesNotRegress(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "caiquan.db")
	s := open(t, path)
	old := playedRecord(1, "")
	if err := s.Save("p", old); err != nil {
		t.Fatal(err)
	}
	old.Writes = 1
	oldSegment := appendBatch(nil, []journalEntry{{uid: "p", rec: old}})
	cur, _ := s.Load("p")
	next, _, _ := caiquan.ApplyRound(cur, "later", 2)
	if err := s.Save("p", next); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(segmentName(journalPrefix(path), 7), oldSegment, 0o600); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	got, _ := s.Load("p")
	if got.Writes != 2 || got.Rounds != 2 {
		t.Fatalf("after an old segment was replayed: %+v; want the second save", got)
	}
}

// A leaderboard read has bbolt take what the journal holds: the old
// segments are gone and the leaderboard is exact, while saves go on.
func TestLeaderboardReadFlushesTheJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caiquan.db")
	s := open(t, path)
	for i := range 5 {
		if err := s.Save(fmt.Sprintf("p%d", i), caiquan.PlayerRecord{Standing: rules.Standing{Total: int32(i)}, Rounds: 1}); err != nil {
			t.Fatal(err)
		}
	}
	top, err := s.Top(10)
	if err != nil || len(top) != 5 || top[0].UID != "p4" {
		t.Fatalf("Top = %+v, %v", top, err)
	}
	segs, _ := segments(journalPrefix(path))
	if len(segs) != 1 || segs[0] == 1 {
		t.Fatalf("segments after the flush: %v; want one new segment", segs)
	}
	if err := s.Save("p0", caiquan.PlayerRecord{Standing: rules.Standing{Total: 9}, Rounds: 2, Writes: 1}); err != nil {
		t.Fatal(err)
	}
	top, err = s.Top(1)
	if err != nil || top[0].UID != "p0" || top[0].Total != 9 {
		t.Fatalf("Top after another save = %+v, %v", top, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if segs, _ := segments(journalPrefix(path)); len(segs) != 0 {
		t.Errorf("segments after Close: %v; want none", segs)
	}
}

// Every record a player can have survives the journal's own form.
func TestBatchRoundTrip(t *testing.T) {
	entries := []journalEntry{
		{uid: "a", rec: caiquan.PlayerRecord{}},
		{uid: "用户", rec: playedRecord(40, "名字")},
		{uid: "neg", rec: caiquan.PlayerRecord{Standing: rules.Standing{Total: -12, Streak: 0}, Rounds: 3, Writes: 7}},
	}
	buf := appendBatch(nil, entries)
	got, size, ok := nextBatch(buf)
	if !ok || size != len(buf) || !reflect.DeepEqual(got, entries) {
		t.Fatalf("round trip: ok %v size %d/%d\n got %+v\nwant %+v", ok, size, len(buf), got, entries)
	}
	for cut := range len(buf) {
		if _, _, ok := nextBatch(buf[:cut]); ok {
			t.Fatalf("a batch cut at %d of %d bytes decoded", cut, len(buf))
		}
	}
	flipped := append([]byte(nil), buf...)
	flipped[len(flipped)-1] ^= 1
	if _, _, ok := nextBatch(flipped); ok {
		t.Fatal("a batch with a flipped bit decoded")
	}
}
