package actors

import (
	"errors"

	"github.com/caiquan/caiquan"
)

// refuseUnlessStored returns uid's record with round either applied or
// refused for good. A read alone could miss a player's save that began
// inside the window and commits later (its member stalled mid-write);
// the refusal is written over the record read, so such a save meets it
// (the record's write count) and stores nothing, or it committed first
// and the write, stale, reads the round on its next try.
func refuseUnlessStored(store caiquan.Store, uid, round string) (caiquan.PlayerRecord, error) {
	for try := 0; ; try++ {
		rec, err := store.Load(uid)
		if err != nil {
			return rec, err
		}
		next, ok := caiquan.RefuseRound(rec, round)
		if !ok || rec.Refuses(round) {
			return rec, nil // stored, or refused already
		}
		err = store.Save(uid, next)
		if err == nil {
			next.Writes++
			return next, nil
		}
		if !errors.Is(err, caiquan.ErrStale) || try == staleRetries {
			return rec, err
		}
	}
}
