package bolt

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/internal/testing/storetest"
	"github.com/caiquan/caiquan/rules"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (caiquan.Store, func() caiquan.Store) {
		path := filepath.Join(t.TempDir(), "caiquan.db")
		s := open(t, path)
		return s, func() caiquan.Store {
			s.Close()
			s = open(t, path)
			return s
		}
	})
}

// A second process on the same file is refused with a sentence, not a hang.
func TestFileInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caiquan.db")
	open(t, path)
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second Open = %v; want an in-use error", err)
	}
}

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Saves from many goroutines at once share transactions, and each caller's
// saves keep their order: the last one of every player is what remains, on
// the leaderboard too, after the file is reopened.
func TestConcurrentSavesGroupAndKeepOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caiquan.db")
	s := open(t, path)
	const players, saves = 40, 25
	var wg sync.WaitGroup
	for p := 0; p < players; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uid := fmt.Sprintf("p%02d", p)
			for i := 1; i <= saves; i++ {
				rec := caiquan.PlayerRecord{Standing: rules.Standing{Total: int32(p*100 + i), Streak: int32(i)}, Rounds: i, Writes: int64(i - 1)}
				if err := s.Save(uid, rec); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s.Close()
	if err := s.Save("late", caiquan.PlayerRecord{}); err == nil {
		t.Fatal("a save after Close succeeded")
	}
	s = open(t, path)
	for p := 0; p < players; p++ {
		rec, err := s.Load(fmt.Sprintf("p%02d", p))
		if err != nil || rec.Total != int32(p*100+saves) || rec.Rounds != saves {
			t.Fatalf("p%02d: %+v %v", p, rec, err)
		}
	}
	top, err := s.Top(players + 5)
	if err != nil || len(top) != players || top[0].UID != fmt.Sprintf("p%02d", players-1) {
		t.Fatalf("leaderboard after concurrent saves: %d entries, %v", len(top), err)
	}
}
