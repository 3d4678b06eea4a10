//go:build !race

package pebble

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
)

// A save of a full record by a WeChat-length uid, which moves the uid's
// leaderboard key, allocates nothing of ours: the record is encoded into a
// pooled buffer and the keys are built on the stack. The budget leaves one
// for Pebble's own now and then (a new memtable or WAL). Built without
// -race, whose sync.Pool drops buffers at random; make bench-check runs it.
func TestSaveAllocationBudget(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "caiquan.db"), Options{})
	lines := make([]caiquan.ResultLine, 4)
	for i := range lines {
		lines[i] = caiquan.ResultLine{UID: fmt.Sprintf("wx_%024d", i), Choice: 1}
	}
	rec := caiquan.PlayerRecord{Uname: "player", LastSeen: time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)}
	for i := range 40 {
		rec, _, _ = caiquan.ApplyRoundWith(rec, fmt.Sprintf("room-7f3a-%06d", i), 1, lines)
	}
	const uid = "wx_0123456789abcdef01234567"
	base := rec.Total
	save := func() {
		rec.Total = base + int32(rec.Writes%2)
		if err := s.Save(uid, rec); err != nil {
			t.Fatal(err)
		}
		rec.Writes++
	}
	save() // reads the uid's head once, and fills the pool
	if n := testing.AllocsPerRun(50, save); n > 1 {
		t.Errorf("a save: %v allocations, want at most 1", n)
	}
}
