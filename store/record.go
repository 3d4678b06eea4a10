package store

import (
	"encoding/json"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// Applied is one remembered round in its stored form. The JSON names are
// part of the stored format: rename nothing.
type Applied struct {
	RoundID    string `json:"r"`
	RoundScore int32  `json:"s"`
	Total      int32  `json:"t"`
	Streak     int32  `json:"k"`
}

// Record is a whole player record in its stored form (bbolt keeps it as
// JSON under the uid; PostgreSQL keeps Recent as jsonb beside columns).
type Record struct {
	Version  int       `json:"v"`
	Writes   int64     `json:"w,omitempty"` // PlayerRecord.Writes
	Total    int32     `json:"total"`
	Streak   int32     `json:"streak"`
	Rounds   int       `json:"rounds"`
	Uname    string    `json:"uname,omitempty"`
	Uavatar  string    `json:"uavatar,omitempty"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	Recent   []Applied `json:"recent"`
}

// ToStored turns applied rounds into their stored form.
func ToStored(rs []caiquan.AppliedRound) []Applied {
	out := make([]Applied, len(rs))
	for i, a := range rs {
		out[i] = Applied{RoundID: a.RoundID, RoundScore: a.RoundScore, Total: a.Total, Streak: a.Streak}
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

// EncodeRecord renders rec as JSON.
func EncodeRecord(rec caiquan.PlayerRecord) ([]byte, error) {
	r := Record{
		Version: 1, Writes: rec.Writes, Total: rec.Total, Streak: rec.Streak, Rounds: rec.Rounds,
		Uname: rec.Uname, Uavatar: rec.Uavatar, Recent: ToStored(rec.Recent),
	}
	if !rec.LastSeen.IsZero() {
		r.LastSeen = rec.LastSeen.UTC()
	}
	return json.Marshal(r)
}

// DecodeRecord reads what EncodeRecord wrote.
func DecodeRecord(data []byte) (caiquan.PlayerRecord, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return caiquan.PlayerRecord{}, err
	}
	return caiquan.PlayerRecord{
		Standing: rules.Standing{Total: r.Total, Streak: r.Streak},
		Rounds:   r.Rounds, Uname: r.Uname, Uavatar: r.Uavatar, LastSeen: r.LastSeen,
		Recent: FromStored(r.Recent), Writes: r.Writes,
	}, nil
}

// RecordHead is what a store needs of a stored record to replace it: its
// Writes and where it stands on the leaderboard.
type RecordHead struct {
	Writes int64 `json:"w,omitempty"`
	Total  int32 `json:"total"`
	Rounds int   `json:"rounds"`
}

// DecodeRecordHead reads only the head of what EncodeRecord wrote: it
// skips the names and the round ids, which a full decode allocates (a
// flush of the bbolt journal replaces thousands of records at once).
func DecodeRecordHead(data []byte) (RecordHead, error) {
	var h RecordHead
	err := json.Unmarshal(data, &h)
	return h, err
}
