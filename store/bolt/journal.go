package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// journal is the append-only file that makes a save durable: a group of
// saves is one batch (see frame.go), one write and one fsync, however many
// players and however large the bbolt file. bbolt gets the saves later, in
// large transactions (see committer.flush), because a bbolt commit rewrites
// every page it touches: with thousands of players saving at random keys,
// small commits copied and fsynced far more than they saved.
//
// The journal is a numbered series of segment files beside the bbolt file
// (caiquan.db.journal.000001, ...). A flush seals the current segment and
// starts the next; once bbolt holds a sealed segment's saves, the segment is
// removed. Open replays whatever segments a stopped process left.
type journal struct {
	prefix string // the bbolt file's path + ".journal."
	f      *os.File
	seq    uint64
	size   int64
}

func journalPrefix(dbPath string) string { return dbPath + ".journal." }

func segmentName(prefix string, seq uint64) string {
	return fmt.Sprintf("%s%06d", prefix, seq)
}

// segments lists the segment files under prefix, oldest first.
func segments(prefix string) ([]uint64, error) {
	names, err := filepath.Glob(prefix + "*")
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, name := range names {
		seq, err := strconv.ParseUint(strings.TrimPrefix(name, prefix), 10, 64)
		if err != nil {
			continue // not ours
		}
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}

// startSegment creates segment seq and makes its name durable, so a save
// acknowledged from it is found after a crash.
func startSegment(prefix string, seq uint64) (*journal, error) {
	f, err := os.OpenFile(segmentName(prefix, seq), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bolt: journal: %w", err)
	}
	if err := syncDir(filepath.Dir(prefix)); err != nil {
		f.Close()
		return nil, err
	}
	return &journal{prefix: prefix, f: f, seq: seq}, nil
}

// write appends one encoded batch and returns once it is on disk. After a
// failed write the segment is cut back to where it was, so what follows is
// never behind a broken batch; if even that fails, the journal is unusable.
func (j *journal) write(batch []byte) (usable bool, err error) {
	if _, err = j.f.Write(batch); err == nil {
		err = j.f.Sync()
	}
	if err == nil {
		j.size += int64(len(batch))
		return true, nil
	}
	if terr := j.f.Truncate(j.size); terr != nil {
		return false, fmt.Errorf("bolt: journal: %w (and cutting it back: %v)", err, terr)
	}
	return true, fmt.Errorf("bolt: journal: %w", err)
}

func (j *journal) close() error { return j.f.Close() }

// readSegment returns the saves of one segment in order. A batch that does
// not decode ends it: a batch is written only after the one before it is
// on disk, so a broken one can only be the last, a write the process did not
// live to finish, whose saves were never acknowledged.
// cut is how many bytes after the last good batch were left unread.
func readSegment(prefix string, seq uint64) (saves []journalEntry, cut int, err error) {
	data, err := os.ReadFile(segmentName(prefix, seq))
	if err != nil {
		return nil, 0, fmt.Errorf("bolt: journal: %w", err)
	}
	for len(data) > 0 {
		entries, size, ok := nextBatch(data)
		if !ok {
			return saves, len(data), nil
		}
		saves = append(saves, entries...)
		data = data[size:]
	}
	return saves, 0, nil
}

func removeSegments(prefix string, seqs []uint64) error {
	for _, seq := range seqs {
		if err := os.Remove(segmentName(prefix, seq)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("bolt: journal: %w", err)
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("bolt: journal: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("bolt: journal: sync %s: %w", dir, err)
	}
	return nil
}
