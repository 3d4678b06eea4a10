package testserver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const npmTimeout = 5 * time.Minute

// NPMCI installs dir's node_modules from its package-lock.json with `npm ci`
// when they are missing or older than the lock file. Lock files in this repo
// carry no registry URLs: npm takes the one it is configured with.
func NPMCI(t testing.TB, dir string) {
	t.Helper()
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatalf("testserver: npm is not installed (make test-deps installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testserver: npm ci in %s: %v\n%s", dir, err, out)
	}
}
