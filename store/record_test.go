package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// A record goes through the codec unchanged, and the codec refuses what it
// cannot read instead of answering a zero record.
func TestRecordCodec(t *testing.T) {
	rec := caiquan.PlayerRecord{Standing: rules.Standing{Total: -3}, Rounds: 7, Writes: 12, Uname: "名字",
		LastSeen: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	rec, _, _ = caiquan.ApplyRound(rec, "r1", 1)
	data, err := EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"v":1`) {
		t.Errorf("record %s does not carry its version", data)
	}
	got, err := DecodeRecord(data)
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, rec)
	}
	for _, bad := range []string{`{"w":`, `{"v":2,"total":5}`, `{"v":0,"total":5}`, `{"total":5}`, `garbage`} {
		if got, err := DecodeRecord([]byte(bad)); err == nil {
			t.Errorf("DecodeRecord(%s) = %+v, nil; want an error", bad, got)
		}
	}
	if _, err := EncodeRecordVersion(rec, RecordVersion+1); err == nil {
		t.Error("encoded a version this release does not know")
	}
	// A version 1 record as the release before this one wrote it.
	old := `{"v":1,"w":3,"total":4,"streak":1,"rounds":2,"recent":[{"r":"x","s":1,"t":4,"k":1}]}`
	if got, err := DecodeRecord([]byte(old)); err != nil || got.Total != 4 || got.Writes != 3 || len(got.Recent) != 1 {
		t.Errorf("version 1 record: %+v, %v", got, err)
	}
	err = &DamageError{Key: "p/x", Err: errors.New("bad")}
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "p/x") {
		t.Errorf("DamageError %v: not ErrDamaged or no key", err)
	}
}

// TestRecordFieldsAdded: renamed and banned are fields added to version 1:
// a record without them reads as neither; a record with them is still
// read by the decoder of the release before (its Record had neither
// field, and encoding/json ignores fields it does not know), with every
// other field intact.
func TestRecordFieldsAdded(t *testing.T) {
	rec := caiquan.PlayerRecord{Standing: rules.Standing{Total: 9, Streak: 2}, Rounds: 4, Uname: "Queen", Renamed: true, Banned: true}
	data, err := EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"v":1`) || !strings.Contains(string(data), `"banned":true`) || !strings.Contains(string(data), `"renamed":true`) {
		t.Fatalf("record %s: want version 1 with banned and renamed", data)
	}
	type before struct { // the release before's Record
		Version int       `json:"v"`
		Writes  int64     `json:"w,omitempty"`
		Total   int32     `json:"total"`
		Streak  int32     `json:"streak"`
		Rounds  int       `json:"rounds"`
		Uname   string    `json:"uname,omitempty"`
		Recent  []Applied `json:"recent"`
	}
	var old before
	if err := json.Unmarshal(data, &old); err != nil || old.Version != 1 || old.Total != 9 || old.Rounds != 4 || old.Uname != "Queen" {
		t.Errorf("the release before reads %+v, %v", old, err)
	}
	plain, _ := EncodeRecord(caiquan.PlayerRecord{Rounds: 1})
	if strings.Contains(string(plain), "banned") || strings.Contains(string(plain), "renamed") {
		t.Errorf("a record of neither writes the fields: %s", plain)
	}
	if got, err := DecodeRecord(plain); err != nil || got.Banned || got.Renamed {
		t.Errorf("a record without the fields: %+v, %v", got, err)
	}
}

// The last round's whole result goes into the newest stored round only, as
// a field added to version 1: the release before reads the record (its
// Applied has no lines) with every round intact.
func TestRecordKeepsTheLastResultLines(t *testing.T) {
	lines := []caiquan.ResultLine{
		{UID: "a", Choice: 1, Outcome: rules.Outcome{RoundScore: 1, Standing: rules.Standing{Total: 5, Streak: 2}}},
		{UID: "bot-r2-1", Choice: 3},
	}
	var rec caiquan.PlayerRecord
	rec, _, _ = caiquan.ApplyRoundWith(rec, "r1", 1, lines)
	rec, _, _ = caiquan.ApplyRoundWith(rec, "r2", 1, lines)
	data, err := EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), `"l":`); n != 1 {
		t.Fatalf("record %s: lines stored %d times, want once (the newest round)", data, n)
	}
	got, err := DecodeRecord(data)
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, rec)
	}
	type appliedBefore struct {
		RoundID    string `json:"r"`
		RoundScore int32  `json:"s"`
		Total      int32  `json:"t"`
		Streak     int32  `json:"k"`
	}
	var old struct {
		Version int             `json:"v"`
		Total   int32           `json:"total"`
		Recent  []appliedBefore `json:"recent"`
	}
	if err := json.Unmarshal(data, &old); err != nil || old.Version != 1 || len(old.Recent) != 2 || old.Recent[1].RoundID != "r2" || old.Recent[1].Total != rec.Total {
		t.Errorf("the release before reads %+v, %v", old, err)
	}
}
