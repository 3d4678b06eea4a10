// Package workers runs short functions on goroutines it keeps for a while
// after their work is done.
//
// A fresh goroutine starts with a 2 KiB stack and grows it, by copying, to
// what its work needs, on every start: profiles of the 10,000-player run
// showed 19 % of the server's CPU in stack growth when every actor mailbox
// burst and every socket writer burst started a goroutine. A kept worker
// has its stack grown already. A worker with nothing to do for the pool's
// idle time exits, so a spike does not leave goroutines behind for good.
package workers

import "time"

// Pool hands work to idle workers, or starts new ones.
type Pool struct {
	work chan Runner
	idle time.Duration
}

// Runner is work that runs itself. Handing a pointer to Run allocates
// nothing, where a method value handed to Go is a closure made per call.
type Runner interface{ Run() }

type funcRunner func()

func (f funcRunner) Run() { f() }

// New makes a pool whose workers exit after idle without work.
func New(idle time.Duration) *Pool {
	return &Pool{work: make(chan Runner), idle: idle}
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
		go p.worker(r)
	}
}

func (p *Pool) worker(r Runner) {
	r.Run()
	idle := time.NewTimer(p.idle)
	defer idle.Stop()
	for {
		select {
		case r := <-p.work:
			r.Run()
			idle.Reset(p.idle)
		case <-idle.C:
			return
		}
	}
}
