// Package pebble is the single-node caiquan.Store: a directory kept by
// Pebble, an embedded key-value engine with its own write-ahead log and a
// checksum on every block (store: pebble, store_path).
//
// Keys (keys.go): p/UID the record (JSON, package store, with its version
// "v"); b/TOTAL UID the leaderboard in its order (total descending, then
// uid in byte order); c/TOTAL how many players have a total (a merge
// operator that adds), which gives a rank without walking the players
// before it; m/format the store's format version. A Save writes the
// record, moves its leaderboard key and its counts in one batch committed
// with Sync: Pebble's commit pipeline lets the saves of many player actors
// share one fsync, so there is no batching or log of our own.
//
// Save is a compare-and-swap on the record's Writes; a lock per uid (one
// of lockStripes) makes the read and the write one step. Top reads the
// first n leaderboard keys and their records; Around reads 2k+1 keys and
// records and the counts of the totals above them.
//
// Open says what recovery replayed and what it dropped, checks every
// block's checksum and every record, and refuses a store of a newer format
// or one whose WAL or MANIFEST is damaged, with a message that names the
// file and the next step (DamagedError). A record that cannot be read while
// serving is reported (Options.OnDamaged) and its Load fails: the player
// is told to try later, never given a zero record.
package pebble

import (
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store"
)

// lockStripes is how many locks the uids share; two saves of different
// uids wait on each other only when their uids hash alike.
const lockStripes = 1024

// Options are Open's settings; the zero value is usable.
type Options struct {
	Log *slog.Logger
	// WriteVersion is the record version Save writes (setting
	// store_write_version); 0 is store.RecordVersion.
	WriteVersion int
	// OnDamaged is told of each damaged record met (after it is logged).
	OnDamaged func(key string, err error)
	// ReadOnly opens without writing: for check and export of a store no
	// server runs on (or of a checkpoint).
	ReadOnly bool
	// SkipCheck leaves out Open's read of every record.
	SkipCheck bool

	memTableSize uint64 // tests: small memtables make many WALs, recycled
}

// Store is a Pebble-backed caiquan.Store.
type Store struct {
	db        *pebble.DB
	dir       string
	log       *slog.Logger
	version   int
	onDamaged func(string, error)
	seed      maphash.Seed
	locks     [lockStripes]sync.Mutex
	heads     []headSet // headSets of them, each guarded by its uids' lock
	opening   *atomic.Bool
	closed    atomic.Bool
	reported  sync.Map // keys of damaged records logged
}

var (
	_ caiquan.Store   = (*Store)(nil)
	_ caiquan.Players = (*Store)(nil)
)

