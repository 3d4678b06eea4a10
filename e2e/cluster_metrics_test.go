//go:build !race

package e2e

import (
	"syscall"
	"testing"
	"time"
)

// TestClusterMetrics: each node counts the members it sees and times its
// probes of the others; a member that stops drops out of the others'
// count, and fences itself when it resumes.
func TestClusterMetrics(t *testing.T) {
	c := startCluster(t, 2, append(clusterFlags, "-cluster-heartbeat-expiry", "2s", "-drain-timeout", "3s")...)
	for _, s := range c.nodes {
		waitFor(t, 10*time.Second, "two members on "+s.Addr, func() bool { return metric(t, s, "caiquan_cluster_members") == 2 })
		// The probe runs every 5 s.
		waitFor(t, 15*time.Second, "a timed probe on "+s.Addr, func() bool { return metric(t, s, "caiquan_cluster_peer_rtt_seconds_count") > 0 })
		if f := metric(t, s, "caiquan_cluster_fenced"); f != 0 {
			t.Errorf("%s: fenced %v before anything happened", s.Addr, f)
		}
	}
	if sum := metric(t, c.nodes[0], "caiquan_cluster_peer_rtt_seconds_sum"); sum <= 0 || sum > 1 {
		t.Errorf("probe round trips on loopback add up to %v s", sum)
	}

	stopped := c.nodes[1]
	stopped.Pause()
	c.waitMembers(1)
	waitFor(t, 10*time.Second, "one member", func() bool { return metric(t, c.nodes[0], "caiquan_cluster_members") == 1 })
	stopped.Signal(syscall.SIGCONT)
	if code, err := stopped.WaitExit(20 * time.Second); err != nil || code != 3 {
		t.Errorf("the resumed node: exit %d, %v; want 3 (fenced)", code, err)
	}
}
