package actors

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// The compacted registry keeps the system's own processes, and the actors
// spawned after it are registered in it and reached through it: if an
// upgrade of protoactor stops using ProcessRegistry.LocalPIDs, this fails.
func TestCompactRegistry(t *testing.T) {
	system := actor.NewActorSystem()
	defer system.Shutdown()
	CompactRegistry(system)
	sm := system.ProcessRegistry.LocalPIDs
	if n := len(sm.LocalPIDs); n != registryBuckets {
		t.Fatalf("%d buckets", n)
	}
	for _, id := range []string{"deadletter", "eventstream"} {
		if _, ok := system.ProcessRegistry.GetLocal(id); !ok {
			t.Fatalf("%s lost", id)
		}
	}
	got := make(chan any, 1)
	pid := system.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if s, ok := ctx.Message().(string); ok {
			got <- s
		}
	}))
	if _, ok := sm.GetBucket(pid.Id).Get(pid.Id); !ok {
		t.Fatalf("%s spawned but not in the compacted registry", pid.Id)
	}
	system.Root.Send(pid, "hi")
	select {
	case m := <-got:
		if m != "hi" {
			t.Fatalf("got %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the actor got nothing")
	}
	system.Root.StopFuture(pid).Wait()
	if _, ok := sm.GetBucket(pid.Id).Get(pid.Id); ok {
		t.Fatalf("%s stopped but still in the compacted registry", pid.Id)
	}
}
