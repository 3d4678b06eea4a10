package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// RecordVersion is the newest record version this release reads and, by
// default, writes (setting store_write_version). A release reads every
// version up to its own; a new version may only add fields, so that the
// release before it reads it too (a rolling upgrade on a shared
// PostgreSQL writes the old version until every node runs the new one).
const RecordVersion = 1

// FormatVersion is the newest layout of a whole store this release knows
// (the keys of the embedded store; the tables of PostgreSQL). A store of a
// newer format is refused at start: its keys may mean something else.
const FormatVersion = 1

// ErrDamaged marks a record (or a part of a store) that cannot be read as
// written: it fails to decode, or carries a version this release does not
// know. A store never answers a damaged record with a zero one.
var ErrDamaged = errors.New("store: damaged record")

// DamageError is an ErrDamaged that names where the damage is.
type DamageError struct {
	Key string // the store's key, or "uid X" in PostgreSQL
	Err error
}

func (e *DamageError) Error() string {
	return fmt.Sprintf("store: damaged record at %q: %v", e.Key, e.Err)
}

func (e *DamageError) Is(target error) bool { return target == ErrDamaged }
func (e *DamageError) Unwrap() error        { return e.Err }

// Applied is one remembered round in its stored form. The JSON names are
// part of the stored format: rename nothing.
type Applied struct {
	RoundID    string `json:"r"`
	RoundScore int32  `json:"s"`
	Total      int32  `json:"t"`
	Streak     int32  `json:"k"`
	// Lines: the round's whole result (PlayerRecord.LastLines), on the
	// newest round only. Added within version 1: a release before it
	// ignores the field, and a record it writes drops it.
	Lines []Line `json:"l,omitempty"`
}

// Line is one seat's line of a stored result.
type Line struct {
	UID        string `json:"u"`
	Choice     int32  `json:"c,omitempty"`
	RoundScore int32  `json:"s,omitempty"`
	Total      int32  `json:"t,omitempty"`
	Streak     int32  `json:"k,omitempty"`
}

// Record is a whole player record in its stored form (the embedded store
// keeps it as JSON under the uid; PostgreSQL keeps Recent as jsonb beside
// columns). Version 1 is every field below; renamed and banned were added
// later within it (an older release ignores them, and a record it writes
// drops them).
type Record struct {
	Version  int       `json:"v"`
	Writes   int64     `json:"w,omitempty"` // PlayerRecord.Writes
	Total    int32     `json:"total"`
	Streak   int32     `json:"streak"`
	Rounds   int       `json:"rounds"`
	Uname    string    `json:"uname,omitempty"`
	Uavatar  string    `json:"uavatar,omitempty"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	Renamed  bool      `json:"renamed,omitempty"`
	Banned   bool      `json:"banned,omitempty"`
	Recent   []Applied `json:"recent"`
	// Refused: PlayerRecord.Refused, added within version 1 as well.
	Refused []string `json:"x,omitempty"`
}

// ToStored turns applied rounds into their stored form.
func ToStored(rs []caiquan.AppliedRound) []Applied {
	out := make([]Applied, len(rs))
	for i, a := range rs {
		out[i] = Applied{RoundID: a.RoundID, RoundScore: a.RoundScore, Total: a.Total, Streak: a.Streak}
	}
	return out
}

// RecentOf is rec's applied rounds in their stored form, the newest with
// rec's LastLines.
func RecentOf(rec caiquan.PlayerRecord) []Applied {
	out := ToStored(rec.Recent)
	if n := len(out); n > 0 && len(rec.LastLines) > 0 {
		lines := make([]Line, len(rec.LastLines))
		for i, l := range rec.LastLines {
			lines[i] = Line{UID: l.UID, Choice: l.Choice, RoundScore: l.RoundScore, Total: l.Total, Streak: l.Streak}
		}
		out[n-1].Lines = lines
	}
	return out
}

// FromStored is ToStored's inverse.
func FromStored(as []Applied) []caiquan.AppliedRound {
	var out []caiquan.AppliedRound
	for _, a := range as {
		out = append(out, caiquan.AppliedRound{RoundID: a.RoundID, Outcome: rules.Outcome{
			RoundScore: a.RoundScore, Standing: rules.Standing{Total: a.Total, Streak: a.Streak},
		}})
	}
	return out
}

// LinesOf is the LastLines that stored rounds as carry (RecentOf's).
func LinesOf(as []Applied) []caiquan.ResultLine {
	if len(as) == 0 || len(as[len(as)-1].Lines) == 0 {
		return nil
	}
	stored := as[len(as)-1].Lines
	out := make([]caiquan.ResultLine, len(stored))
	for i, l := range stored {
		out[i] = caiquan.ResultLine{UID: l.UID, Choice: l.Choice, Outcome: rules.Outcome{
			RoundScore: l.RoundScore, Standing: rules.Standing{Total: l.Total, Streak: l.Streak},
		}}
	}
	return out
}

// CheckVersion is nil for a record version this release reads.
func CheckVersion(v int) error {
	if v < 1 || v > RecordVersion {
		return fmt.Errorf("record version %d, this release reads 1 to %d", v, RecordVersion)
	}
	return nil
}

// ToRecord is rec in its stored form, of version v.
func ToRecord(rec caiquan.PlayerRecord, v int) Record {
	r := Record{
		Version: v, Writes: rec.Writes, Total: rec.Total, Streak: rec.Streak, Rounds: rec.Rounds,
		Uname: rec.Uname, Uavatar: rec.Uavatar, Recent: RecentOf(rec),
		Renamed: rec.Renamed, Banned: rec.Banned, Refused: rec.Refused,
	}
	if !rec.LastSeen.IsZero() {
		r.LastSeen = rec.LastSeen.UTC()
	}
	return r
}

// FromRecord is ToRecord's inverse; it refuses versions it does not know.
func FromRecord(r Record) (caiquan.PlayerRecord, error) {
	if err := CheckVersion(r.Version); err != nil {
		return caiquan.PlayerRecord{}, err
	}
	return caiquan.PlayerRecord{
		Standing: rules.Standing{Total: r.Total, Streak: r.Streak},
		Rounds:   r.Rounds, Uname: r.Uname, Uavatar: r.Uavatar, LastSeen: r.LastSeen,
		Recent: FromStored(r.Recent), LastLines: LinesOf(r.Recent), Writes: r.Writes, Renamed: r.Renamed, Banned: r.Banned,
		Refused: refused(r.Refused),
	}, nil
}

// EncodeRecord renders rec as JSON of the current version.
func EncodeRecord(rec caiquan.PlayerRecord) ([]byte, error) {
	return EncodeRecordVersion(rec, RecordVersion)
}

// EncodeRecordVersion renders rec as JSON of version v: the bytes of
// json.Marshal(ToRecord(rec, v)), written by AppendRecord into one
// allocation. A caller that saves often appends to a buffer of its own.
func EncodeRecordVersion(rec caiquan.PlayerRecord, v int) ([]byte, error) {
	data, err := AppendRecord(make([]byte, 0, recordSize(rec)), rec, v)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// DecodeRecord reads what EncodeRecord wrote. A record that does not
// decode, or of a version this release does not read, is an error (not
// wrapped in ErrDamaged: the caller names the key).
func DecodeRecord(data []byte) (caiquan.PlayerRecord, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return caiquan.PlayerRecord{}, err
	}
	return FromRecord(r)
}

// refused is rs, nil when empty: a store's empty list and none are one.
func refused(rs []string) []string {
	if len(rs) == 0 {
		return nil
	}
	return rs
}
