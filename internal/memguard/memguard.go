// Package memguard keeps the process under its memory limit. Go's limit
// (debug.SetMemoryLimit) is soft, and it counts only the Go runtime's
// memory: the store's caches and memtables, allocated outside Go, and the
// binary's own pages are resident too. So a Guard reads the resident set
// (what the limit means to an operator), gives the runtime the part of the
// limit the rest leaves, and tells when the server should refuse new work
// before the collector runs without pause.
package memguard

import (
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// Guard samples memory on a ticker and says whether new work should wait.
// It turns busy at High of the limit and back at Low, so that admission
// does not flap around one value.
type Guard struct {
	limit     uint64
	high, low uint64
	busy      atomic.Bool
	used      atomic.Uint64
	stop      chan struct{}
	samples   []metrics.Sample
	// steer: the Guard sets the runtime's limit (not an operator's
	// GOMEMLIMIT); goLimit is what it set last.
	steer   bool
	goLimit uint64
}

// Fractions of the limit at which a Guard turns busy and back.
const (
	High = 0.90
	Low  = 0.80
)

// New watches limitBytes every period until Stop; a zero limit never turns
// busy. With steer, it also sets the Go runtime's memory limit to what the
// memory outside the runtime leaves of limitBytes.
func New(limitBytes uint64, period time.Duration, steer bool) *Guard {
	g := &Guard{
		limit: limitBytes,
		high:  uint64(float64(limitBytes) * High),
		low:   uint64(float64(limitBytes) * Low),
		stop:  make(chan struct{}),
		samples: []metrics.Sample{
			{Name: "/memory/classes/total:bytes"},
			{Name: "/memory/classes/heap/released:bytes"},
		},
		steer: steer,
	}
	if limitBytes == 0 {
		return g
	}
	g.Sample()
	go g.run(period)
	return g
}

func (g *Guard) run(period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			g.Sample()
		case <-g.stop:
			return
		}
	}
}

// Sample reads memory now, updates Busy and, when steering, the runtime's
// limit; the ticker calls it.
func (g *Guard) Sample() {
	metrics.Read(g.samples)
	inGo := g.samples[0].Value.Uint64() - g.samples[1].Value.Uint64()
	resident := residentBytes()
	g.Observe(max(inGo, resident))
	if g.steer && g.limit != 0 {
		if want := GoLimit(g.limit, resident, inGo); want != g.goLimit {
			debug.SetMemoryLimit(int64(want))
			g.goLimit = want
		}
	}
}

// GoLimit is the runtime's share of limit: what the resident memory
// outside the runtime (resident minus inGo) leaves, less a sixteenth of
// limit, rounded down to a MiB so that it changes seldom, and never under
// a quarter of limit. The sixteenth is for the runtime's own overshoot:
// its limit is soft, and under a storm of allocations (thousands of
// clients asking again and again while the server is busy) the collector,
// held to half the CPU, let memory pass it by up to 3.4 %.
func GoLimit(limit, resident, inGo uint64) uint64 {
	var outside uint64
	if resident > inGo {
		outside = resident - inGo
	}
	outside += limit / 16
	if outside > limit-limit/4 {
		return limit / 4 &^ (1<<20 - 1)
	}
	return (limit - outside) &^ (1<<20 - 1)
}

// Observe updates Busy from a reading of used bytes.
func (g *Guard) Observe(used uint64) {
	g.used.Store(used)
	if g.limit == 0 {
		return
	}
	switch {
	case used >= g.high:
		g.busy.Store(true)
	case used < g.low:
		g.busy.Store(false)
	}
}

// Busy reports whether new connections and new rounds should wait.
func (g *Guard) Busy() bool { return g != nil && g.busy.Load() }

// Used is the last reading, in bytes.
func (g *Guard) Used() uint64 { return g.used.Load() }

// Stop ends the sampling.
func (g *Guard) Stop() {
	if g.limit != 0 {
		close(g.stop)
	}
}
