package bolt

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
)

// BenchmarkSave: players saving at once, each its own uid, as at a round's
// deadline; every save waits for its fsync (shared by the saves around it).
// Each player saves again as soon as it is answered, so the time per save
// is the batch time (at least batchGap) over the 128 players of a
// two-core machine: a bound of the test, not of the store.
func BenchmarkSave(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "caiquan.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var next atomic.Int64
	b.SetParallelism(64) // many players per core, as a server has
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		uid := fmt.Sprintf("player-%d", next.Add(1))
		var rec caiquan.PlayerRecord
		for i := 0; pb.Next(); i++ {
			rec, _, _ = caiquan.ApplyRound(rec, fmt.Sprintf("round-%d", i), i%3)
			if err := s.Save(uid, rec); err != nil {
				b.Error(err)
				return
			}
			rec.Writes++
		}
	})
}

// BenchmarkSaveDuringFlush: 10,000 players with a full record each (32
// round ids) in the journal, then one flush to bbolt per iteration while 64
// players go on saving. It reports the p99 of the saves made during the
// flushes, and the flush time; run it with -benchtime=3x. "hurried" is a
// flush a leaderboard read waits for, "paced" one by the journal's age or
// size (flushPause).
func BenchmarkSaveDuringFlush(b *testing.B) {
	b.Run("hurried", func(b *testing.B) { benchmarkSaveDuringFlush(b, false) })
	b.Run("paced", func(b *testing.B) { benchmarkSaveDuringFlush(b, true) })
}

func benchmarkSaveDuringFlush(b *testing.B, paced bool) {
	s, err := Open(filepath.Join(b.TempDir(), "caiquan.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const players = 10000
	recs := make([]caiquan.PlayerRecord, players)
	var mu sync.Mutex
	var during []time.Duration
	flushing := false
	save := func(i int) {
		start := time.Now()
		if err := s.Save(fmt.Sprintf("player-%05d", i), recs[i]); err != nil {
			b.Error(err)
			return
		}
		took := time.Since(start)
		recs[i].Writes++
		mu.Lock()
		if flushing {
			during = append(during, took)
		}
		mu.Unlock()
	}
	for i := range recs {
		for r := range 32 {
			recs[i], _, _ = caiquan.ApplyRound(recs[i], fmt.Sprintf("r%x-%d", 1000+r, i*40+r), r%3)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i += 64 {
				select {
				case <-stop:
					return
				default:
				}
				save(i % players) // player i belongs to saver i % 64 alone
				if i >= players {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	var flushTime time.Duration
	time.Sleep(2 * time.Second) // every player saved once
	b.ResetTimer()
	for range b.N {
		time.Sleep(300 * time.Millisecond) // the journal fills again
		mu.Lock()
		flushing = true
		mu.Unlock()
		start := time.Now()
		if err := s.w.flushWith(paced); err != nil {
			b.Fatal(err)
		}
		flushTime += time.Since(start)
		mu.Lock()
		flushing = false
		mu.Unlock()
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	slices.Sort(during)
	if len(during) > 0 {
		b.ReportMetric(float64(during[len(during)*99/100].Microseconds())/1000, "p99-save-ms")
	}
	b.ReportMetric(flushTime.Seconds()*1000/float64(b.N), "flush-ms")
}
