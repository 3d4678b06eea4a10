package workers

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A function that blocks holds up only its own worker: the next one runs
// at once.
func TestGoNeverWaitsForABusyWorker(t *testing.T) {
	p := New(time.Second)
	release := make(chan struct{})
	defer close(release)
	p.Go(func() { <-release })
	ran := make(chan struct{})
	p.Go(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the second function waited for the first")
	}
}

// Every function runs once, from any number of goroutines at once.
func TestGoRunsEverything(t *testing.T) {
	p := New(time.Second)
	const n = 10000
	var wg sync.WaitGroup
	var count atomic.Int64
	wg.Add(n)
	for range n {
		go p.Go(func() {
			count.Add(1)
			wg.Done()
		})
	}
	wg.Wait()
	if count.Load() != n {
		t.Fatalf("%d runs, want %d", count.Load(), n)
	}
}

// Functions one after another run on the worker that is already there.
func TestGoReusesIdleWorkers(t *testing.T) {
	p := New(time.Minute)
	ids := make(map[uint64]bool)
	for range 20 {
		done := make(chan uint64)
		p.Go(func() { done <- goid() })
		ids[<-done] = true
		time.Sleep(time.Millisecond) // let the worker reach its wait
	}
	if len(ids) > 2 {
		t.Fatalf("20 functions one after another ran on %d goroutines; want them kept", len(ids))
	}
}

// goid reads the running goroutine's id from its stack header.
func goid() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	var id uint64
	fmt.Sscanf(string(buf), "goroutine %d ", &id)
	return id
}

// Workers left without work exit; one still running is not asked to.
func TestIdleWorkersExit(t *testing.T) {
	p := New(20 * time.Millisecond)
	const n = 10
	var started sync.WaitGroup
	started.Add(n)
	release := make(chan struct{})
	for range n {
		p.Go(func() { started.Done(); <-release })
	}
	started.Wait()
	busy := make(chan struct{})
	close(release)
	p.Go(func() { <-busy }) // may take one of the ten
	waitFor(t, "the idle workers to exit", func() bool { return p.workers.Load() == 1 })
	time.Sleep(100 * time.Millisecond) // five more sweeps
	if got := p.workers.Load(); got != 1 {
		t.Fatalf("%d workers alive while one runs, want 1", got)
	}
	close(busy)
	waitFor(t, "the last worker to exit", func() bool { return p.workers.Load() == 0 })
	ran := make(chan struct{})
	p.Go(func() { close(ran) }) // a pool emptied once starts workers again
	<-ran
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
