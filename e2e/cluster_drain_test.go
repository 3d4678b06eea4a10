//go:build !race

package e2e

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caiquan/caiquan/cluster"
)

// TestClusterDrainGetsNoRooms: a node that drains gets no new rooms from
// the lobby on another node, so its drain ends once the rounds it had are
// over, not at drain_timeout with rounds voided. Players play through the
// lobby's node all along, and rooms spread over both nodes in turn.
func TestClusterDrainGetsNoRooms(t *testing.T) {
	const drainTimeout = 30 * time.Second
	c := startCluster(t, 2, "-round-time", "1s", "-drain-timeout", drainTimeout.String())
	addrs := []string{clusterAddr(c.nodes[0]), clusterAddr(c.nodes[1])}
	lobby := slices.Index(addrs, cluster.PlaceAmong(cluster.LobbyKey, addrs))
	if lobby < 0 {
		t.Fatalf("no node holds the lobby among %v", addrs)
	}
	other := 1 - lobby
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cr crowd
	cr.spread(ctx, c, 8, lobby)
	// Wait until the other node hosts rooms: the lobby takes the members
	// in turn.
	for end := time.Now().Add(20 * time.Second); metric(t, c.nodes[other], "caiquan_rounds_settled_total") < 3; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the node that is not the lobby's settled no rounds within 20 s")
		}
	}
	began := time.Now()
	c.nodes[other].signal(syscall.SIGTERM)
	code, err := c.nodes[other].waitExit(drainTimeout - 5*time.Second)
	if err != nil {
		t.Fatalf("the draining node still runs %v after SIGTERM (drain_timeout %v): the lobby kept opening rooms on it", time.Since(began).Round(time.Second), drainTimeout)
	}
	if code != 0 {
		t.Errorf("the drained node exited %d", code)
	}
	if log := c.nodes[other].Stderr(); strings.Contains(log, "drain incomplete") {
		t.Errorf("the drain did not complete: %s", log[strings.Index(log, "drain incomplete"):][:120])
	}
	t.Logf("drained and exited in %v", time.Since(began).Round(100*time.Millisecond))
	cr.finish(time.Second, cancel)
}
