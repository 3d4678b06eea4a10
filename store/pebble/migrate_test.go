package pebble

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
	"github.com/caiquan/caiquan/store/bolt"
)

// A bbolt store of an earlier release (file and journal, the newest
// segment ending in a write cut short) moves whole into the new store: the
// journal's newer saves win, the leaderboard is rebuilt, the old files are
// kept as a backup, and the log says what moved and what was discarded.
func TestMigrateFromBolt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "caiquan.db")
	seen := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	file := map[string]caiquan.PlayerRecord{
		"ann": {Standing: rules.Standing{Total: 5, Streak: 1}, Rounds: 4, Writes: 4, Uname: "Ann", LastSeen: seen},
		"bob": {Standing: rules.Standing{Total: 9}, Rounds: 2, Writes: 2},
		"cal": {Writes: 1, Uname: "never played"},
	}
	newer := file["ann"]
	newer.Total, newer.Rounds, newer.Writes = 12, 5, 5
	stale := file["bob"]
	stale.Total, stale.Writes = 1, 1 // older than the file's
	segs := [][]bolt.Save{{{UID: "ann", Rec: newer}, {UID: "bob", Rec: stale}}, {{UID: "dee", Rec: caiquan.PlayerRecord{Standing: rules.Standing{Total: 3}, Rounds: 1, Writes: 1}}}}
	if err := bolt.WriteOld(path, file, segs, []byte{9, 0, 0, 0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	log, buf := testLog(t)
	m, err := Migrate(path, log)
	if err != nil {
		t.Fatal(err)
	}
	if m == nil || m.Records != 4 || m.FromFile != 3 || m.FromJournal != 3 || m.CutBytes != 6 {
		t.Fatalf("migration = %+v; want 4 records, 3 from the file, 3 journal saves, 6 bytes cut", m)
	}
	for _, want := range []string{"migrated the bbolt store", "records=4", "discarded_bytes=6"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if !bolt.IsFile(m.Backup) {
		t.Errorf("backup %s is not the bbolt file", m.Backup)
	}
	for _, n := range []string{".journal.000001", ".journal.000002"} {
		if _, err := os.Stat(m.Backup + n); err != nil {
			t.Errorf("journal segment not kept: %v", err)
		}
		if _, err := os.Stat(path + n); err == nil {
			t.Errorf("segment %s left in place: a later start would read it again", path+n)
		}
	}
	s := open(t, path, Options{})
	for uid, want := range map[string]int32{"ann": 12, "bob": 9, "cal": 0, "dee": 3} {
		rec, err := s.Load(uid)
		if err != nil || rec.Total != want {
			t.Errorf("%s: %+v, %v; want total %d", uid, rec, err, want)
		}
	}
	if rec, _ := s.Load("ann"); rec.Uname != "Ann" || !rec.LastSeen.Equal(seen) || rec.Writes != 5 {
		t.Errorf("ann = %+v; name, last seen or writes lost", rec)
	}
	top, err := s.Top(10)
	if err != nil || len(top) != 3 || top[0].UID != "ann" || top[1].UID != "bob" || top[2].UID != "dee" {
		t.Errorf("Top after migration = %+v, %v", top, err)
	}
	s.Close()
	// Again: nothing to do, the store is a directory now.
	if m, err := Migrate(path, log); m != nil || err != nil {
		t.Errorf("second Migrate = %+v, %v; want nothing", m, err)
	}
}

// A migration cut short after the bbolt file was renamed finishes on the
// next start instead of starting an empty store.
func TestMigrateFinishesAfterCrash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "caiquan.db")
	if err := bolt.WriteOld(path, map[string]caiquan.PlayerRecord{"ann": {Standing: rules.Standing{Total: 5}, Rounds: 1, Writes: 1}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	m, err := Migrate(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As if the process died between the two renames.
	if err := os.Rename(path, path+".migrating"); err != nil {
		t.Fatal(err)
	}
	log, buf := testLog(t)
	if m2, err := Migrate(path, log); err != nil || m2 == nil || m2.Records != 1 {
		t.Fatalf("Migrate after the crash = %+v, %v (first %+v)", m2, err, m)
	}
	if !strings.Contains(buf.String(), "finished moving") {
		t.Error("the finished move was not logged")
	}
	s := open(t, path, Options{})
	if rec, err := s.Load("ann"); err != nil || rec.Total != 5 {
		t.Fatalf("ann = %+v, %v", rec, err)
	}
}

// A damaged bbolt file stops the migration with an error naming it; the
// file stays where it was.
func TestMigrateDamagedBolt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "caiquan.db")
	if err := bolt.WriteOld(path, map[string]caiquan.PlayerRecord{"ann": {Rounds: 1, Writes: 1}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for i := 4096 * 2; i < len(data); i++ { // every page after the two meta pages
		data[i] ^= 0x5a
	}
	os.WriteFile(path, data, 0o600)
	_, err := Migrate(path, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Migrate of a damaged file: %v; want an error naming it", err)
	}
	if !bolt.IsFile(path) {
		t.Fatal("the damaged file was moved")
	}
}
