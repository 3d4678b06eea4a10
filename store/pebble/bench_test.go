package pebble

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
)

// BenchmarkSave: 128 player actors saving at once, each its own uid, each
// save a synced batch (as a round's confirmation is). Reports each save's
// latency at p50 and p99, and saves a second.
//
//	go test -run '^$' -bench Save -benchtime 20000x ./store/pebble/
func BenchmarkSave(b *testing.B) {
	const savers = 128
	s, err := Open(filepath.Join(b.TempDir(), "caiquan.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	lat := make([][]time.Duration, savers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range savers {
		n := b.N / savers
		if g < b.N%savers {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			uid := fmt.Sprintf("saver-%03d", g)
			var rec caiquan.PlayerRecord
			for i := range n {
				next, _, _ := caiquan.ApplyRound(rec, fmt.Sprintf("r%d", i), 1-i%3)
				t0 := time.Now()
				if err := s.Save(uid, next); err != nil {
					b.Error(err)
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
				next.Writes++
				rec = next
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "saves/s")
}

// BenchmarkSaveAllocs: one uid (as long as a WeChat player's) saved again
// and again from one goroutine, its total changing each time (so each save
// moves its leaderboard key and counts). Reports what a save allocates;
// its time is mostly fsync.
//
//	go test -run '^$' -bench SaveAllocs -benchmem -benchtime 2000x ./store/pebble/
func BenchmarkSaveAllocs(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "caiquan.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	lines := make([]caiquan.ResultLine, 4)
	for i := range lines {
		lines[i] = caiquan.ResultLine{UID: fmt.Sprintf("oWx3kQ-player-%04d", i), Choice: int32(i%3 + 1)}
	}
	rec := caiquan.PlayerRecord{Uname: "player", LastSeen: time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)}
	for i := range 40 {
		rec, _, _ = caiquan.ApplyRoundWith(rec, fmt.Sprintf("room-7f3a-%06d", i), 1, lines)
	}
	base := rec.Total
	b.ReportAllocs()
	for b.Loop() {
		rec.Total = base + int32(rec.Writes%2)
		if err := s.Save("wx_0123456789abcdef01234567", rec); err != nil {
			b.Fatal(err)
		}
		rec.Writes++
	}
}
