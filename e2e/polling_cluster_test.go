//go:build !race

package e2e

import (
	"context"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestClusterPollingWithoutStickiness: three nodes behind a load balancer
// that sends each request to the next node in turn (no stickiness), and
// the npm socket.io-client v4 plays a round through it, on long-polling
// only and with its defaults (polling, then the upgrade's WebSocket, which
// also lands on any node). Every node must have had requests.
func TestClusterPollingWithoutStickiness(t *testing.T) {
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	ensureNodeModules(t, dir)
	c := startCluster(t, 3, "-ping-interval", "1s", "-idle-timeout", "3s")
	var targets []*url.URL
	for _, s := range c.nodes {
		u, err := url.Parse(s.httpURL(""))
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, u)
	}
	var next atomic.Uint64
	hits := make([]atomic.Int64, len(targets))
	lb := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			i := int(next.Add(1) % uint64(len(targets)))
			hits[i].Add(1)
			pr.SetURL(targets[i])
		},
	})
	defer lb.Close()

	for _, mode := range []string{"polling", "default"} {
		before := make([]int64, len(hits))
		for i := range hits {
			before[i] = hits[i].Load()
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		node := exec.CommandContext(ctx, "node", "sio4_round.mjs", lb.URL, mode)
		node.Dir = dir
		out, err := node.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("node sio4_round.mjs %s through the round-robin balancer: %v\n%s", mode, err, out)
		}
		t.Logf("node sio4_round.mjs %s:\n%s", mode, out)
		for i := range hits {
			if hits[i].Load() == before[i] {
				t.Errorf("%s: node %d had no request: the test did not spread them", mode, i)
			}
		}
	}
}
