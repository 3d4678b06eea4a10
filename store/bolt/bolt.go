// Package bolt is the single-node caiquan.Store: one bbolt file, and a
// journal beside it (journal.go) that makes each save durable cheaply and
// hands bbolt the saves in large transactions.
//
// Bucket "players" maps a uid to its record (JSON, see package store).
// Bucket "board" is the leaderboard's index: one empty value per player who
// finished a round, under a key that sorts in leaderboard order (the total
// inverted, big-endian, then the uid). A flush rewrites each record and
// moves its index key in one transaction. Save returns once the journal has
// the record on disk (fsync), so a record confirmed to a room survives
// SIGKILL: Open replays the journal into bbolt.
//
// Top reads the first n keys. Around walks the index from the start to the
// player (ranks need the count of those before), so it costs O(rank); fine
// for one node's players.
package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store"
)

var (
	playersBucket = []byte("players")
	boardBucket   = []byte("board")
)

// lockTimeout bounds the wait for a file another process holds open.
const lockTimeout = 2 * time.Second

// Store is a bbolt-backed caiquan.Store.
type Store struct {
	db *bbolt.DB
	w  *committer
}

var _ caiquan.Store = (*Store)(nil)

// Open opens (or creates) the file at path.
func Open(path string) (*Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("bolt: %s is in use by another process (one server per file)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{playersBucket, boardBucket} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: prepare %s: %w", path, err)
	}
	prefix := journalPrefix(path)
	j, err := replay(db, prefix)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db, w: startCommitter(db, prefix, j)}, nil
}

// replay writes the saves of the segments a stopped process left into
// bbolt, removes them, and starts the next segment. Only each uid's newest
// save is written: a journal holds many saves of each active player, and
// writing them all made a full 64 MiB journal take 14.5 s to replay.
func replay(db *bbolt.DB, prefix string) (*journal, error) {
	seqs, err := segments(prefix)
	if err != nil {
		return nil, fmt.Errorf("bolt: journal: %w", err)
	}
	newest := make(map[string]caiquan.PlayerRecord)
	var last uint64
	for i, seq := range seqs {
		saves, cut, err := readSegment(prefix, seq)
		if err != nil {
			return nil, err
		}
		// Only the newest segment can end in a write that did not finish.
		if cut > 0 && i < len(seqs)-1 {
			return nil, fmt.Errorf("bolt: journal %s is damaged: %d bytes at its end do not decode, and newer segments follow",
				segmentName(prefix, seq), cut)
		}
		for _, e := range saves {
			if cur, ok := newest[e.uid]; !ok || e.rec.Writes > cur.Writes {
				newest[e.uid] = e.rec
			}
		}
		last = seq
	}
	if err := writeRecords(db, newest, nil); err != nil {
		return nil, fmt.Errorf("bolt: replaying the journal: %w", err)
	}
	if err := removeSegments(prefix, seqs); err != nil {
		return nil, err
	}
	return startSegment(prefix, last+1)
}

// Close finishes the saves under way, writes them to bbolt, then closes the
// file.
func (s *Store) Close() error {
	return errors.Join(s.w.close(), s.db.Close())
}

func (s *Store) Load(uid string) (caiquan.PlayerRecord, error) {
	if rec, ok := s.w.load(uid); ok {
		return rec, nil
	}
	var rec caiquan.PlayerRecord
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		rec, _, err = get(tx, uid)
		return err
	})
	return rec, err
}

// Save returns once the record is on disk, in a journal batch it may share
// with other saves (see committer).
func (s *Store) Save(uid string, rec caiquan.PlayerRecord) error {
	return s.w.save(saveReq{uid: uid, rec: rec})
}

// putNewer writes one stored record (Writes counted) and moves its
// leaderboard key, unless bbolt already holds that record or a newer one:
// so replaying a segment twice, or an old one after a newer, changes
// nothing.
func putNewer(tx *bbolt.Tx, uid string, rec caiquan.PlayerRecord) error {
	var old store.RecordHead
	stored := tx.Bucket(playersBucket).Get([]byte(uid))
	found := stored != nil
	if found {
		var err error
		if old, err = store.DecodeRecordHead(stored); err != nil {
			return fmt.Errorf("bolt: record of %s: %w", uid, err)
		}
	}
	if found && old.Writes >= rec.Writes {
		return nil
	}
	data, err := store.EncodeRecord(rec)
	if err != nil {
		return fmt.Errorf("bolt: record of %s: %w", uid, err)
	}
	board := tx.Bucket(boardBucket)
	if found && old.Rounds > 0 {
		if err := board.Delete(boardKey(old.Total, uid)); err != nil {
			return err
		}
	}
	if rec.Rounds > 0 {
		if err := board.Put(boardKey(rec.Total, uid), nil); err != nil {
			return err
		}
	}
	return tx.Bucket(playersBucket).Put([]byte(uid), data)
}

// Top and Around first have bbolt take the journal's saves, so the
// leaderboard is exact; under steady leaderboard reads, bbolt's
// transactions are as small as those reads are frequent.
func (s *Store) Top(n int) ([]caiquan.RankedPlayer, error) {
	var out []caiquan.RankedPlayer
	err := s.walk(func(p caiquan.RankedPlayer, r *caiquan.Ranker) bool {
		if len(out) == n {
			return true
		}
		out = append(out, r.Next(p))
		return false
	})
	return out, err
}

func (s *Store) Around(uid string, k int) ([]caiquan.RankedPlayer, error) {
	w := caiquan.NewWindow(uid, k)
	if err := s.walk(func(p caiquan.RankedPlayer, _ *caiquan.Ranker) bool { return w.Add(p) }); err != nil {
		return nil, err
	}
	return w.Result()
}

// walk feeds the leaderboard to fn in order until fn returns true.
func (s *Store) walk(fn func(caiquan.RankedPlayer, *caiquan.Ranker) bool) error {
	if err := s.w.flush(); err != nil {
		return err
	}
	return s.db.View(func(tx *bbolt.Tx) error {
		var r caiquan.Ranker
		c := tx.Bucket(boardBucket).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			uid := string(k[4:])
			rec, _, err := get(tx, uid)
			if err != nil {
				return err
			}
			p := caiquan.RankedPlayer{UID: uid, Uname: rec.Uname, Uavatar: rec.Uavatar, Standing: rec.Standing}
			if fn(p, &r) {
				return nil
			}
		}
		return nil
	})
}

func get(tx *bbolt.Tx, uid string) (caiquan.PlayerRecord, bool, error) {
	data := tx.Bucket(playersBucket).Get([]byte(uid))
	if data == nil {
		return caiquan.PlayerRecord{}, false, nil
	}
	rec, err := store.DecodeRecord(data)
	if err != nil {
		return caiquan.PlayerRecord{}, false, fmt.Errorf("bolt: record of %s: %w", uid, err)
	}
	return rec, true, nil
}

// boardKey sorts higher totals first, then uids in byte order: the total is
// mapped to an unsigned number in order, then inverted.
func boardKey(total int32, uid string) []byte {
	k := make([]byte, 4+len(uid))
	binary.BigEndian.PutUint32(k, ^(uint32(total) ^ 1<<31))
	copy(k[4:], uid)
	return k
}
