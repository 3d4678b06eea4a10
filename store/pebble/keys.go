package pebble

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// The key space. Every record change writes its record, its leaderboard
// key and its count in one synced batch, so the three never disagree.
var (
	formatKey   = []byte("m/format")   // the store's format version, decimal
	migratedKey = []byte("m/migrated") // what a migration from bbolt moved (JSON)
	recordPre   = []byte("p/")         // p/UID: the record, JSON (package store)
	boardPre    = []byte("b/")         // b/TOTAL UID: the leaderboard, empty values
	countPre    = []byte("c/")         // c/TOTAL: how many players have that total
	avatarPre   = []byte("a/")         // a/NAME: a player's picture, PNG or JPEG bytes
	namedPre    = []byte("u/")         // u/UID: the name of uid's picture
)

func avatarKey(name string) []byte { return append(append([]byte(nil), avatarPre...), name...) }
func namedKey(uid string) []byte   { return append(append([]byte(nil), namedPre...), uid...) }

func recordKey(uid string) []byte { return appendRecordKey(nil, uid) }

// appendRecordKey appends uid's record key to dst: a save builds its keys
// in a buffer on its stack (the batch copies them), not one each on the heap.
func appendRecordKey(dst []byte, uid string) []byte {
	return append(append(dst, recordPre...), uid...)
}

// sortTotal maps a total to 4 bytes that sort higher totals first: the
// total made unsigned in order, then inverted.
func sortTotal(dst []byte, total int32) []byte {
	return binary.BigEndian.AppendUint32(dst, ^(uint32(total) ^ 1<<31))
}

func totalOf(b []byte) int32 { return int32(^binary.BigEndian.Uint32(b) ^ 1<<31) }

func boardKey(total int32, uid string) []byte {
	return appendBoardKey(make([]byte, 0, len(boardPre)+4+len(uid)), total, uid)
}

func appendBoardKey(dst []byte, total int32, uid string) []byte {
	return append(sortTotal(append(dst, boardPre...), total), uid...)
}

func countKey(total int32) []byte {
	return appendCountKey(make([]byte, 0, len(countPre)+4), total)
}

func appendCountKey(dst []byte, total int32) []byte {
	return sortTotal(append(dst, countPre...), total)
}

// keyRoom is the room a save's keys have on its stack: enough for a uid
// of up to 58 bytes (a WeChat or guest uid has 26 or 27). A longer uid's
// keys go to the heap.
const keyRoom = 64

// prefixEnd is the first key after every key that starts with p (whose
// last byte is below 0xff: the prefixes above).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	end[len(end)-1]++
	return end
}

func countValue(n int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(n)) }

// countUp and countDown are the merge operands of a save that moves a
// player's total; Merge copies them, and nothing writes to them.
var countUp, countDown = countValue(1), countValue(-1)

var errBadCount = errors.New("pebble: a leaderboard count is not 8 bytes")

func readCount(v []byte) (int64, error) {
	if len(v) != 8 {
		return 0, errBadCount
	}
	return int64(binary.LittleEndian.Uint64(v)), nil
}

// counter is the merge operator of the c/ keys: it adds. The name is
// stored in the store's OPTIONS; a store is opened only with a merger of
// the same name.
var counter = &pebble.Merger{
	Name: "caiquan.count.v1",
	Merge: func(_, value []byte) (pebble.ValueMerger, error) {
		n, err := readCount(value)
		return &sum{n: n}, err
	},
}

type sum struct{ n int64 }

func (s *sum) add(v []byte) error {
	n, err := readCount(v)
	s.n += n
	return err
}

func (s *sum) MergeNewer(v []byte) error { return s.add(v) }
func (s *sum) MergeOlder(v []byte) error { return s.add(v) }
func (s *sum) Finish(bool) ([]byte, io.Closer, error) {
	return countValue(s.n), nil, nil
}