// Open opens (or creates) the store in the directory dir.
func Open(dir string, o Options) (*Store, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.WriteVersion == 0 {
		o.WriteVersion = store.RecordVersion
	}
	if err := store.CheckVersion(o.WriteVersion); err != nil {
		return nil, fmt.Errorf("store_write_version: %w", err)
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("store %s is a file, not a store directory", dir)
	} else if err != nil && o.ReadOnly {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	s := &Store{dir: dir, log: o.Log, version: o.WriteVersion, onDamaged: o.OnDamaged,
		seed: maphash.MakeSeed(), heads: make([]headSet, headSets), opening: new(atomic.Bool)}
	scans := scanWALs(dir)
	if err := refuseMidLogDamage(dir, scans, o.Log); err != nil {
		return nil, err
	}
	fs := &readTracker{FS: vfs.Default, read: map[string]bool{}, track: true}
	s.opening.Store(true)
	db, err := openPebble(dir, &pebble.Options{
		FS:           fs,
		Merger:       counter,
		ReadOnly:     o.ReadOnly,
		MemTableSize: o.memTableSize,
		Logger:       logger{log: o.Log, opening: s.opening},
		EventListener: &pebble.EventListener{
			BackgroundError: func(err error) { o.Log.Error("store: pebble background error", "dir", dir, "err", err) },
			DataCorruption: func(info pebble.DataCorruptionInfo) {
				o.Log.Error("store: damaged data file", "file", info.Path, "err", info.Details)
			},
			WALCreated: func(info pebble.WALCreateInfo) {
				if info.RecycledFileNum != 0 {
					o.Log.Debug("store: a write-ahead log file reused", "file", info.Path, "was", info.RecycledFileNum)
				}
			},
		},
	})
	s.opening.Store(false)
	if err != nil {
		if isLockError(err) {
			return nil, fmt.Errorf("store %s is in use by another process (one server per store; "+
				"for a running server's records, POST /store/checkpoint and read the checkpoint)", dir)
		}
		return nil, &DamagedError{Dir: dir, Files: namedFiles(dir, err), Err: err}
	}
	s.db = db
	s.reportRecovery(fs.replayed(), scans)
	if err := s.checkFormat(o.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	if !o.SkipCheck {
		rep, err := s.Check()
		if err != nil {
			db.Close()
			return nil, err
		}
		s.log.Info("store: opened", "dir", dir, "records", rep.Records, "leaderboard", rep.Board)
		for _, d := range rep.Damaged {
			s.damaged(d.Key, d.Err)
		}
	}
	return s, nil
}

// openPebble is pebble.Open with a panic (Pebble panics on some damage it
// finds while opening) turned into an error.
func openPebble(dir string, opts *pebble.Options) (db *pebble.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, panicError(r)
		}
	}()
	return pebble.Open(dir, opts)
}

func isLockError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "resource temporarily unavailable") || strings.Contains(msg, "lock held")
}

// reportRecovery logs, for each WAL Pebble replayed, the batches and bytes
// it held, and any bytes past them that Pebble dropped.
func (s *Store) reportRecovery(replayed []string, scans map[string]walScan) {
	for _, name := range replayed {
		sc, ok := scans[name]
		if !ok {
			continue
		}
		s.log.Info("store: recovered from the write-ahead log", "file", filepath.Join(s.dir, name),
			"batches", sc.records, "bytes", sc.bytes)
		if sc.discarded > 0 {
			s.log.Warn("store: discarded the end of the write-ahead log: it does not read whole "+
				"(a write cut short, or damage); the saves in it were never acknowledged if it was a write cut short",
				"file", filepath.Join(s.dir, name), "offset", sc.bytes, "discarded_bytes", sc.discarded, "err", sc.err.Error())
		}
	}
}

// refuseMidLogDamage refuses a store whose WAL, one that recovery would
// replay, is damaged before intact records: Pebble would replay up to the
// damage and drop the acknowledged saves after it. Which WALs recovery
// replays only Pebble knows (the MANIFEST says which are flushed), so a
// read-only open finds out, only when a WAL is damaged at all.
func refuseMidLogDamage(dir string, scans map[string]walScan, log *slog.Logger) error {
	damaged := false
	for _, sc := range scans {
		damaged = damaged || sc.intactAt >= 0
	}
	if !damaged {
		return nil
	}
	fs := &readTracker{FS: vfs.Default, read: map[string]bool{}, track: true}
	opening := new(atomic.Bool)
	opening.Store(true)
	db, err := openPebble(dir, &pebble.Options{FS: fs, Merger: counter, ReadOnly: true, Logger: logger{log: log, opening: opening}})
	if err != nil {
		return &DamagedError{Dir: dir, Files: namedFiles(dir, err), Err: err}
	}
	db.Close()
	for _, name := range fs.replayed() {
		if sc := scans[name]; sc.intactAt >= 0 {
			return &DamagedError{Dir: dir, Files: []string{filepath.Join(dir, name)},
				Err: fmt.Errorf("the write-ahead log does not read at offset %d and intact records follow at offset %d: "+
					"recovery would drop acknowledged saves", sc.bytes, sc.intactAt)}
		}
	}
	return nil
}

