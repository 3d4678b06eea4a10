package bolt

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/caiquan/caiquan/actors"
)

// BenchmarkSave: players saving at once, each its own uid, as at a round's
// deadline; every save waits for its fsync (shared by the saves around it).
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
		var rec actors.PlayerRecord
		for i := 0; pb.Next(); i++ {
			rec, _, _ = actors.ApplyRound(rec, fmt.Sprintf("round-%d", i), i%3)
			if err := s.Save(uid, rec); err != nil {
				b.Error(err)
				return
			}
			rec.Writes++
		}
	})
}
