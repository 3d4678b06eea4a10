package pebble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store"
)

// Report is what Check found.
type Report struct {
	Records int // player records that read
	Board   int // players on the leaderboard
	Damaged []Damage
}

// Damage is one key that does not read as written.
type Damage struct {
	Key string
	Err error
}

// Check reads every key of the store, which verifies the checksum of
// every data block, decodes every record, and checks the leaderboard's
// keys and counts against the records. A block that fails its checksum is
// an error (DamagedError, naming the file); damaged records and an index
// that disagrees are listed in the report.
func (s *Store) Check() (Report, error) {
	var rep Report
	snap := s.db.NewSnapshot()
	defer snap.Close()
	it, err := snap.NewIter(nil)
	if err != nil {
		return rep, err
	}
	defer it.Close()
	board := map[string]int32{}  // from the records
	onBoard := map[string]bool{} // from the b/ keys
	counts := map[int32]int64{}
	bad := func(key []byte, err error) { rep.Damaged = append(rep.Damaged, Damage{Key: string(key), Err: err}) }
	for ok := it.First(); ok; ok = it.Next() {
		key := it.Key()
		switch {
		case bytes.HasPrefix(key, recordPre):
			rec, err := store.DecodeRecord(it.Value())
			if err != nil {
				bad(key, err)
				continue
			}
			rep.Records++
			if rec.Rounds > 0 {
				board[string(key[len(recordPre):])] = rec.Total
			}
		case bytes.HasPrefix(key, boardPre):
			if len(key) < len(boardPre)+4 {
				bad(key, errors.New("a leaderboard key too short"))
				continue
			}
			uid := string(key[len(boardPre)+4:])
			onBoard[uid] = true
			rep.Board++
			counts[totalOf(key[len(boardPre):])]--
			if t, ok := board[uid]; ok && t != totalOf(key[len(boardPre):]) {
				bad(key, fmt.Errorf("the leaderboard has %s at total %d, the record says %d", uid, totalOf(key[len(boardPre):]), t))
			}
		case bytes.HasPrefix(key, countPre):
			n, err := readCount(it.Value())
			if err != nil || len(key) != len(countPre)+4 {
				bad(key, errBadCount)
				continue
			}
			counts[totalOf(key[len(countPre):])] += n
		}
	}
	if err := it.Error(); err != nil {
		return rep, s.readError(err)
	}
	for uid := range board {
		if !onBoard[uid] {
			bad(recordKey(uid), errors.New("finished a round but is not on the leaderboard"))
		}
	}
	for uid := range onBoard {
		if _, ok := board[uid]; !ok {
			bad([]byte(uid), errors.New("on the leaderboard without a record that finished a round"))
		}
	}
	for t, n := range counts {
		if n != 0 {
			bad(countKey(t), fmt.Errorf("the count of total %d is off by %d", t, n))
		}
	}
	if err := s.db.CheckLevels(nil); err != nil {
		return rep, s.readError(err)
	}
	return rep, s.validateTables()
}

// validateTables checks the checksum of every block of every data file:
// the index, filter and property blocks too, which reading the keys does
// not touch.
func (s *Store) validateTables() error {
	levels, err := s.db.SSTables()
	if err != nil {
		return err
	}
	for _, level := range levels {
		for _, t := range level {
			if t.BackingType != pebble.BackingTypeLocal {
				continue
			}
			path := filepath.Join(s.dir, t.BackingSSTNum.String()+".sst")
			if err := validateTable(path); err != nil {
				return &DamagedError{Dir: s.dir, Files: []string{path}, Err: err}
			}
		}
	}
	return nil
}

func validateTable(path string) error {
	f, err := vfs.Default.Open(path)
	if err != nil {
		return err
	}
	readable, err := sstable.NewSimpleReadable(f)
	if err != nil {
		f.Close()
		return err
	}
	r, err := sstable.NewReader(context.Background(), readable, sstable.ReaderOptions{
		Mergers: sstable.Mergers{counter.Name: counter},
	})
	if err != nil {
		readable.Close()
		return err
	}
	defer r.Close()
	return r.ValidateBlockChecksums()
}

// Each calls fn with every record in uid order; a damaged one comes with
// its error instead (and a zero record).
func (s *Store) Each(fn func(uid string, rec caiquan.PlayerRecord, err error) error) error {
	snap := s.db.NewSnapshot()
	defer snap.Close()
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: recordPre, UpperBound: prefixEnd(recordPre)})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		uid := string(it.Key()[len(recordPre):])
		rec, err := store.DecodeRecord(it.Value())
		if err != nil {
			err = &store.DamageError{Key: string(it.Key()), Err: err}
		}
		if err := fn(uid, rec, err); err != nil {
			return err
		}
	}
	return s.readError(it.Error())
}