// checkFormat refuses a store of a newer format, and marks a new store
// with this release's.
func (s *Store) checkFormat(readOnly bool) error {
	v, closer, err := s.db.Get(formatKey)
	if errors.Is(err, pebble.ErrNotFound) {
		if readOnly {
			return nil
		}
		return s.db.Set(formatKey, []byte(strconv.Itoa(store.FormatVersion)), pebble.Sync)
	}
	if err != nil {
		return &DamagedError{Dir: s.dir, Files: namedFiles(s.dir, err), Err: err}
	}
	defer closer.Close()
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return &DamagedError{Dir: s.dir, Err: fmt.Errorf("format marker %q does not read", v)}
	}
	if n > store.FormatVersion {
		return fmt.Errorf("store %s has format version %d; this release knows format versions up to %d: "+
			"run the release that wrote it, or a newer one", s.dir, n, store.FormatVersion)
	}
	return nil
}

// Close closes the store; every Save it acknowledged is on disk already.
// A second Close does nothing (Pebble panics on one).
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.db.Close()
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// damaged logs a damaged record and tells OnDamaged, once per key: a
// player actor that cannot load its record tries again with growing
// pauses, and each try would say it again.
func (s *Store) damaged(key string, err error) {
	if _, seen := s.reported.LoadOrStore(key, true); seen {
		return
	}
	s.log.Error("store: damaged record", "key", key, "err", err)
	if s.onDamaged != nil {
		s.onDamaged(key, err)
	}
}

// get reads uid's record from r; found is false for none. A record that
// does not decode is reported and returned as a store.DamageError.
func (s *Store) get(r pebble.Reader, uid string) (rec caiquan.PlayerRecord, found bool, err error) {
	key := recordKey(uid)
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return caiquan.PlayerRecord{}, false, nil
	}
	if err != nil {
		if pebble.IsCorruptionError(err) {
			s.damaged(string(key), err)
			return caiquan.PlayerRecord{}, false, &store.DamageError{Key: string(key), Err: err}
		}
		return caiquan.PlayerRecord{}, false, fmt.Errorf("pebble: load %s: %w", uid, err)
	}
	defer closer.Close()
	rec, err = store.DecodeRecord(v)
	if err != nil {
		s.damaged(string(key), err)
		return caiquan.PlayerRecord{}, false, &store.DamageError{Key: string(key), Err: err}
	}
	return rec, true, nil
}

func (s *Store) Load(uid string) (caiquan.PlayerRecord, error) {
	rec, _, err := s.get(s.db, uid)
	return rec, err
}

// Save returns once the record is on disk (a synced batch it may share an
// fsync with).
func (s *Store) Save(uid string, rec caiquan.PlayerRecord) error {
	mu := s.lock(uid)
	mu.Lock()
	defer mu.Unlock()
	h := s.headOf(uid)
	old := *h
	if old.uid != uid || uid == "" {
		stored, found, err := s.get(s.db, uid)
		if err != nil {
			return err
		}
		old = head{uid: uid}
		if found {
			old.writes, old.total, old.ranked = stored.Writes, stored.Total, stored.Rounds > 0
		}
	}
	if old.writes != rec.Writes {
		*h = old
		return caiquan.ErrStale
	}
	rec.Writes++
	if err := s.write(uid, old.ranked, old.total, rec); err != nil {
		*h = head{} // the batch may or may not be in: read it next time
		return err
	}
	*h = head{uid: uid, writes: rec.Writes, total: rec.Total, ranked: rec.Rounds > 0}
	return nil
}

// Put stores rec as it is, Writes included, over whatever uid has: for
// import into a store no server runs on.
func (s *Store) Put(uid string, rec caiquan.PlayerRecord) error {
	mu := s.lock(uid)
	mu.Lock()
	defer mu.Unlock()
	old, found, err := s.get(s.db, uid)
	if err != nil && !errors.Is(err, store.ErrDamaged) {
		return err
	}
	s.forget(uid)
	found = found && err == nil
	return s.write(uid, found && old.Rounds > 0, old.Total, rec)
}

