package pebble

import (
	"bytes"
	"errors"

	"github.com/cockroachdb/pebble/v2"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store"
)

// line is uid's leaderboard line from r; a damaged record still shows its
// total (from the key) and is reported.
func (s *Store) line(r pebble.Reader, key []byte) caiquan.RankedPlayer {
	total := totalOf(key[len(boardPre):])
	uid := string(key[len(boardPre)+4:])
	p := caiquan.RankedPlayer{UID: uid}
	p.Total = total
	if rec, found, err := s.get(r, uid); err == nil && found {
		p.Uname, p.Uavatar, p.Streak = rec.Uname, rec.Uavatar, rec.Streak
	}
	return p
}

func (s *Store) Top(n int) ([]caiquan.RankedPlayer, error) {
	snap := s.db.NewSnapshot()
	defer snap.Close()
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: boardPre, UpperBound: prefixEnd(boardPre)})
	if err != nil {
		return nil, err
	}
	var r caiquan.Ranker
	var out []caiquan.RankedPlayer
	for ok := it.First(); ok && len(out) < n; ok = it.Next() {
		out = append(out, r.Next(s.line(snap, it.Key())))
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, s.readError(err)
	}
	return out, nil
}

func (s *Store) Around(uid string, k int) ([]caiquan.RankedPlayer, error) {
	snap := s.db.NewSnapshot()
	defer snap.Close()
	rec, found, err := s.get(snap, uid)
	if err != nil {
		return nil, err
	}
	if !found || rec.Rounds == 0 {
		return nil, caiquan.ErrNoPlayer
	}
	me := boardKey(rec.Total, uid)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: boardPre, UpperBound: prefixEnd(boardPre)})
	if err != nil {
		return nil, err
	}
	var before, after [][]byte
	for ok := it.SeekLT(me); ok && len(before) < k; ok = it.Prev() {
		before = append(before, bytes.Clone(it.Key()))
	}
	for ok := it.SeekGE(me); ok && len(after) <= k; ok = it.Next() {
		after = append(after, bytes.Clone(it.Key()))
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, s.readError(err)
	}
	if len(after) == 0 || !bytes.Equal(after[0], me) {
		// The record says it is on the board and the board says not: the
		// index is damaged.
		err := &store.DamageError{Key: string(me), Err: errors.New("the leaderboard has no key for a player who finished a round")}
		s.damaged(err.Key, err.Err)
		return nil, err
	}
	keys := make([][]byte, 0, len(before)+len(after))
	for i := len(before) - 1; i >= 0; i-- {
		keys = append(keys, before[i])
	}
	keys = append(keys, after...)
	ranks, err := s.ranks(snap, totalOf(keys[len(keys)-1][len(boardPre):]))
	if err != nil {
		return nil, err
	}
	out := make([]caiquan.RankedPlayer, len(keys))
	for i, key := range keys {
		out[i] = s.line(snap, key)
		out[i].Rank = ranks(out[i].Total)
	}
	return out, nil
}

// ranks reads the counts of every total down to lowest and returns the
// rank of a total in that range: one more than the players above it.
func (s *Store) ranks(r pebble.Reader, lowest int32) (func(int32) int, error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: countPre, UpperBound: append(countKey(lowest), 0)}) // every key up to countKey(lowest)
	if err != nil {
		return nil, err
	}
	rank := map[int32]int{}
	above := int64(0)
	for ok := it.First(); ok; ok = it.Next() {
		n, err := readCount(it.Value())
		if err != nil {
			it.Close()
			s.damaged(string(it.Key()), err)
			return nil, &store.DamageError{Key: string(it.Key()), Err: err}
		}
		rank[totalOf(it.Key()[len(countPre):])] = int(above) + 1
		above += n
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, s.readError(err)
	}
	return func(t int32) int { return rank[t] }, nil
}

// readError reports a checksum failure met while reading.
func (s *Store) readError(err error) error {
	if pebble.IsCorruptionError(err) {
		s.damaged(s.dir, err)
		return &DamagedError{Dir: s.dir, Files: namedFiles(s.dir, err), Err: err}
	}
	return err
}
