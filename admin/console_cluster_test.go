//go:build !race

// protoactor's cluster layer races under -race (see the Makefile's
// test-cluster), so this test is built without it; `make test-cluster`
// runs it.

package admin_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/admin"
	"github.com/caiquan/caiquan/internal/testing/etcdtest"
	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// TestClusterConsole: node A's console shows a section for each of two
// nodes, and its kill button stops a session that lives on node B, whose
// player's socket then closes with 4004 (test/console-cluster.test.mjs).
func TestClusterConsole(t *testing.T) {
	testserver.EnsureChromium(t)
	testserver.NPMCI(t, "test")
	etcd := etcdtest.Start(t)
	flags := []string{"-cluster-provider", "etcd", "-cluster-etcd-endpoints", etcd.Endpoint,
		"-cluster-bind", "127.0.0.1:0", "-store", "memory", "-drain-timeout", "1s"}
	a, b := testserver.Start(t, flags...), testserver.Start(t, flags...)
	nodes := []string{a.Line("cluster caiquan node "), b.Line("cluster caiquan node ")}

	// Wait until A's list has both nodes' lobbies: both are members.
	c := &admin.Client{Addr: a.AdminAddr(), Token: a.AdminToken()}
	var seen []string
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end) && len(seen) < 2; time.Sleep(100 * time.Millisecond) {
		list, err := c.Actors("lobby")
		if err != nil {
			t.Fatal(err)
		}
		seen = seen[:0]
		for _, l := range list {
			seen = append(seen, l.Node)
		}
	}
	slices.Sort(seen)
	want := slices.Sorted(slices.Values(nodes))
	if !slices.Equal(seen, want) {
		t.Fatalf("node A lists lobbies on %v, want %v", seen, want)
	}

	out := filepath.Join(testserver.OutputDir(t), "console")
	os.Remove(filepath.Join(out, "console-cluster.png"))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"--experimental-websocket", "--no-warnings", "--test", "--test-force-exit", "--test-reporter=spec", "console-cluster.test.mjs"}
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = "test"
	cmd.Env = append(os.Environ(),
		"CAIQUAN_ADMIN_URL=http://"+a.AdminAddr(), "CAIQUAN_ADMIN_TOKEN="+a.AdminToken(),
		"CAIQUAN_NODES="+strings.Join(nodes, ","), "CAIQUAN_GAME_URL_B="+b.URL,
		"CAIQUAN_TEST_OUTPUT="+out, "CHROMIUM="+testserver.Chromium, "NO_COLOR=1")
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %v: %v\n%s", args, err, res)
	}
	if m := regexp.MustCompile(`(?m)^ℹ pass (\d+)$`).FindSubmatch(res); m == nil || string(m[1]) != "1" {
		t.Fatalf("node --test did not pass its test:\n%s", res)
	}
	t.Logf("node %v:\n%s", args, res)
}
