package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestSocketIOClientV4: the npm socket.io-client 4 (Engine.IO 4) plays a
// full round through the Socket.IO prefix, with server pings every second
// that it must answer and emitWithAck; node/sio4_round.mjs checks it. Three
// ways: WebSocket only, the client's defaults (long-polling, then the
// upgrade), and long-polling only.
func TestSocketIOClientV4(t *testing.T) {
	t.Parallel()
	dir := nodeDir(t)
	for _, mode := range []string{"websocket", "default", "polling"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "-ping-interval", "1s", "-idle-timeout", "3s")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			node := exec.CommandContext(ctx, "node", "sio4_round.mjs", s.httpURL(""), mode)
			node.Dir = dir
			out, err := node.CombinedOutput()
			if err != nil {
				t.Fatalf("node sio4_round.mjs %s: %v\n%s", mode, err, out)
			}
			t.Logf("node sio4_round.mjs %s:\n%s", mode, out)
			s.requireHealthy(t)
		})
	}
}

var nodeMu sync.Mutex

// nodeDir is e2e/node with its npm packages installed.
func nodeDir(t *testing.T) string {
	t.Helper()
	nodeMu.Lock() // one npm ci at a time in one folder
	defer nodeMu.Unlock()
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	ensureNodeModules(t, dir)
	return dir
}

// ensureNodeModules installs node/'s locked packages unless they are there.
func ensureNodeModules(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client", "package.json")); err == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	npm := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	npm.Dir = dir
	if out, err := npm.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

// TestSocketIOClientRecovers: Socket.IO's connection state recovery with
// the npm socket.io-client 4, on each transport. A guest's engine is
// closed mid-round after its choice and reconnects after the deadline:
// socket.recovered is true and the round's result arrives once, counting
// the choice; its pid from another uid, a forged pid and a pid reused
// while its session is connected are refused (recovered false, a fresh
// session). node/sio4_recover.mjs checks it.
func TestSocketIOClientRecovers(t *testing.T) {
	t.Parallel()
	dir := nodeDir(t)
	for _, mode := range []string{"websocket", "polling", "default"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "-auth-mode", "guest", "-auth-secrets", newKey,
				"-bot-fill", "100ms", "-round-time", "3s", "-resume-window", "10s", "-handshake-timeout", "1s")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			node := exec.CommandContext(ctx, "node", "sio4_recover.mjs", s.httpURL(""), mode)
			node.Dir = dir
			out, err := node.CombinedOutput()
			if err != nil {
				t.Fatalf("node sio4_recover.mjs %s: %v\n%s", mode, err, out)
			}
			t.Logf("node sio4_recover.mjs %s:\n%s", mode, out)
			s.requireHealthy(t)
		})
	}
}
