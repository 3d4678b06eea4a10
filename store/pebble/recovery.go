package pebble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2/record"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/wal"
)

// walScan is what one WAL file holds, read as Pebble's recovery reads it.
type walScan struct {
	file    string
	records int   // batches that read whole
	bytes   int64 // where the last whole batch ends
	size    int64
	// discarded is how many bytes after the last whole batch hold
	// something other than zeros or an older log's leftovers (a WAL file
	// is reused): a write cut short, or damage. Pebble drops them.
	discarded int64
	err       error // reading stopped on this (nil: a clean end)
	// intactAt is the offset of a whole chunk of this log after the place
	// reading stopped, or -1: damage in the middle of the log, not a
	// write cut short at its end.
	intactAt int64
}

// scanWALs reads every WAL in dir before Pebble opens it, so that the
// store can say afterwards what recovery replayed and what it dropped:
// Pebble drops a damaged tail of the newest WAL without a word.
func scanWALs(dir string) map[string]walScan {
	out := make(map[string]walScan)
	logs, err := wal.Scan(wal.Dir{FS: vfs.Default, Dirname: dir})
	if err != nil {
		return out
	}
	for _, ll := range logs {
		if ll.NumSegments() != 1 {
			continue // failover is not used: one file per log
		}
		_, path := ll.SegmentLocation(0)
		s := walScan{file: filepath.Base(path), intactAt: -1}
		if st, err := os.Stat(path); err == nil {
			s.size = st.Size()
		}
		r := ll.OpenForRead()
		for {
			rec, off, err := r.NextRecord()
			if err == nil {
				var n int64
				n, err = io.Copy(io.Discard, rec)
				if err == nil {
					s.records++
					s.bytes = off.Physical + n
					continue
				}
			}
			if !errors.Is(err, io.EOF) {
				s.err = err
				s.discarded = tailBytes(path, s.bytes, uint32(ll.Num))
				if s.discarded > 0 {
					s.intactAt = intactChunkAfter(path, s.bytes, uint32(ll.Num))
				}
			}
			break
		}
		r.Close()
		out[s.file] = s
	}
	return out
}

// tailBytes counts the bytes of path from off that Pebble drops and that
// were this log's: not zeros (preallocated space), and not what a recycled
// WAL file still holds of the log it was before, which Pebble rightly
// ignores. The header at off tells: a chunk header with this log's number
// is a record of this log that does not read. Anything else is this log's
// too, unless the file holds whole chunks of another log (it is a
// recycled file, and off is where the old contents begin).
func tailBytes(path string, off int64, logNum uint32) int64 {
	data, err := os.ReadFile(path)
	if err != nil || off >= int64(len(data)) {
		return 0
	}
	tail := data[off:]
	if len(bytes.Trim(tail, "\x00")) == 0 {
		return 0
	}
	if len(tail) >= 11 && tail[6] >= 5 && tail[6] <= 12 && binary.LittleEndian.Uint32(tail[7:]) == logNum {
		return int64(len(tail))
	}
	if findChunk(data, off, func(n uint32) bool { return n != logNum }) >= 0 {
		return 0
	}
	return int64(len(tail))
}

// intactChunkAfter is the offset of a whole chunk of log logNum after off,
// or -1. Pebble v2.1.7 takes damage in the last block of the newest WAL
// for a write cut short and drops the saves after it; this finds them.
func intactChunkAfter(path string, off int64, logNum uint32) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	return findChunk(data, off+1, func(n uint32) bool { return n == logNum })
}

// findChunk looks from off for a whole chunk of a log whose number want
// accepts: a header of the recyclable or WAL-sync formats, a length that
// fits its 32 KiB block, and a checksum that matches (masked CRC-32C of
// the type byte through the payload, as package record writes).
func findChunk(data []byte, off int64, want func(logNum uint32) bool) int64 {
	const block = 32 << 10
	for p := int(off); p+11 <= len(data); p++ {
		typ := data[p+6]
		if typ < 5 || typ > 12 || !want(binary.LittleEndian.Uint32(data[p+7:])) {
			continue
		}
		hs := 11
		if typ >= 9 {
			hs = 19
		}
		end := p + hs + int(binary.LittleEndian.Uint16(data[p+4:]))
		if end > len(data) || p/block != (end-1)/block {
			continue
		}
		c := crc32.Checksum(data[p+6:end], castagnoli)
		if c>>15|c<<17+0xa282ead8 == binary.LittleEndian.Uint32(data[p:]) {
			return int64(p)
		}
	}
	return -1
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// readTracker is a vfs.FS that notes the WAL files Pebble opens to read:
// during Open those are the logs it replays.
type readTracker struct {
	vfs.FS
	mu    sync.Mutex
	read  map[string]bool
	track bool
}

func (t *readTracker) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	if strings.HasSuffix(name, ".log") {
		t.mu.Lock()
		if t.track {
			t.read[filepath.Base(name)] = true
		}
		t.mu.Unlock()
	}
	return t.FS.Open(name, opts...)
}

func (t *readTracker) replayed() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.track = false
	var out []string
	for n := range t.read {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var fileNum = regexp.MustCompile(`\b\d{6}\b`)

// namedFiles lists the files of dir that err speaks of: Pebble names a
// file by its number ("corrupt wal 000004", "sstable 000012").
func namedFiles(dir string, err error) []string {
	entries, rerr := os.ReadDir(dir)
	if rerr != nil {
		return nil
	}
	msg := err.Error()
	var out []string
	seen := map[string]bool{}
	for _, num := range fileNum.FindAllString(msg, -1) {
		for _, e := range entries {
			if strings.Contains(e.Name(), num) && !seen[e.Name()] && !strings.HasPrefix(e.Name(), "marker.") {
				seen[e.Name()] = true
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	for _, e := range entries { // a name Pebble gives whole (MANIFEST-000001, OPTIONS-000003)
		if !seen[e.Name()] && strings.Contains(msg, e.Name()) {
			seen[e.Name()] = true
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	if len(out) == 0 && (strings.Contains(msg, "key=value") || strings.Contains(strings.ToLower(msg), "options")) {
		for _, e := range entries { // Pebble's OPTIONS parser names no file
			if strings.HasPrefix(e.Name(), "OPTIONS-") {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}

// DamagedError is a store that cannot be opened or read as written. Its
// message names the files and the next step; no panic or stack trace.
type DamagedError struct {
	Dir   string
	Files []string
	Err   error
}

func (e *DamagedError) Error() string {
	where := e.Dir
	if len(e.Files) > 0 {
		where = strings.Join(e.Files, ", ")
	}
	return fmt.Sprintf("store %s is damaged (%s): %v. Next: `caiquan store check -store-path %s` says what can be read; "+
		"then restore from a checkpoint (POST /store/checkpoint) or an export (`caiquan store import`)",
		e.Dir, where, e.Err, e.Dir)
}

func (e *DamagedError) Unwrap() error { return e.Err }

var errRecoveredPanic = errors.New("pebble: panic")

func panicError(r any) error {
	return fmt.Errorf("%w: %v", errRecoveredPanic, r)
}

// isRecordError tells the errors of a WAL's record reader.
func isRecordError(err error) bool {
	return record.IsInvalidRecord(err) || errors.Is(err, record.ErrInvalidChunk) || errors.Is(err, record.ErrZeroedChunk)
}