// PutRaw stores data as uid's record without encoding or checking it and
// without touching the leaderboard: for tests that need a record this
// release cannot read.
func (s *Store) PutRaw(uid string, data []byte) error {
	mu := s.lock(uid)
	mu.Lock()
	defer mu.Unlock()
	s.forget(uid)
	return s.db.Set(recordKey(uid), data, pebble.Sync)
}

// write puts rec in one synced batch with its leaderboard key and counts,
// moved from where the record it replaces had them (ranked, at total).
func (s *Store) write(uid string, ranked bool, total int32, rec caiquan.PlayerRecord) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.setRecord(b, uid, rec); err != nil {
		return err
	}
	if err := moveBoard(b, uid, ranked, total, rec.Rounds > 0, rec.Total); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebble: save %s: %w", uid, err)
	}
	return nil
}

// recordBufs hold the buffers records are encoded into. Batch.Set copies
// the value into the batch, so a buffer is free again once Set returns:
// a save encodes without allocating.
var recordBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledRecord: a buffer grown past this, by a record far larger than
// a server writes, is left to the collector rather than kept.
const maxPooledRecord = 64 << 10

// setRecord adds uid's record, of the store's write version, to b.
func (s *Store) setRecord(b *pebble.Batch, uid string, rec caiquan.PlayerRecord) error {
	buf := recordBufs.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= maxPooledRecord {
			recordBufs.Put(buf)
		}
	}()
	data, err := store.AppendRecord((*buf)[:0], rec, s.version)
	if err != nil {
		return err
	}
	*buf = data
	var key [keyRoom]byte
	return b.Set(appendRecordKey(key[:0], uid), data, nil)
}

// moveBoard moves uid's leaderboard key and counts in b. The batch copies
// each key, so one buffer on the stack serves them all.
func moveBoard(b *pebble.Batch, uid string, was bool, from int32, is bool, to int32) error {
	if was == is && from == to {
		return nil
	}
	var key [keyRoom]byte
	if was {
		if err := b.Delete(appendBoardKey(key[:0], from, uid), nil); err != nil {
			return err
		}
		if err := b.Merge(appendCountKey(key[:0], from), countDown, nil); err != nil {
			return err
		}
	}
	if is {
		if err := b.Set(appendBoardKey(key[:0], to, uid), nil, nil); err != nil {
			return err
		}
		if err := b.Merge(appendCountKey(key[:0], to), countUp, nil); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes the memtable to a data file: for tests and checkpoints
// that want the data files to hold everything.
func (s *Store) Flush() error { return s.db.Flush() }

// Checkpoint writes a consistent copy of the store into dest, a directory
// that must not exist yet; the copy opens as a store (check, export, or
// start a server on it). The memtable is flushed first, so the copy's
// records are in checksummed data files, not in a copied WAL.
func (s *Store) Checkpoint(dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("checkpoint %s exists already", dest)
	}
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dest, err)
	}
	if err := s.db.Checkpoint(dest, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dest, err)
	}
	return nil
}

// Expire removes the records of guests unseen since before (not those
// without a last seen time); the removals share one fsync.
func (s *Store) Expire(before time.Time) (int, error) {
	var uids []string
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: recordPre, UpperBound: prefixEnd(recordPre)})
	if err != nil {
		return 0, err
	}
	for it.First(); it.Valid(); it.Next() {
		uid := string(it.Key()[len(recordPre):])
		if !caiquan.IsGuest(uid) {
			continue
		}
		rec, err := store.DecodeRecord(it.Value())
		if err != nil {
			continue // damaged: left for an operator to see
		}
		if expired(rec, before) {
			uids = append(uids, uid)
		}
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return 0, err
	}
	n := 0
	for _, uid := range uids {
		removed, err := s.expireOne(uid, before)
		if err != nil {
			return n, err
		}
		if removed {
			n++
		}
	}
	if n > 0 {
		// The removals went without a sync each; this one syncs them all.
		if err := s.db.LogData(nil, pebble.Sync); err != nil {
			return n, err
		}
	}
	return n, nil
}

