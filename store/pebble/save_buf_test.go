package pebble

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store"
)

// Saves share record buffers (from a pool) and build keys on the stack:
// many saves at once, of records of many sizes and uids longer than the
// keys' room, each store exactly its own record's bytes under its own
// key, and the leaderboard stays whole.
func TestSavesShareNoBytes(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "caiquan.db"), Options{})
	const savers, saves = 8, 30
	recs := make([]caiquan.PlayerRecord, savers)
	uids := make([]string, savers)
	var wg sync.WaitGroup
	for g := range savers {
		uids[g] = fmt.Sprintf("g_%d_%s", g, strings.Repeat("u", g*keyRoom/3))
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := caiquan.PlayerRecord{Uname: strings.Repeat("<名>", g*40)}
			for i := range saves {
				rec, _, _ = caiquan.ApplyRound(rec, fmt.Sprintf("r%d-%d", g, i), 1-(i+g)%3)
				if err := s.Save(uids[g], rec); err != nil {
					t.Error(err)
					return
				}
				rec.Writes++
			}
			recs[g] = rec
		}()
	}
	wg.Wait()
	for g, uid := range uids {
		got, closer, err := s.db.Get(recordKey(uid))
		if err != nil {
			t.Fatalf("%s: %v", uid, err)
		}
		want, _ := json.Marshal(store.ToRecord(recs[g], store.RecordVersion))
		if !bytes.Equal(got, want) {
			t.Errorf("%s stored\n%s\nwant\n%s", uid, got, want)
		}
		closer.Close()
	}
	rep, err := s.Check()
	if err != nil || rep.Records != savers || len(rep.Damaged) != 0 {
		t.Fatalf("Check: %+v, %v", rep, err)
	}
}
