//go:build !race

package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestClusterLogsJSON: in json mode a cluster node's stderr is JSON only,
// including the lines of the libraries under the cluster: the etcd client
// (which logs through zap) says so when etcd stops answering for a moment,
// and that line arrives as JSON marked lib=etcd.
func TestClusterLogsJSON(t *testing.T) {
	c := startCluster(t, 2, "-log-format", "json", "-log-level", "debug", "-round-time", "1s", "-bot-fill", "100ms")
	const uid = "cluster-logs-1"
	cl := dial(t, c.nodes[1].wsURL("/ws?format=json"))
	cl.send("hello", hello(uid, ""))
	cl.expect("hi")
	cl.playRound(uid)

	// Each member reads its own key from etcd four times a second with a
	// 1 s deadline; a pause of etcd well under the 3 s lease fails some
	// of those reads, which the etcd client logs as warnings, and fences
	// nobody.
	if err := c.etcd.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := true
	resume := func() {
		if paused {
			paused = false
			if err := c.etcd.Resume(); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer resume()
	etcdLine := func() bool {
		for _, s := range c.nodes {
			if !strings.Contains(s.Stderr(), `"lib":"etcd"`) {
				return false
			}
		}
		return true
	}
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end) && !etcdLine(); time.Sleep(20 * time.Millisecond) {
	}
	resume()
	if !etcdLine() {
		t.Fatalf("no node logged an etcd client line while etcd was paused")
	}
	cl.playRound(uid) // the cluster still plays: nobody was fenced

	for _, s := range c.nodes {
		s.Stop()
	}
	for i, s := range c.nodes {
		etcd := 0
		for _, l := range jsonLog(t, s.Stderr()) {
			if l.str("lib") == "etcd" {
				if etcd++; etcd == 1 {
					t.Logf("node %d's first etcd line: %v", i, l)
				}
				if l.str("level") != "WARN" && l.str("level") != "INFO" && l.str("level") != "ERROR" {
					t.Errorf("node %d: an etcd line below info: %v", i, l)
				}
			}
		}
		if etcd == 0 {
			t.Errorf("node %d: no etcd line", i)
		}
	}
	if !strings.Contains(c.nodes[0].Stderr()+c.nodes[1].Stderr(), `"msg":"joined the cluster"`) {
		t.Errorf("no node logged that it joined the cluster")
	}
	if t.Failed() {
		for i, s := range c.nodes {
			t.Logf("node %d stderr:\n%s", i, s.Stderr())
		}
	}
}
