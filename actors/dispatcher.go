package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// workerDispatcher runs mailboxes on goroutines that it keeps for a while
// after their work is done. protoactor's default dispatcher starts a fresh
// goroutine for every burst of a mailbox; each grows its stack again from
// 2 KiB to what Receive needs (profiles of the 10,000-player run showed
// 19 % of the server's CPU in stack growth). A kept goroutine has its
// stack grown already. A worker with nothing to do for workerIdle exits,
// so a spike does not leave goroutines behind for good.
type workerDispatcher struct {
	work       chan func()
	throughput int
}

// workerIdle is how long a worker with nothing to do waits for more.
const workerIdle = 2 * time.Second

var _ actor.Dispatcher = (*workerDispatcher)(nil)

func newWorkerDispatcher(throughput int) *workerDispatcher {
	return &workerDispatcher{work: make(chan func()), throughput: throughput}
}

// Schedule hands fn to an idle worker, or starts one: it never waits, so
// a mailbox that blocks (a player saving to its store) holds up only its
// own worker.
func (d *workerDispatcher) Schedule(fn func()) {
	select {
	case d.work <- fn:
	default:
		go d.worker(fn)
	}
}

func (d *workerDispatcher) Throughput() int { return d.throughput }

func (d *workerDispatcher) worker(fn func()) {
	fn()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		select {
		case fn := <-d.work:
			fn()
			idle.Reset(workerIdle)
		case <-idle.C:
			return
		}
	}
}

// mailboxThroughput is how many messages a mailbox runs before it lets its
// worker go; protoactor's default.
const mailboxThroughput = 300
