package pebble

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// copyDir copies the files of src (a store directory) to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// damageStore writes players to a new store: half of them flushed to a
// data file, the rest only in the WAL. It returns the directory (closed,
// or, with crash, a copy taken while the store was open, as a SIGKILL
// leaves it: no WAL trailer) and each uid's acknowledged total.
func damageStore(t *testing.T, crash bool) (string, map[string]int32) {
	dir := filepath.Join(t.TempDir(), "caiquan.db")
	s := open(t, dir, Options{})
	want := map[string]int32{}
	for i := range 40 {
		uid := fmt.Sprintf("p%02d", i)
		rec := caiquan.PlayerRecord{Standing: rules.Standing{Total: int32(i*7 - 50)}, Rounds: i + 1, Uname: "N" + uid}
		if err := s.Save(uid, rec); err != nil {
			t.Fatal(err)
		}
		want[uid] = rec.Total
		if i == 19 {
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if crash {
		cp := filepath.Join(t.TempDir(), "crashed.db")
		copyDir(t, dir, cp)
		dir = cp
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, want
}

// One byte flipped anywhere in any file of a store, then opened: the store
// refuses to open naming the file, or opens with every acknowledged total,
// or opens and logs exactly what it discarded. Never other totals and
// nothing said, never a panic.
func TestDamageIsFoundAndSaid(t *testing.T) {
	t.Run("closed", func(t *testing.T) { testDamage(t, false) })
	t.Run("killed", func(t *testing.T) { testDamage(t, true) })
}

func testDamage(t *testing.T, crash bool) {
	dir, want := damageStore(t, crash)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	base := t.TempDir() // not the subtests' own: their names hold the file's
	n := 0
	for _, e := range entries {
		name := e.Name()
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) == 0 {
			continue // LOCK and the marker files: their names are their contents
		}
		offsets := []int{0, len(data) / 3, len(data) / 2, 2 * len(data) / 3, len(data) - 1}
		for i := 1; i < 16; i++ {
			offsets = append(offsets, (i*len(data)/16+i)%len(data)) // more places in each file
		}
		for _, off := range offsets {
			t.Run(fmt.Sprintf("%s@%d", name, off), func(t *testing.T) {
				n++
				d := filepath.Join(base, fmt.Sprint(n))
				copyDir(t, dir, d)
				bad := append([]byte(nil), data...)
				bad[off] ^= 0x20
				if err := os.WriteFile(filepath.Join(d, name), bad, 0o600); err != nil {
					t.Fatal(err)
				}
				log, buf := testLog(t)
				s, err := Open(d, Options{Log: log})
				if err != nil {
					if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "caiquan store check") {
						t.Fatalf("refused without naming %s and the next step: %v", name, err)
					}
					t.Logf("refused: %v", err)
					outcomes["refused naming the file"]++
					return
				}
				defer s.Close()
				discarded := strings.Contains(buf.String(), "discarded") && strings.Contains(buf.String(), name)
				lost := 0
				for uid, total := range want {
					rec, err := s.Load(uid)
					if err != nil {
						t.Fatalf("%s: %v (opened, then a record does not read)", uid, err)
					}
					if rec.Total != total {
						if rec.Writes != 0 || !discarded {
							t.Fatalf("%s: total %d, want %d; log:\n%s", uid, rec.Total, total, buf)
						}
						lost++
					}
				}
				switch {
				case lost > 0:
					t.Logf("lost %d; log:\n%s", lost, buf)
					outcomes["opened, said what it discarded"]++
				case discarded:
					outcomes["opened whole, said it discarded bytes"]++
				default:
					outcomes["opened whole"]++
				}
			})
		}
	}
	t.Logf("outcomes: %v", outcomes)
}

// A killed store whose WAL files were recycled (each still holds the log
// it was before past the new log's end) opens whole, and says it discarded
// nothing: the old contents are not this log's.
func TestRecycledWALIsNotDamage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "caiquan.db")
	log, buf := testLog(t)
	s := open(t, dir, Options{Log: log, memTableSize: 64 << 10})
	want := map[string]int32{}
	for i := range 3000 {
		uid := fmt.Sprintf("p%03d", i%300)
		rec, err := s.Load(uid)
		if err != nil {
			t.Fatal(err)
		}
		rec.Total, rec.Rounds = int32(i), rec.Rounds+1
		rec.Uname = strings.Repeat("n", 100)
		if err := s.Save(uid, rec); err != nil {
			t.Fatal(err)
		}
		want[uid] = rec.Total
	}
	if !strings.Contains(buf.String(), "write-ahead log file reused") {
		t.Fatalf("no WAL was recycled; the test needs smaller memtables or more saves")
	}
	cp := filepath.Join(t.TempDir(), "killed.db")
	copyDir(t, dir, cp)
	s.Close()
	log2, buf2 := testLog(t)
	s2 := open(t, cp, Options{Log: log2})
	for uid, total := range want {
		if rec, err := s2.Load(uid); err != nil || rec.Total != total {
			t.Fatalf("%s: %+v, %v; want total %d", uid, rec, err, total)
		}
	}
	if strings.Contains(buf2.String(), "discarded") {
		t.Errorf("a recycled WAL's old contents were taken for discarded saves:\n%s", buf2)
	}
}

