package actors

import (
	"testing"

	"github.com/asynkron/protoactor-go/actor"
)

// The compacted registry keeps the system's own processes and finds the
// actors spawned after.
func TestCompactRegistry(t *testing.T) {
	system := actor.NewActorSystem()
	defer system.Shutdown()
	CompactRegistry(system)
	if n := len(system.ProcessRegistry.LocalPIDs.LocalPIDs); n != registryBuckets {
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
	system.Root.Send(pid, "hi")
	if m := <-got; m != "hi" {
		t.Fatalf("got %v", m)
	}
	system.Root.Stop(pid)
}
