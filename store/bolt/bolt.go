// Package bolt is the single-node actors.Store: one bbolt file.
//
// Bucket "players" maps a uid to its record (JSON, see package store).
// Bucket "board" is the leaderboard's index: one empty value per player who
// finished a round, under a key that sorts in leaderboard order (the total
// inverted, big-endian, then the uid). Save rewrites the record and moves its
// index key in one transaction, and a bbolt commit is on disk (fsync) before
// it returns, so a record confirmed to a room survives SIGKILL.
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

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/store"
)

var (
	playersBucket = []byte("players")
	boardBucket   = []byte("board")
)

// lockTimeout bounds the wait for a file another process holds open.
const lockTimeout = 2 * time.Second

// Store is a bbolt-backed actors.Store.
type Store struct {
	db *bbolt.DB
	w  *committer
}

var _ actors.Store = (*Store)(nil)

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
	return &Store{db: db, w: startCommitter(db)}, nil
}

// Close finishes the saves under way, then closes the file.
func (s *Store) Close() error {
	s.w.close()
	return s.db.Close()
}

func (s *Store) Load(uid string) (actors.PlayerRecord, error) {
	var rec actors.PlayerRecord
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		rec, _, err = get(tx, uid)
		return err
	})
	return rec, err
}

// Save returns once the record is on disk, in a transaction it may share
// with other saves (see committer).
func (s *Store) Save(uid string, rec actors.PlayerRecord) error {
	stored := rec
	stored.Writes++
	data, err := store.EncodeRecord(stored)
	if err != nil {
		return err
	}
	return s.w.save(saveReq{uid: uid, rec: rec, data: data})
}

// put writes one record and moves its leaderboard key.
func put(tx *bbolt.Tx, r saveReq) error {
	old, found, err := get(tx, r.uid)
	if err != nil {
		return err
	}
	if old.Writes != r.rec.Writes {
		return actors.ErrStale
	}
	board := tx.Bucket(boardBucket)
	if found && old.Rounds > 0 {
		if err := board.Delete(boardKey(old.Total, r.uid)); err != nil {
			return err
		}
	}
	if r.rec.Rounds > 0 {
		if err := board.Put(boardKey(r.rec.Total, r.uid), nil); err != nil {
			return err
		}
	}
	return tx.Bucket(playersBucket).Put([]byte(r.uid), r.data)
}

func (s *Store) Top(n int) ([]actors.RankedPlayer, error) {
	var out []actors.RankedPlayer
	err := s.walk(func(p actors.RankedPlayer, r *actors.Ranker) bool {
		if len(out) == n {
			return true
		}
		out = append(out, r.Next(p))
		return false
	})
	return out, err
}

func (s *Store) Around(uid string, k int) ([]actors.RankedPlayer, error) {
	w := actors.NewWindow(uid, k)
	if err := s.walk(func(p actors.RankedPlayer, _ *actors.Ranker) bool { return w.Add(p) }); err != nil {
		return nil, err
	}
	return w.Result()
}

// walk feeds the leaderboard to fn in order until fn returns true.
func (s *Store) walk(fn func(actors.RankedPlayer, *actors.Ranker) bool) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		var r actors.Ranker
		c := tx.Bucket(boardBucket).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			uid := string(k[4:])
			rec, _, err := get(tx, uid)
			if err != nil {
				return err
			}
			p := actors.RankedPlayer{UID: uid, Uname: rec.Uname, Uavatar: rec.Uavatar, Standing: rec.Standing}
			if fn(p, &r) {
				return nil
			}
		}
		return nil
	})
}

func get(tx *bbolt.Tx, uid string) (actors.PlayerRecord, bool, error) {
	data := tx.Bucket(playersBucket).Get([]byte(uid))
	if data == nil {
		return actors.PlayerRecord{}, false, nil
	}
	rec, err := store.DecodeRecord(data)
	if err != nil {
		return actors.PlayerRecord{}, false, fmt.Errorf("bolt: record of %s: %w", uid, err)
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