// A SIGKILL can cut the WAL's last record short where it spans two 32 KiB
// blocks: its first chunk whole, the rest not written. That is a write
// cut short, never acknowledged: the store opens, says what it dropped,
// and keeps every save before it. (Taking the whole first chunk for an
// intact record after damage once refused such a store.)
func TestRecordCutAtABlockIsNotDamage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "caiquan.db")
	s := open(t, dir, Options{})
	var saved []map[string]int32 // the totals after each save
	totals := map[string]int32{}
	for i := range 1500 {
		uid := fmt.Sprintf("p%03d", i%150)
		rec, err := s.Load(uid)
		if err != nil {
			t.Fatal(err)
		}
		rec.Total, rec.Rounds, rec.Uname = int32(i), rec.Rounds+1, strings.Repeat("n", 100)
		if err := s.Save(uid, rec); err != nil {
			t.Fatal(err)
		}
		totals[uid] = rec.Total
		snap := make(map[string]int32, len(totals))
		for k, v := range totals {
			snap[k] = v
		}
		saved = append(saved, snap)
	}
	crashed := filepath.Join(t.TempDir(), "crashed.db")
	copyDir(t, dir, crashed)
	s.Close()

	wals, _ := filepath.Glob(filepath.Join(crashed, "*.log"))
	if len(wals) == 0 {
		t.Fatal("no WAL")
	}
	wals = wals[len(wals)-1:] // the newest: the one recovery ends with
	data, err := os.ReadFile(wals[0])
	if err != nil {
		t.Fatal(err)
	}
	var logNum uint32
	fmt.Sscanf(filepath.Base(wals[0]), "%06d.log", &logNum)
	first := findChunk(data, 0, func(n uint32, pos byte) bool { return n == logNum && pos == chunkFirst })
	if first < 0 {
		t.Fatal("no record spans two blocks; the test needs more saves")
	}
	block := (first/walBlock + 1) * walBlock
	for name, cut := range map[string]int64{"after its first chunk": block, "in its last chunk": block + 15} {
		t.Run(name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "cut.db")
			copyDir(t, crashed, d)
			if err := os.WriteFile(filepath.Join(d, filepath.Base(wals[0])), data[:cut], 0o600); err != nil {
				t.Fatal(err)
			}
			kept := -1 // the first record marks the store's format
			for _, sc := range scanWALs(d) {
				kept += sc.records
			}
			log, buf := testLog(t)
			s, err := Open(d, Options{Log: log})
			if err != nil {
				t.Fatalf("a record cut short refused the store: %v", err)
			}
			defer s.Close()
			if !strings.Contains(buf.String(), "discarded the end of the write-ahead log") {
				t.Errorf("the cut record was dropped without a word:\n%s", buf)
			}
			// Saves are one record each, in order, over the WALs: the
			// records read whole are the first saves, and the store holds
			// their totals.
			if kept == 0 || kept >= len(saved) {
				t.Fatalf("%d records read whole of %d saves", kept, len(saved))
			}
			for uid, total := range saved[kept-1] {
				if rec, err := s.Load(uid); err != nil || rec.Total != total {
					t.Fatalf("%s: %+v, %v; want total %d", uid, rec, err, total)
				}
			}
		})
	}
}
