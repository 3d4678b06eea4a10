// Package gcpace trades memory for fewer garbage collections while the
// server is busy, within a budget.
//
// Go's collector (GOGC=100) collects each time the heap has doubled its live
// part. At 10,000 players in play that was every 6 to 7 s, and each
// collection takes about 250 ms of CPU at once: on two cores shared with the
// load tool, the rounds of that second waited for it (p99 of 40 to 110 ms
// in those seconds, 2 to 6 ms in the others). With GOGC=400 the same load
// collected every 25 s and met the latency targets but for lateness. A fixed
// GOGC=400, though, would let an idle server keep four times its live heap
// of garbage, so the target follows the allocation rate instead: a server
// that allocates fast may grow its heap by what it allocates in Policy.Every,
// up to Policy.Budget; a quiet one, or one whose heap is building (many
// connections opening), collects as Go does by default, and gives back
// what a busy time took.
package gcpace

import "time"

// Policy bounds the pacing.
type Policy struct {
	// Budget is the most the heap may reach between two collections, live
	// part and garbage together, in bytes. A heap whose live part is this
	// big or bigger is collected as by default (GOGC=100).
	Budget uint64
	// Every is the time between collections aimed at while allocating.
	Every time.Duration
}

// Building reports whether the heap grew, from one collection to a later
// one, by more than a tenth of what was allocated in between: the server is
// building lasting state (connections opening), not just making garbage
// (play, where the live heap stays flat).
func Building(before, after Sample) bool {
	if after.Live <= before.Live || after.Allocs <= before.Allocs {
		return false
	}
	return (after.Live-before.Live)*10 > after.Allocs-before.Allocs
}

// DefaultPercent is the runtime's own GOGC, the least Percent returns.
const DefaultPercent = 100

// minHeap is the smallest live heap Percent reckons with: the runtime's own
// floor (it does not collect a heap under 4 MB).
const minHeap = 4 << 20

// Percent returns the GOGC that lets a heap of live bytes grow by what
// rate bytes per second allocate in p.Every, without the heap passing
// p.Budget, and never less than DefaultPercent.
func Percent(live, rate uint64, p Policy) int {
	live = max(live, minHeap)
	if p.Budget <= live || p.Every <= 0 {
		return DefaultPercent
	}
	growth := uint64(float64(rate) * p.Every.Seconds())
	growth = min(growth, p.Budget-live)
	return max(int(growth*100/live), DefaultPercent)
}
