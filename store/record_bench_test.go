package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// benchRecord is a record as a server at load saves it: a full Recent,
// the last round's result of a four-seat room, a name and a last seen.
func benchRecord() caiquan.PlayerRecord {
	lines := make([]caiquan.ResultLine, 4)
	for i := range lines {
		lines[i] = caiquan.ResultLine{UID: fmt.Sprintf("oWx3kQ-player-%04d", i), Choice: int32(i%3 + 1),
			Outcome: rules.Outcome{RoundScore: int32(i % 2), Standing: rules.Standing{Total: int32(100 + i), Streak: int32(i)}}}
	}
	rec := caiquan.PlayerRecord{Uname: "名字 player", Uavatar: "a1b2c3d4e5f6.png",
		LastSeen: time.Date(2026, 3, 4, 5, 6, 7, 891011000, time.UTC), Writes: 40}
	for i := range 40 {
		rec, _, _ = caiquan.ApplyRoundWith(rec, fmt.Sprintf("room-7f3a-%06d", i), 1-i%3, lines)
	}
	return rec
}

// BenchmarkEncodeRecord: one record's JSON, as every save of the embedded
// store makes it. Allocations are the figure to watch.
//
//	go test -run '^$' -bench EncodeRecord -benchmem ./store/
func BenchmarkEncodeRecord(b *testing.B) {
	rec := benchRecord()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeRecordVersion(rec, RecordVersion); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendRecord: the same record appended to a buffer reused from
// one encode to the next, as the embedded store's save does.
//
//	go test -run '^$' -bench AppendRecord -benchmem ./store/
func BenchmarkAppendRecord(b *testing.B) {
	rec := benchRecord()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendRecord(buf[:0], rec, RecordVersion); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}
