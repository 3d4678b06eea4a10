package bolt

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// saveMany saves n players at once from 64 goroutines (one at a time, each
// would wait for its own batch).
func saveMany(t *testing.T, s *Store, n int, total func(i int) int32, writes int64) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 64 {
				rec := caiquan.PlayerRecord{Standing: rules.Standing{Total: total(i)}, Rounds: 1, Writes: writes}
				if err := s.Save(fmt.Sprintf("p%05d", i), rec); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// bboltTotal reads uid's total from bbolt itself, not through the journal.
func bboltTotal(t *testing.T, s *Store, uid string) int32 {
	t.Helper()
	var rec caiquan.PlayerRecord
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		rec, _, err = get(tx, uid)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec.Total
}

// A flush nobody waits for (the journal's age or size), which pauses
// between its transactions (BenchmarkSaveDuringFlush measures how long),
// still writes every record to bbolt and removes the segment it covered; a
// Close during one hurries it and loses nothing.
func TestPacedFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caiquan.db")
	s := open(t, path)
	const n = 3*flushChunk + 1 // four transactions, three pauses
	saveMany(t, s, n, func(i int) int32 { return int32(i) }, 0)
	if err := s.w.flushWith(true); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, flushChunk, n - 1} {
		if got := bboltTotal(t, s, fmt.Sprintf("p%05d", i)); got != int32(i) {
			t.Fatalf("bbolt holds total %d for p%05d, want %d", got, i, i)
		}
	}
	if segs, _ := segments(journalPrefix(path)); len(segs) != 1 || segs[0] == 1 {
		t.Fatalf("segments after the flush: %v; want one new segment", segs)
	}

	saveMany(t, s, n, func(i int) int32 { return int32(2 * i) }, 1)
	flushed := make(chan error, 1)
	go func() { flushed <- s.w.flushWith(true) }()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-flushed; err != nil && err != errClosed {
		t.Fatalf("the paced flush Close hurried: %v", err)
	}
	if segs, _ := segments(journalPrefix(path)); len(segs) != 0 {
		t.Fatalf("segments after Close: %v; want none", segs)
	}
	s = open(t, path)
	defer s.Close()
	for _, i := range []int{0, 2 * flushChunk, n - 1} {
		if got := bboltTotal(t, s, fmt.Sprintf("p%05d", i)); got != int32(2*i) {
			t.Fatalf("after Close bbolt holds total %d for p%05d, want %d", got, i, 2*i)
		}
	}
}
