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
			// off is where the last whole record ends: the reader sets it
			// before each record, and returns it with the end or the error.
			rec, off, err := r.NextRecord()
			s.bytes = off.Physical
			if err == nil {
				if _, err = io.Copy(io.Discard, rec); err == nil {
					s.records++
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
// ignores. The header of the first chunk at or after off tells: a chunk
// header with this log's number is a record of this log that does not
// read. Anything else is this log's too, unless the file holds whole
// chunks of another log (it is a recycled file, and off is where the old
// contents begin).
func tailBytes(path string, off int64, logNum uint32) int64 {
	data, err := os.ReadFile(path)
	if err != nil || off >= int64(len(data)) {
		return 0
	}
	tail := data[off:]
	if len(bytes.Trim(tail, "\x00")) == 0 {
		return 0
	}
	if h := data[nextChunkStart(data, off):]; len(h) >= 11 && h[6] >= 5 && h[6] <= 12 && binary.LittleEndian.Uint32(h[7:]) == logNum {
		return int64(len(tail))
	}
	if findChunk(data, off, func(n uint32, _ byte) bool { return n != logNum }) >= 0 {
		return 0
	}
	return int64(len(tail))
}

// intactChunkAfter is the offset of a whole chunk of log logNum that
// begins a record after the one at off (the record that does not read),
// or -1. Pebble v2.1.7 takes damage in the last block of the newest WAL
// for a write cut short and drops the saves after it; this finds them. The
// record at off may itself be whole in part: a record that spans blocks,
// cut short after its first chunk, is a write cut short, not damage.
func intactChunkAfter(path string, off int64, logNum uint32) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	begins := func(n uint32, pos byte) bool { return n == logNum && (pos == chunkFull || pos == chunkFirst) }
	return findChunk(data, nextChunkStart(data, off)+1, begins)
}

const walBlock = 32 << 10

// nextChunkStart is where the record after a record ending at off begins:
// off, or the next block when the rest of off's block is zeros too short
// for a chunk header (the writer pads a block's end so).
func nextChunkStart(data []byte, off int64) int64 {
	rest := walBlock - off%walBlock
	if rest >= 19 || off+rest > int64(len(data)) {
		return off
	}
	if len(bytes.Trim(data[off:off+rest], "\x00")) != 0 {
		return off
	}
	return off + rest
}

// Where a chunk sits in its record, from its type byte (package record's
// recyclable types 5-8 and WAL-sync types 9-12 both go full, first,
// middle, last).
const (
	chunkFull = iota
	chunkFirst
	chunkMiddle
	chunkLast
)

// findChunk looks from off for a whole chunk that want accepts, given its
// log number and its place in its record: a header of the recyclable or
// WAL-sync formats, a length that fits its 32 KiB block, and a checksum
// that matches (masked CRC-32C of the type byte through the payload, as
// package record writes).
func findChunk(data []byte, off int64, want func(logNum uint32, pos byte) bool) int64 {
	for p := int(off); p+11 <= len(data); p++ {
		typ := data[p+6]
		if typ < 5 || typ > 12 || !want(binary.LittleEndian.Uint32(data[p+7:]), (typ-5)%4) {
			continue
		}
		hs := 11
		if typ >= 9 {
			hs = 19
		}
		end := p + hs + int(binary.LittleEndian.Uint16(data[p+4:]))
		if end > len(data) || p/walBlock != (end-1)/walBlock {
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
