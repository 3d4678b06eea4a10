// Package heaptest measures the live heap for the idle-memory benchmarks
// of actors and gateway (bytes per idle session or connection).
package heaptest

import (
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
)

// Live is the heap in use after two collections (the second frees what
// the first only finalized).
func Live() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// WriteProfile writes a heap profile to the file IDLE_HEAP_PROFILE names,
// if it names one (run with -memprofilerate 1 to see every allocation).
func WriteProfile(tb testing.TB) {
	f := os.Getenv("IDLE_HEAP_PROFILE")
	if f == "" {
		return
	}
	out, err := os.Create(f)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	if err := pprof.WriteHeapProfile(out); err != nil {
		tb.Fatal(err)
	}
}
