package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/caiquan/caiquan/internal/workers"
)

// workerDispatcher runs mailboxes on kept goroutines (package workers)
// instead of protoactor's default, a fresh goroutine for every burst of a
// mailbox whose stack grows again each time. It relies on protoactor (at
// protoactorVersion) calling Schedule once per mailbox run and honouring
// Throughput; TestProtoactorPinned guards the version.
type workerDispatcher struct {
	pool       *workers.Pool
	throughput int
}

// workerIdle is how long a worker with nothing to do waits for more.
const workerIdle = 2 * time.Second

var _ actor.Dispatcher = (*workerDispatcher)(nil)

func newWorkerDispatcher(throughput int) *workerDispatcher {
	return &workerDispatcher{pool: workers.New(workerIdle), throughput: throughput}
}

// Schedule never waits: a mailbox that blocks (a player saving to its
// store) holds up only its own worker.
func (d *workerDispatcher) Schedule(fn func()) { d.pool.Go(fn) }

func (d *workerDispatcher) Throughput() int { return d.throughput }

// mailboxThroughput is how many messages a mailbox runs before it lets its
// worker go; protoactor's default.
const mailboxThroughput = 300
