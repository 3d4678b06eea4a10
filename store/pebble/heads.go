package pebble

import (
	"hash/maphash"
	"sync"
)

// head is what Save needs of the record it replaces: its write count, to
// refuse a stale one, and its place on the leaderboard, to move it. Save
// keeps the head of what it wrote, so that the next Save of that uid need
// not read and decode the record again: the process that holds the Pebble
// directory is its only writer. Every other write (Put, PutRaw, expiry)
// forgets the uid's head.
type head struct {
	uid    string
	writes int64
	total  int32
	ranked bool // on the leaderboard (Rounds > 0)
}

// The heads are a set-associative cache of headSets sets of headWays heads.
// A direct-mapped one (each uid one slot) read and decoded the record on
// about one save in eight at 10,000 players, where two playing uids shared
// a slot and took it from each other on every save. A set is found by the
// uid's hash like its lock, and headSets is a multiple of lockStripes, so
// one lock guards the whole set.
const (
	headWays = 4
	headSets = 16 * lockStripes // 65,536 heads in all
)

type headSet struct {
	ways [headWays]head
	next uint8 // the way a miss takes when none is free
}

// lock is uid's lock, which guards uid's head set.
func (s *Store) lock(uid string) *sync.Mutex {
	return &s.locks[maphash.String(s.seed, uid)%lockStripes]
}

// headOf is the head that holds uid, or, when none does, the one Save is to
// fill for it: a free way, else the set's ways in turn. The caller holds
// uid's lock.
func (s *Store) headOf(uid string) *head {
	set := s.setOf(uid)
	free := -1
	for i := range set.ways {
		switch set.ways[i].uid {
		case uid:
			if uid != "" {
				return &set.ways[i]
			}
		case "":
			if free < 0 {
				free = i
			}
		}
	}
	if free < 0 {
		free = int(set.next)
		set.next = (set.next + 1) % headWays
	}
	set.ways[free] = head{}
	return &set.ways[free]
}

// forget drops uid's head, if it has one; the caller holds uid's lock.
func (s *Store) forget(uid string) {
	set := s.setOf(uid)
	for i := range set.ways {
		if set.ways[i].uid == uid {
			set.ways[i] = head{}
		}
	}
}

// setOf is the head set uid's head would be in.
func (s *Store) setOf(uid string) *headSet {
	return &s.heads[maphash.String(s.seed, uid)%headSets]
}
