package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	cmap "github.com/orcaman/concurrent-map"
)

// registryBuckets is how many concurrent maps CompactRegistry gives the
// process registry; each has 32 shards, each shard its own lock.
const registryBuckets = 16

// CompactRegistry gives system's process registry 16 buckets in place of
// protoactor's 1,024 (v0.0.0-20240822202345: actor.newSliceMap). Those are
// 32,768 Go maps: with a few tens of thousands of actors (every player
// has two) most hold one entry, each in a map group of its own; 512 maps
// pack them closely and still spread the locks. It uses only exported
// fields (ProcessRegistry.LocalPIDs); TestCompactRegistry fails if an
// upgrade stops looking actors up there. It keeps what is registered
// already. Call it right after making the system, before anything else
// uses it.
func CompactRegistry(system *actor.ActorSystem) {
	old := system.ProcessRegistry.LocalPIDs
	sm := &actor.SliceMap{LocalPIDs: make([]cmap.ConcurrentMap, registryBuckets)}
	for i := range sm.LocalPIDs {
		sm.LocalPIDs[i] = cmap.New()
	}
	for _, m := range old.LocalPIDs {
		m.IterCb(func(id string, p any) { sm.GetBucket(id).Set(id, p) })
	}
	system.ProcessRegistry.LocalPIDs = sm
}
