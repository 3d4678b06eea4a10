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

	rates [rateWindow]uint64
	next  int
	last  Sample
	// cycle: the sample that first saw the last collection; building:
	// whether that collection found the heap building (until two have been
	// seen, it is taken to be).
	cycle    Sample
	building bool
}

// Sample is what the pacer reads of the runtime once a second.
type Sample struct {
	Live   uint64 // the heap found live by the last collection
	Allocs uint64 // bytes allocated since the process started
	Cycles uint64 // collections since the process started
	At     time.Time
}

// New makes a pacer for p that acts on the runtime.
func New(p Policy) *Pacer {
	return &Pacer{policy: p, percent: DefaultPercent, building: true, set: debug.SetGCPercent, free: debug.FreeOSMemory}
}

// Start paces until the returned stop is called; stop puts GOGC back to the
// default. It returns ok false, and does nothing, while another pacer of
// the process runs (servers started by one test process).
func (p *Pacer) Start() (stop func(), ok bool) {
	if !running.CompareAndSwap(false, true) {
		return func() {}, false
	}
	done, finished := make(chan struct{}), make(chan struct{})
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			p.Step(Sample{Live: samples[0].Value.Uint64(), Allocs: samples[1].Value.Uint64(),
				Cycles: samples[2].Value.Uint64(), At: time.Now()})
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

// Step takes one sample. It changes GOGC when the new figure is a tenth or
// more away from the one set (or is the default again), and gives memory
// back to the system when it goes back to the default from twice that or
// more: the garbage a busy time was allowed to keep is not needed any more.
//
// While the heap is building (Building), it keeps the default: thousands
// of connections opening at once leave their lasting objects among the
// garbage of their handshakes, and a heap allowed to grow then stays
// spread over more pages after the busy time (idle19k: 9.3 to 9.9 KiB per
// connection with pacing through its ramp, 7.9 without).
func (p *Pacer) Step(s Sample) {
	if !p.last.At.IsZero() && s.At.After(p.last.At) && s.Allocs >= p.last.Allocs {
		p.rates[p.next] = uint64(float64(s.Allocs-p.last.Allocs) / s.At.Sub(p.last.At).Seconds())
		p.next = (p.next + 1) % rateWindow
	}
	p.last = s
	if s.Cycles != p.cycle.Cycles {
		if p.cycle.Cycles != 0 {
			p.building = Building(p.cycle, s)
		}
		p.cycle = s
	}
	var rate uint64
	for _, r := range p.rates {
		rate = max(rate, r)
	}
	want := DefaultPercent
	if !p.building {
		want = Percent(s.Live, rate, p.policy)
	}
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
