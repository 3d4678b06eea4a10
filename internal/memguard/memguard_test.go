package memguard

import (
	"testing"
	"time"
)

// Busy turns on at 90 % of the limit and off only below 80 %.
func TestBusyHasHysteresis(t *testing.T) {
	g := New(0, time.Hour)
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
	g := New(1<<20, time.Hour) // 1 MiB: any Go process uses more
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
