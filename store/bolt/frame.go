package bolt

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// A journal batch of the old bbolt store is one group of saves:
//
//	length uint32 (little-endian, of the body) | crc32c(body) uint32 | body
//
// and the body is a count, then each save: uid, then the record as it is
// stored (Writes already counted). Numbers are varints. Only the reader is
// left: nothing writes this form any more.

const batchHeader = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errBadBatch = errors.New("journal batch does not decode")

type journalEntry struct {
	uid string
	rec caiquan.PlayerRecord
}

// nextBatch reads the batch at the start of data. ok is false when data
// holds no whole, intact batch there: the end of the journal, or a write
// the process did not live to finish.
func nextBatch(data []byte) (entries []journalEntry, size int, ok bool) {
	if len(data) < batchHeader {
		return nil, 0, false
	}
	n := int(binary.LittleEndian.Uint32(data))
	if n > len(data)-batchHeader {
		return nil, 0, false
	}
	body := data[batchHeader : batchHeader+n]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[4:]) {
		return nil, 0, false
	}
	entries, err := decodeBatchBody(body)
	if err != nil {
		return nil, 0, false
	}
	return entries, batchHeader + n, true
}

func decodeBatchBody(body []byte) ([]journalEntry, error) {
	d := decoder{buf: body}
	count := d.uvarint()
	if count > uint64(len(body)) {
		return nil, errBadBatch
	}
	entries := make([]journalEntry, 0, count)
	for range count {
		uid := d.string()
		rec := d.record()
		if d.err != nil {
			return nil, d.err
		}
		entries = append(entries, journalEntry{uid: uid, rec: rec})
	}
	if d.err != nil || len(d.buf) != 0 {
		return nil, errBadBatch
	}
	return entries, nil
}

// decoder reads varints and strings, remembering the first error.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) uvarint() uint64 { return readVarint(d, binary.Uvarint) }
func (d *decoder) varint() int64   { return readVarint(d, binary.Varint) }

// readVarint takes one varint off d with read, unless a read before failed.
func readVarint[T uint64 | int64](d *decoder, read func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := read(d.buf)
	if n <= 0 {
		d.err = errBadBatch
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) int32() int32 {
	v := d.varint()
	if int64(int32(v)) != v {
		d.err = errBadBatch
	}
	return int32(v)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.buf)) {
		d.err = errBadBatch
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

func (d *decoder) record() caiquan.PlayerRecord {
	var r caiquan.PlayerRecord
	r.Writes = d.varint()
	r.Standing = rules.Standing{Total: d.int32(), Streak: d.int32()}
	r.Rounds = int(d.varint())
	r.Uname = d.string()
	r.Uavatar = d.string()
	if seen := d.varint(); seen != 0 {
		r.LastSeen = time.Unix(0, seen).UTC()
	}
	n := d.uvarint()
	if n > uint64(len(d.buf)) {
		d.err = errBadBatch
		return r
	}
	if n > 0 {
		r.Recent = make([]caiquan.AppliedRound, 0, n)
	}
	for range n {
		id := d.string()
		score, total, streak := d.int32(), d.int32(), d.int32()
		r.Recent = append(r.Recent, caiquan.AppliedRound{RoundID: id, Outcome: rules.Outcome{
			RoundScore: score, Standing: rules.Standing{Total: total, Streak: streak}}})
	}
	return r
}
