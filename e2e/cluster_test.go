//go:build !race

package e2e

import (
	"context"
	"sync"
	"testing"
	"time"
)

// clusterFlags: 2 s rounds, and bots only after 30 s, so that every room in
// these tests seats humans who may be on different nodes.
var clusterFlags = []string{"-round-time", "2s", "-bot-fill", "30s"}

// TestClusterTwoNodesPlayEachOther: a player on one node and a player on
// another wait in the same queue and play one round together.
func TestClusterTwoNodesPlayEachOther(t *testing.T) {
	c := startCluster(t, 2, clusterFlags...)
	a := newGamer("ann", 0, c.nodes[0])
	b := newGamer("bob", 1, c.nodes[1])
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, g := range []*gamer{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); g.play(ctx, 1) }()
	}
	wg.Wait()
	ra, rb := a.snapshot(), b.snapshot()
	if len(ra) != 1 || len(rb) != 1 {
		t.Fatalf("rounds: ann %d, bob %d; want one each (ann errors %v, bob errors %v)", len(ra), len(rb), a.errs, b.errs)
	}
	if ra[0].id != rb[0].id {
		t.Fatalf("ann played %s, bob %s: not the same room", ra[0].id, rb[0].id)
	}
	if ra[0].result == nil || rb[0].result == nil {
		t.Fatalf("round %s did not end with a result for both: ann %+v, bob %+v", ra[0].id, ra[0], rb[0])
	}
	for _, g := range []*gamer{a, b} {
		g.checkChain(t)
	}
}
