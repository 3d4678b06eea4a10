package pebble

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
	"github.com/caiquan/caiquan/store"
)

// A record of a version this release does not know, or one that does not
// decode, met while serving: logged with its key, counted, and Load fails
// (the player is told to try later), never a zero record; other players
// are served. Save over it fails too, so nothing overwrites it.
func TestUnknownRecordVersionIsDamage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "caiquan.db")
	log, buf := testLog(t)
	var damaged []string
	s := open(t, dir, Options{Log: log, OnDamaged: func(key string, _ error) { damaged = append(damaged, key) }})
	if err := s.Save("ok", caiquan.PlayerRecord{Standing: rules.Standing{Total: 4}, Rounds: 1}); err != nil {
		t.Fatal(err)
	}
	s.db.Set(recordKey("new"), []byte(`{"v":2,"w":3,"total":50,"rounds":9}`), pebble.Sync)
	s.db.Set(recordKey("junk"), []byte(`{"v":1,"total":`), pebble.Sync)
	for _, uid := range []string{"new", "junk"} {
		rec, err := s.Load(uid)
		if !errors.Is(err, store.ErrDamaged) {
			t.Errorf("Load(%s) = %+v, %v; want ErrDamaged", uid, rec, err)
		}
		if err := s.Save(uid, caiquan.PlayerRecord{Writes: 3}); !errors.Is(err, store.ErrDamaged) {
			t.Errorf("Save over damaged %s: %v; want ErrDamaged", uid, err)
		}
		if !strings.Contains(buf.String(), `key=p/`+uid) {
			t.Errorf("no log line names p/%s", uid)
		}
	}
	if len(damaged) != 2 || damaged[0] != "p/new" { // once per key, though read twice each
		t.Errorf("OnDamaged got %v", damaged)
	}
	if rec, err := s.Load("ok"); err != nil || rec.Total != 4 {
		t.Errorf("the other player: %+v, %v", rec, err)
	}
}

// A store of a newer format stops the start with both versions named.
func TestNewerFormatRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "caiquan.db")
	s := open(t, dir, Options{})
	s.db.Set(formatKey, []byte("7"), pebble.Sync)
	s.Close()
	_, err := Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "format version 7") || !strings.Contains(err.Error(), "up to 1") {
		t.Fatalf("Open of a format 7 store: %v; want both versions named", err)
	}
}

// The record version written follows store_write_version; a version this
// release does not know is refused at Open.
func TestWriteVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "caiquan.db")
	if _, err := Open(dir, Options{WriteVersion: store.RecordVersion + 1}); err == nil || !strings.Contains(err.Error(), "store_write_version") {
		t.Fatalf("Open with a write version from the future: %v", err)
	}
	s := open(t, dir, Options{WriteVersion: 1})
	if err := s.Save("a", caiquan.PlayerRecord{Rounds: 1}); err != nil {
		t.Fatal(err)
	}
	v, closer, err := s.db.Get(recordKey("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if !strings.Contains(string(v), `"v":1`) {
		t.Errorf("stored %s; want version 1", v)
	}
}

// A second process on the same store is refused with a message that says
// so, not as damage.
func TestInUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "caiquan.db")
	open(t, dir, Options{})
	_, err := Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second Open: %v", err)
	}
}
