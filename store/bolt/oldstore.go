package bolt

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"

	bbolt "go.etcd.io/bbolt"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store"
)

// WriteOld writes a bbolt store as an earlier release left it: the file
// with records, and one journal segment per element of segments (each a
// list of saves, with tail appended to the last one). It exists for the
// tests of the migration; the server never writes bbolt.
func WriteOld(path string, records map[string]caiquan.PlayerRecord, segments [][]Save, tail []byte) error {
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(playersBucket)
		if err != nil {
			return err
		}
		for uid, rec := range records {
			data, err := store.EncodeRecord(rec)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(uid), data); err != nil {
				return err
			}
		}
		return nil
	})
	if err := db.Close(); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	for i, saves := range segments {
		var buf []byte
		for _, s := range saves {
			buf = appendBatch(buf, []journalEntry{{uid: s.UID, rec: s.Rec}})
		}
		if i == len(segments)-1 {
			buf = append(buf, tail...)
		}
		if err := os.WriteFile(fmt.Sprintf("%s%06d", SegmentPrefix(path), i+1), buf, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Save is one save in a journal segment.
type Save struct {
	UID string
	Rec caiquan.PlayerRecord
}

// appendBatch appends one batch holding entries to buf.
func appendBatch(buf []byte, entries []journalEntry) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, batchHeader)...)
	buf = binary.AppendUvarint(buf, uint64(len(entries)))
	for _, e := range entries {
		buf = appendString(buf, e.uid)
		buf = appendRecord(buf, e.rec)
	}
	body := buf[start+batchHeader:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(body, castagnoli))
	return buf
}
func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}
func appendRecord(buf []byte, r caiquan.PlayerRecord) []byte {
	buf = binary.AppendVarint(buf, r.Writes)
	buf = binary.AppendVarint(buf, int64(r.Total))
	buf = binary.AppendVarint(buf, int64(r.Streak))
	buf = binary.AppendVarint(buf, int64(r.Rounds))
	buf = appendString(buf, r.Uname)
	buf = appendString(buf, r.Uavatar)
	var seen int64 // zero time stays zero
	if !r.LastSeen.IsZero() {
		seen = r.LastSeen.UnixNano()
	}
	buf = binary.AppendVarint(buf, seen)
	buf = binary.AppendUvarint(buf, uint64(len(r.Recent)))
	for _, a := range r.Recent {
		buf = appendString(buf, a.RoundID)
		buf = binary.AppendVarint(buf, int64(a.RoundScore))
		buf = binary.AppendVarint(buf, int64(a.Total))
		buf = binary.AppendVarint(buf, int64(a.Streak))
	}
	return buf
}
