package actors

import (
	"sync"
	"testing"
	"time"
)

// A mailbox that blocks (a player waiting on its store) holds up only its
// own worker: the next one runs at once.
func TestWorkerDispatcherNeverWaitsForABusyWorker(t *testing.T) {
	d := newWorkerDispatcher(mailboxThroughput)
	release := make(chan struct{})
	defer close(release)
	d.Schedule(func() { <-release })
	ran := make(chan struct{})
	d.Schedule(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the second mailbox waited for the first")
	}
}

// Every scheduled run happens once, from any number of goroutines.
func TestWorkerDispatcherRunsEverything(t *testing.T) {
	d := newWorkerDispatcher(mailboxThroughput)
	const n = 10000
	var wg sync.WaitGroup
	var mu sync.Mutex
	count := 0
	wg.Add(n)
	for i := 0; i < n; i++ {
		go d.Schedule(func() {
			mu.Lock()
			count++
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	if count != n {
		t.Fatalf("%d runs, want %d", count, n)
	}
}
