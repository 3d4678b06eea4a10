package store

import (
	"testing"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// The head of a stored record is the record's Writes, total and rounds,
// for records with and without the fields that may be left out.
func TestDecodeRecordHead(t *testing.T) {
	played := caiquan.PlayerRecord{Standing: rules.Standing{Total: -3, Streak: 0}, Rounds: 7, Writes: 12, Uname: "名字"}
	played, _, _ = caiquan.ApplyRound(played, "r1", 1)
	for _, rec := range []caiquan.PlayerRecord{{}, played} {
		data, err := EncodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		h, err := DecodeRecordHead(data)
		want := RecordHead{Writes: rec.Writes, Total: rec.Total, Rounds: rec.Rounds}
		if err != nil || h != want {
			t.Errorf("head of %s: %+v, %v; want %+v", data, h, err, want)
		}
	}
	if _, err := DecodeRecordHead([]byte(`{"w":`)); err == nil {
		t.Error("a cut record decoded")
	}
}
