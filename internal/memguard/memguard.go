// Package memguard tells when the process nears its memory limit, so the
// server can refuse new work before Go's soft limit makes the collector run
// without pause. It reads the same figure the runtime holds against
// debug.SetMemoryLimit: memory mapped by the runtime, less what it has
// given back to the operating system.
package memguard

import (
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
}

// Fractions of the limit at which a Guard turns busy and back.
const (
	High = 0.90
	Low  = 0.80
)

// New watches limitBytes every period until Stop; a zero limit never turns
// busy.
func New(limitBytes uint64, period time.Duration) *Guard {
	g := &Guard{
		limit: limitBytes,
		high:  uint64(float64(limitBytes) * High),
		low:   uint64(float64(limitBytes) * Low),
		stop:  make(chan struct{}),
		samples: []metrics.Sample{
			{Name: "/memory/classes/total:bytes"},
			{Name: "/memory/classes/heap/released:bytes"},
		},
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

// Sample reads memory now and updates Busy; the ticker calls it.
func (g *Guard) Sample() {
	metrics.Read(g.samples)
	used := g.samples[0].Value.Uint64() - g.samples[1].Value.Uint64()
	g.Observe(used)
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
