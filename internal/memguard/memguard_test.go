package memguard

import (
	"runtime"
	"testing"
	"time"
)

// Busy turns on at 90 % of the limit and off only below 80 %.
func TestBusyHasHysteresis(t *testing.T) {
	g := New(0, time.Hour, false)
	g.limit, g.high, g.low = 1000, 900, 800
	steps := []struct {
		used uint64
		busy bool
	}{
		{100, false}, {899, false}, {900, true}, {850, true}, {800, true}, {799, false}, {850, false}, {1200, true},
	}
	for _, s := range steps {
		g.Observe(s.used)
		if g.Busy() != s.busy {
			t.Fatalf("after %d bytes: busy %v, want %v", s.used, g.Busy(), s.busy)
		}
	}
}

// A real reading of this process is above zero, and a limit far below it
// makes the guard busy at once.
func TestSampleReadsTheProcess(t *testing.T) {
	g := New(1<<20, time.Hour, false) // 1 MiB: any Go process uses more
	defer g.Stop()
	if g.Used() == 0 {
		t.Fatal("no memory read")
	}
	if !g.Busy() {
		t.Fatalf("%d bytes used against a 1 MiB limit, not busy", g.Used())
	}
	var nilGuard *Guard
	if nilGuard.Busy() {
		t.Fatal("a nil guard is busy")
	}
}

// The runtime gets what memory outside it leaves of the limit, less a
// sixteenth for its overshoot, in whole MiB, and never less than a quarter
// of the limit.
func TestGoLimitLeavesRoomForMemoryOutsideGo(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		limit, resident, inGo, want uint64
	}{
		{64 * mib, 40 * mib, 10 * mib, 30 * mib},       // 30 MiB outside Go, 4 for overshoot
		{64 * mib, 0, 10 * mib, 60 * mib},              // resident memory unknown
		{64 * mib, 10 * mib, 12 * mib, 60 * mib},       // Go holds pages not yet resident
		{64 * mib, 63 * mib, 1 * mib, 16 * mib},        // a quarter at least
		{1000 * mib, 300*mib + 5, 20 * mib, 657 * mib}, // 62.5 MiB for overshoot; down to a MiB
	} {
		if got := GoLimit(c.limit, c.resident, c.inGo); got != c.want {
			t.Errorf("GoLimit(%d, %d, %d MiB) = %d MiB, want %d", c.limit/mib, c.resident/mib, c.inGo/mib, got/mib, c.want/mib)
		}
	}
}

// On Linux the guard reads the resident set, which for a running Go
// process is at least what its runtime holds resident.
func TestResidentMemoryIsRead(t *testing.T) {
	if residentBytes() == 0 && runtime.GOOS == "linux" {
		t.Fatal("no resident memory read from /proc/self/statm")
	}
}
