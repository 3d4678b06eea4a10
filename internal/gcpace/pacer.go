package gcpace

import (
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// running: GOGC is one per process, so one pacer sets it at a time.
var running atomic.Bool

// rateWindow is how many one-second samples of the allocation rate the
// pacer keeps; the highest counts, since a game's load comes in waves.
const rateWindow = 5

// Pacer sets GOGC from the runtime's own figures once a second.
type Pacer struct {
	policy  Policy
	percent int
	// set and free are debug.SetGCPercent and debug.FreeOSMemory; a test
	// puts its own.
	set  func(int) int
	free func()

	rates      [rateWindow]uint64
	next       int
	lastAllocs uint64
	lastAt     time.Time
}

// New makes a pacer for p that acts on the runtime.
func New(p Policy) *Pacer {
	return &Pacer{policy: p, percent: DefaultPercent, set: debug.SetGCPercent, free: debug.FreeOSMemory}
}

// Start paces until the returned stop is called; stop puts GOGC back to the
// default. It returns ok false, and does nothing, while another pacer of
// the process runs (servers started by one test process).
func (p *Pacer) Start() (stop func(), ok bool) {
	if !running.CompareAndSwap(false, true) {
		return func() {}, false
	}
	done, finished := make(chan struct{}), make(chan struct{})
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			p.Step(samples[0].Value.Uint64(), samples[1].Value.Uint64(), time.Now())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		p.set(DefaultPercent)
		p.percent = DefaultPercent
		running.Store(false)
	}, true
}

// Percent returns the GOGC the pacer set last; not while it runs (Start).
func (p *Pacer) Percent() int { return p.percent }

// Step takes one sample: the live heap after the last collection, the
// bytes allocated since the process started, and when. It changes GOGC when
// the new figure is a tenth or more away from the one set (or is the
// default again), and gives memory back to the system when it goes back to
// the default from twice that or more: the garbage a busy time was allowed
// to keep is not needed any more.
func (p *Pacer) Step(live, allocs uint64, now time.Time) {
	if !p.lastAt.IsZero() && now.After(p.lastAt) && allocs >= p.lastAllocs {
		p.rates[p.next] = uint64(float64(allocs-p.lastAllocs) / now.Sub(p.lastAt).Seconds())
		p.next = (p.next + 1) % rateWindow
	}
	p.lastAllocs, p.lastAt = allocs, now
	var rate uint64
	for _, r := range p.rates {
		rate = max(rate, r)
	}
	want := Percent(live, rate, p.policy)
	diff := want - p.percent
	if want == p.percent || (want != DefaultPercent && diff*10 > -p.percent && diff*10 < p.percent) {
		return
	}
	was := p.percent
	p.set(want)
	p.percent = want
	if want == DefaultPercent && was >= 2*DefaultPercent {
		p.free()
	}
}
