package admin_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// consoleShots are the screenshots test/console.test.mjs takes.
var consoleShots = []string{
	"console-locked.png", "console-tree.png", "console-room-killed.png",
	"console-chaos-running.png", "console-chaos-ended.png",
}

// TestConsoleBrowser drives the console, as a real server serves it on its
// admin listener, in headless Chromium: test/console.test.mjs (node --test,
// playwright-core). The operator is refused with a wrong token and let in
// with the right one; the tree shows a player's room with its bot; the
// room's kill button ends the player's round in a void; a panic in the
// lobby shows as a restart; a chaos run from the panel shows its progress
// and each kill. A page of another origin can neither read the API, drive
// it, nor frame the console. Screenshots go to test-output/console/ (or
// $CAIQUAN_TEST_OUTPUT/console/), named in the log.
func TestConsoleBrowser(t *testing.T) {
	testserver.EnsureChromium(t)
	testserver.NPMCI(t, "test")
	// A long round, so that the room is still there when the page kills
	// it; a bot fills the seat soon; the rounds left at the end are not
	// waited for.
	s := testserver.Start(t, "-bot-fill", "300ms", "-round-time", "30s", "-drain-timeout", "1s")

	out := filepath.Join(testserver.OutputDir(t), "console")
	for _, name := range consoleShots {
		os.Remove(filepath.Join(out, name)) // a stale picture must not pass for a new one
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// Node 20 has WebSocket behind a flag (the player's socket); newer
	// ones accept and ignore it.
	args := []string{"--experimental-websocket", "--no-warnings", "--test", "--test-force-exit", "--test-reporter=spec", "console.test.mjs"}
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = "test"
	cmd.Env = append(os.Environ(),
		"CAIQUAN_ADMIN_URL=http://"+s.AdminAddr(), "CAIQUAN_ADMIN_TOKEN="+s.AdminToken(), "CAIQUAN_GAME_URL="+s.URL,
		"CAIQUAN_TEST_OUTPUT="+out, "CHROMIUM="+testserver.Chromium, "NO_COLOR=1")
	start := time.Now()
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %v: %v\n%s", args, err, b)
	}
	if m := regexp.MustCompile(`(?m)^ℹ pass (\d+)$`).FindSubmatch(b); m == nil || string(m[1]) != "2" {
		t.Fatalf("node --test did not pass both tests:\n%s", b)
	}
	t.Logf("node %v (%v):\n%s", args, time.Since(start).Round(time.Millisecond), b)
	for _, name := range consoleShots {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}
