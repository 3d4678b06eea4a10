// Package bolt reads the player records of the bbolt store that earlier
// releases kept (a bbolt file, and journal segments beside it named
// FILE.journal.N), so that a server that finds one migrates it into the
// embedded store (store/pebble). Nothing here writes: bbolt is no longer a
// live store.
//
// Bucket "players" of the file maps a uid to its record (JSON, package
// store). A journal segment is a run of batches of saves; each save is
// newer than the file's record when its Writes is larger.
package bolt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store"
)

var playersBucket = []byte("players")

// lockTimeout bounds the wait for a file another process holds open.
const lockTimeout = 2 * time.Second

// Old is what an old bbolt store held: each uid's newest record.
type Old struct {
	Records map[string]caiquan.PlayerRecord
	// FromFile counts the records read from the file; FromJournal the
	// saves read from its segments (several may be of one uid).
	FromFile, FromJournal int
	// Segments are the journal files read, oldest first.
	Segments []string
	// Cut is how many bytes at the end of the newest segment did not
	// decode: a write the old server did not live to finish, never
	// acknowledged. Damage before newer segments is an error instead.
	Cut int
}

// IsFile reports whether path is a bbolt file (by its magic number), as
// opposed to a directory, a missing path or something else.
func IsFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false
	}
	// A bbolt meta page: the page header (16 bytes), then magic 0xED0CDAED
	// in the host's (little-endian) order.
	var b [20]byte
	if _, err := f.ReadAt(b[:], 0); err != nil {
		return false
	}
	return b[16] == 0xED && b[17] == 0xDA && b[18] == 0x0C && b[19] == 0xED
}

// Read reads the file at path and its journal segments, read-only. A panic
// from bbolt on a damaged file is returned as an error naming the file.
func Read(path string) (old *Old, err error) {
	old = &Old{Records: make(map[string]caiquan.PlayerRecord)}
	defer func() {
		if r := recover(); r != nil {
			old, err = nil, fmt.Errorf("bolt: %s is damaged (%v)", path, r)
		}
	}()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout, ReadOnly: true})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("bolt: %s is in use by another process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(playersBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			rec, err := store.DecodeRecord(v)
			if err != nil {
				return fmt.Errorf("bolt: %s: record of %q: %w", path, k, err)
			}
			old.Records[string(k)] = rec
			old.FromFile++
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if err := old.readJournal(path); err != nil {
		return nil, err
	}
	return old, nil
}

// SegmentPrefix is what the journal segments of the file at path are
// named after.
func SegmentPrefix(path string) string { return path + ".journal." }

// segments lists the segment files of path, oldest first.
func segments(path string) ([]string, error) {
	prefix := SegmentPrefix(path)
	names, err := filepath.Glob(prefix + "*")
	if err != nil {
		return nil, err
	}
	type seg struct {
		seq  uint64
		name string
	}
	var segs []seg
	for _, name := range names {
		seq, err := strconv.ParseUint(strings.TrimPrefix(name, prefix), 10, 64)
		if err != nil {
			continue // not a segment
		}
		segs = append(segs, seg{seq, name})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].seq < segs[j].seq })
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s.name
	}
	return out, nil
}

func (old *Old) readJournal(path string) error {
	names, err := segments(path)
	if err != nil {
		return fmt.Errorf("bolt: journal of %s: %w", path, err)
	}
	old.Segments = names
	for i, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("bolt: journal: %w", err)
		}
		for len(data) > 0 {
			entries, size, ok := nextBatch(data)
			if !ok {
				break
			}
			for _, e := range entries {
				old.FromJournal++
				if cur, ok := old.Records[e.uid]; !ok || e.rec.Writes > cur.Writes {
					old.Records[e.uid] = e.rec
				}
			}
			data = data[size:]
		}
		if len(data) > 0 {
			// Only the newest segment can end in a write that did not finish.
			if i < len(names)-1 {
				return fmt.Errorf("bolt: journal %s is damaged: %d bytes at its end do not decode, and newer segments follow", name, len(data))
			}
			old.Cut = len(data)
		}
	}
	return nil
}
