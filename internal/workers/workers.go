// Package workers runs short functions on goroutines it keeps for a while
// after their work is done.
//
// A fresh goroutine starts with a 2 KiB stack and grows it, by copying, to
// what its work needs, on every start; with a goroutine for every mailbox
// burst and every socket write, that growth is a large share of a loaded
// server's CPU. A kept worker has its stack grown already. Workers left with nothing to do for the
// pool's idle time exit, so a spike does not leave goroutines behind for
// good.
package workers

import (
	"sync/atomic"
	"time"
)

// Pool hands work to idle workers, or starts new ones.
//
// Idle workers are retired by count, not each by its own timer: one sweep
// per idle time retires as many workers as were waiting all through it
// (the fewest seen waiting since the last sweep). A timer per worker would
// be objects for the collector to mark for every reader of a loaded
// server, and a timer reset on every run.
type Pool struct {
	work chan Runner // nil asks a waiting worker to exit
	idle time.Duration

	workers  atomic.Int64 // alive
	waiting  atomic.Int64 // waiting for work
	fewest   atomic.Int64 // the fewest waiting since the last sweep
	sweeping atomic.Bool  // a sweep is due
	sweeper  *time.Timer
}

// Runner is work that runs itself. Handing a pointer to Run allocates
// nothing, where a method value handed to Go is a closure made per call.
type Runner interface{ Run() }

type funcRunner func()

func (f funcRunner) Run() { f() }

// New makes a pool whose workers exit after idle (to twice idle) without
// work.
func New(idle time.Duration) *Pool {
	p := &Pool{work: make(chan Runner), idle: idle}
	p.sweeper = time.AfterFunc(time.Hour, p.sweep)
	p.sweeper.Stop()
	return p
}

// Go runs fn on an idle worker, or on a new one: it never waits, so a
// function that blocks (a save waiting for the disk, a write to a slow
// client) holds up only its own worker.
func (p *Pool) Go(fn func()) { p.Run(funcRunner(fn)) }

// Run is Go for a Runner.
func (p *Pool) Run(r Runner) {
	select {
	case p.work <- r:
	default:
		p.workers.Add(1)
		p.armSweep()
		go p.worker(r)
	}
}

func (p *Pool) worker(r Runner) {
	defer p.workers.Add(-1)
	for r != nil {
		r.Run()
		p.waiting.Add(1)
		r = <-p.work
		lowerTo(&p.fewest, p.waiting.Add(-1))
	}
}

// sweep retires the workers that waited since the last sweep, and comes
// again while any worker is alive.
func (p *Pool) sweep() {
	n := p.fewest.Swap(p.waiting.Load())
retire:
	for ; n > 0; n-- {
		select {
		case p.work <- nil:
		default:
			break retire // none waits now
		}
	}
	p.sweeping.Store(false)
	if p.workers.Load() > 0 {
		p.armSweep()
	}
}

func (p *Pool) armSweep() {
	if p.sweeping.CompareAndSwap(false, true) {
		p.sweeper.Reset(p.idle)
	}
}

func lowerTo(v *atomic.Int64, n int64) {
	for {
		cur := v.Load()
		if n >= cur || v.CompareAndSwap(cur, n) {
			return
		}
	}
}
