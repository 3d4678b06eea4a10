//go:build !race

package store

import "testing"

// A record appended to a buffer with room allocates nothing, and
// EncodeRecordVersion allocates its result once: the embedded store saves
// thousands of records a second. (Built without -race, which allocates on
// its own; make bench-check runs it.)
func TestRecordEncodeAllocationBudget(t *testing.T) {
	rec := benchRecord()
	buf, err := AppendRecord(nil, rec, RecordVersion)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { buf, _ = AppendRecord(buf[:0], rec, RecordVersion) }); n != 0 {
		t.Errorf("AppendRecord into a buffer with room: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = EncodeRecordVersion(rec, RecordVersion) }); n > 1 {
		t.Errorf("EncodeRecordVersion: %v allocations, want 1", n)
	}
}
