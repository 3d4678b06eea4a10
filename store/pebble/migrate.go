package pebble

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store/bolt"
)

// Migration is what Migrate moved, kept in the new store under m/migrated.
type Migration struct {
	Records     int       `json:"records"`      // players moved
	FromFile    int       `json:"from_file"`    // records read from the bbolt file
	FromJournal int       `json:"from_journal"` // saves read from its journal segments
	CutBytes    int       `json:"cut_bytes"`    // the newest segment's unreadable end
	Backup      string    `json:"backup"`       // where the bbolt file went
	At          time.Time `json:"at"`
}

// Migrate finds a bbolt store of an earlier release at path (a file, and
// its journal segments beside it), writes its records into a new store in
// a directory beside it, renames the file and segments as a backup
// (PATH.bolt-backup-TIME), and moves the new store to path. It does
// nothing when path is not a bbolt file. Each step can be cut short by a
// crash and Migrate run again: until the file is renamed it starts over;
// after, it finishes the move of the new store, which it marks complete
// before.
func Migrate(path string, log *slog.Logger) (*Migration, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tmp := path + ".migrating"
	if !bolt.IsFile(path) {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return finishMove(tmp, path, log)
		}
		return nil, nil
	}
	old, err := bolt.Read(path)
	if err != nil {
		return nil, fmt.Errorf("migrating the bbolt store %s: %w (it is left as it was)", path, err)
	}
	m := &Migration{Records: len(old.Records), FromFile: old.FromFile, FromJournal: old.FromJournal,
		CutBytes: old.Cut, At: time.Now().UTC()}
	m.Backup = fmt.Sprintf("%s.bolt-backup-%s", path, m.At.Format("20060102T150405Z"))
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	s, err := Open(tmp, Options{Log: log, SkipCheck: true})
	if err != nil {
		return nil, err
	}
	if err := s.putAll(old.Records, m); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrating the bbolt store %s: %w", path, err)
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(path, m.Backup); err != nil {
		return nil, err
	}
	for _, seg := range old.Segments {
		if err := os.Rename(seg, m.Backup+strings.TrimPrefix(seg, path)); err != nil {
			return nil, err
		}
	}
	if _, err := finishMove(tmp, path, log); err != nil {
		return nil, err
	}
	log.Info("store: migrated the bbolt store into pebble", "path", path, "records", m.Records,
		"from_file", m.FromFile, "from_journal", m.FromJournal, "journal_segments", len(old.Segments),
		"cut_bytes", m.CutBytes, "backup", m.Backup)
	if m.CutBytes > 0 {
		log.Warn("store: the bbolt journal's newest segment ended in bytes that do not decode; they were discarded "+
			"(a write the old server did not live to finish, never acknowledged)", "discarded_bytes", m.CutBytes)
	}
	return m, nil
}

// finishMove renames a migrated store at tmp, marked complete, to path.
func finishMove(tmp, path string, log *slog.Logger) (*Migration, error) {
	if _, err := os.Stat(tmp); err != nil {
		return nil, nil
	}
	s, err := Open(tmp, Options{Log: log, ReadOnly: true, SkipCheck: true})
	if err != nil {
		return nil, err
	}
	v, closer, err := s.db.Get(migratedKey)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s holds an unfinished migration from bbolt, but %s is gone; restore the backup (%s.bolt-backup-*) to %s and start again",
			tmp, path, path, path)
	}
	var m Migration
	json.Unmarshal(v, &m)
	closer.Close()
	s.Close()
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	log.Info("store: finished moving a migrated store into place", "path", path, "records", m.Records)
	return &m, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// putAll writes records into a new store in large batches, then marks the
// migration complete with one synced write.
func (s *Store) putAll(records map[string]caiquan.PlayerRecord, m *Migration) error {
	uids := make([]string, 0, len(records))
	for uid := range records {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	b := s.db.NewBatch()
	for i, uid := range uids {
		rec := records[uid]
		if err := s.addRecord(b, uid, rec); err != nil {
			return err
		}
		if (i+1)%1000 == 0 {
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			b.Close()
			b = s.db.NewBatch()
		}
	}
	info, _ := json.Marshal(m)
	if err := b.Set(migratedKey, info, nil); err != nil {
		return err
	}
	defer b.Close()
	return b.Commit(pebble.Sync)
}

// addRecord adds a record, new to the store, with its index to b.
func (s *Store) addRecord(b *pebble.Batch, uid string, rec caiquan.PlayerRecord) error {
	if err := s.setRecord(b, uid, rec); err != nil {
		return err
	}
	return moveBoard(b, uid, false, 0, rec.Rounds > 0, rec.Total)
}
