package gcpace

import (
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	p := Policy{Budget: 512 * mib, Every: 30 * time.Second}
	tests := []struct {
		name       string
		live, rate uint64
		policy     Policy
		want       int
	}{
		{"idle: the default", 150 * mib, 0, p, 100},
		{"slow allocation: still the default", 150 * mib, 1 * mib, p, 100},
		{"10,000 players: 12 MiB/s for 30 s over 76 MiB", 76 * mib, 12 * mib, p, 473},
		{"faster than the budget allows: the budget", 76 * mib, 40 * mib, p, 573},
		{"live heap past the budget: the default", 600 * mib, 40 * mib, p, 100},
		{"live heap at the budget: the default", 512 * mib, 40 * mib, p, 100},
		{"a heap under the runtime's 4 MB floor counts as 4 MiB", 1 * mib, 1 * mib, p, 750},
		{"no budget: the default", 76 * mib, 12 * mib, Policy{Every: 30 * time.Second}, 100},
		{"no interval: the default", 76 * mib, 12 * mib, Policy{Budget: 512 * mib}, 100},
	}
	for _, tt := range tests {
		if got := Percent(tt.live, tt.rate, tt.policy); got != tt.want {
			t.Errorf("%s: Percent(%d MiB, %d MiB/s) = %d, want %d", tt.name, tt.live/mib, tt.rate/mib, got, tt.want)
		}
	}
}

// The pacer follows the highest rate of its window, leaves small changes
// alone, and gives memory back when it returns to the default.
func TestPacerSteps(t *testing.T) {
	const mib = 1 << 20
	var set []int
	frees := 0
	p := &Pacer{policy: Policy{Budget: 512 * mib, Every: 30 * time.Second}, percent: DefaultPercent,
		set: func(n int) int { set = append(set, n); return 0 }, free: func() { frees++ }}
	at := time.Unix(0, 0)
	allocs := uint64(0)
	step := func(live, perSecond uint64) {
		at = at.Add(time.Second)
		allocs += perSecond
		p.Step(Sample{Live: live, Allocs: allocs, Cycles: 7, At: at})
	}
	step(76*mib, 0) // the first sample gives no rate
	if len(set) != 0 {
		t.Fatalf("first sample set GOGC %v", set)
	}
	step(76*mib, 12*mib)
	if p.Percent() != 473 {
		t.Fatalf("at 12 MiB/s GOGC %d, want 473", p.Percent())
	}
	step(76*mib, 13*mib) // 513: less than a tenth more
	if p.Percent() != 473 || len(set) != 1 {
		t.Fatalf("a small change was made: GOGC %d, sets %v", p.Percent(), set)
	}
	for range rateWindow - 1 { // slower seconds: the window still holds 13 MiB/s
		step(76*mib, 0)
	}
	if p.Percent() != 473 {
		t.Fatalf("GOGC %d within the window, want 473", p.Percent())
	}
	step(76*mib, 0) // the last busy second leaves the window
	if p.Percent() != DefaultPercent || frees != 1 {
		t.Fatalf("quiet again: GOGC %d, memory given back %d times; want 100 and once", p.Percent(), frees)
	}
	if want := []int{473, 100}; len(set) != 2 || set[0] != want[0] || set[1] != want[1] {
		t.Fatalf("GOGC set to %v, want %v", set, want)
	}
}

// One pacer per process sets GOGC; stopping it puts the default back.
func TestOnePacerAtATime(t *testing.T) {
	first := New(Policy{Budget: 512 << 20, Every: 30 * time.Second})
	stop, ok := first.Start()
	if !ok {
		t.Fatal("the first pacer did not start")
	}
	if _, ok := New(first.policy).Start(); ok {
		t.Fatal("a second pacer started beside the first")
	}
	debug.SetGCPercent(250) // as a busy second would
	stop()
	if got := debug.SetGCPercent(DefaultPercent); got != DefaultPercent {
		t.Fatalf("GOGC %d after stop, want %d", got, DefaultPercent)
	}
	stop, ok = New(first.policy).Start()
	if !ok {
		t.Fatal("no pacer could start after the first stopped")
	}
	stop()
}

func TestBuilding(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name                      string
		liveBefore, liveAfter     uint64
		allocsBefore, allocsAfter uint64
		want                      bool
	}{
		{"play: flat live heap", 76 * mib, 77 * mib, 1000 * mib, 1400 * mib, false},
		{"connections opening: a third stays", 20 * mib, 60 * mib, 100 * mib, 220 * mib, true},
		{"a tenth stays: not yet", 70 * mib, 80 * mib, 0, 100 * mib, false},
		{"shrinking", 80 * mib, 40 * mib, 0, 100 * mib, false},
		{"nothing allocated", 80 * mib, 90 * mib, 100 * mib, 100 * mib, false},
	}
	for _, tt := range tests {
		before := Sample{Live: tt.liveBefore, Allocs: tt.allocsBefore}
		after := Sample{Live: tt.liveAfter, Allocs: tt.allocsAfter}
		if got := Building(before, after); got != tt.want {
			t.Errorf("%s: Building = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// While collections find the heap building, the pacer keeps the default
// however fast the server allocates; once they find it flat, it paces.
func TestPacerWaitsWhileTheHeapBuilds(t *testing.T) {
	const mib = 1 << 20
	var set []int
	p := New(Policy{Budget: 512 * mib, Every: 30 * time.Second})
	p.set, p.free = func(n int) int { set = append(set, n); return 0 }, func() {}
	at := time.Unix(0, 0)
	s := Sample{Live: 10 * mib, Cycles: 1}
	step := func(live, perSecond, cycles uint64) {
		at = at.Add(time.Second)
		s = Sample{Live: live, Allocs: s.Allocs + perSecond, Cycles: cycles, At: at}
		p.Step(s)
	}
	step(10*mib, 0, 1)
	step(10*mib, 20*mib, 1) // no collection seen: taken to be building
	step(30*mib, 20*mib, 2) // 20 of 40 MiB stayed: building
	step(30*mib, 20*mib, 2)
	if len(set) != 0 {
		t.Fatalf("GOGC set to %v while the heap builds", set)
	}
	step(31*mib, 20*mib, 3) // 1 of 40 MiB stayed: flat
	if p.Percent() == DefaultPercent {
		t.Fatalf("GOGC still the default once the heap is flat")
	}
}