func expired(rec caiquan.PlayerRecord, before time.Time) bool {
	return !rec.LastSeen.IsZero() && rec.LastSeen.Before(before)
}

func (s *Store) expireOne(uid string, before time.Time) (bool, error) {
	mu := s.lock(uid)
	mu.Lock()
	defer mu.Unlock()
	rec, found, err := s.get(s.db, uid)
	if err != nil || !found || !expired(rec, before) {
		return false, nil // seen since, or damaged: kept
	}
	s.forget(uid)
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Delete(recordKey(uid), nil); err != nil {
		return false, err
	}
	if err := moveBoard(b, uid, rec.Rounds > 0, rec.Total, false, 0); err != nil {
		return false, err
	}
	if err := s.dropAvatar(b, uid); err != nil {
		return false, err
	}
	return true, b.Commit(pebble.NoSync)
}

// PutAvatar stores a as uid's picture and removes the one it had, in one
// synced batch.
func (s *Store) PutAvatar(uid string, a caiquan.Avatar) error {
	mu := s.lock(uid)
	mu.Lock()
	defer mu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.dropAvatar(b, uid); err != nil {
		return err
	}
	if err := b.Set(avatarKey(a.Name), a.Data, nil); err != nil {
		return err
	}
	if err := b.Set(namedKey(uid), []byte(a.Name), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebble: save the avatar of %s: %w", uid, err)
	}
	return nil
}

// dropAvatar deletes uid's picture, if it has one, in b. The caller holds
// uid's lock.
func (s *Store) dropAvatar(b *pebble.Batch, uid string) error {
	v, closer, err := s.db.Get(namedKey(uid))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pebble: read the avatar of %s: %w", uid, err)
	}
	name := string(v)
	closer.Close()
	if err := b.Delete(avatarKey(name), nil); err != nil {
		return err
	}
	return b.Delete(namedKey(uid), nil)
}

func (s *Store) Avatar(name string) (caiquan.Avatar, error) {
	v, closer, err := s.db.Get(avatarKey(name))
	if errors.Is(err, pebble.ErrNotFound) {
		return caiquan.Avatar{}, caiquan.ErrNoAvatar
	}
	if err != nil {
		return caiquan.Avatar{}, fmt.Errorf("pebble: read avatar %s: %w", name, err)
	}
	defer closer.Close()
	return caiquan.Avatar{Name: name, Data: append([]byte(nil), v...)}, nil
}

// Delete removes uid's record, leaderboard line and picture in one synced
// batch. A damaged record is removed too: its owner asked for it to go.
func (s *Store) Delete(uid string) error {
	mu := s.lock(uid)
	mu.Lock()
	defer mu.Unlock()
	rec, found, err := s.get(s.db, uid)
	if err != nil && !errors.Is(err, store.ErrDamaged) {
		return err
	}
	s.forget(uid)
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Delete(recordKey(uid), nil); err != nil {
		return err
	}
	if found && err == nil {
		if err := moveBoard(b, uid, rec.Rounds > 0, rec.Total, false, 0); err != nil {
			return err
		}
	}
	if err := s.dropAvatar(b, uid); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebble: delete %s: %w", uid, err)
	}
	return nil
}

// logger sends Pebble's log to slog. Pebble calls Fatalf on what it
// cannot go on from (a failed WAL write or sync in v2.1.7): while opening
// that becomes Open's error; later the process ends, as Pebble expects.
type logger struct {
	log     *slog.Logger
	opening *atomic.Bool
}

func (l logger) Infof(format string, args ...any) {
	l.log.Debug("pebble: " + fmt.Sprintf(format, args...))
}
func (l logger) Errorf(format string, args ...any) {
	l.log.Error("pebble: " + fmt.Sprintf(format, args...))
}
func (l logger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if l.opening.Load() {
		panic(msg)
	}
	l.log.Error("store: pebble stopped the process: "+msg, "next", "restart; acknowledged saves are in the write-ahead log")
	os.Exit(70)
}
