package testserver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Chromium is Debian's browser, which the browser tests drive with
// playwright-core.
const Chromium = "/usr/bin/chromium"

// browserPackages are the files the browser tests need and the Debian
// packages that have them: Chromium, and fonts for the screenshots.
var browserPackages = map[string]string{
	Chromium: "chromium",
	"/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf": "fonts-noto-color-emoji",
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc":    "fonts-wqy-microhei",
}

// EnsureChromium installs Chromium and the fonts with apt-get when they are
// missing, and fails the test if that does not work.
func EnsureChromium(t testing.TB) {
	t.Helper()
	var missing []string
	for file, pkg := range browserPackages {
		if _, err := os.Stat(file); err != nil {
			missing = append(missing, pkg)
		}
	}
	if len(missing) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	install := append([]string{"install", "-y", "-qq"}, missing...)
	if out, err := exec.CommandContext(ctx, "apt-get", install...).CombinedOutput(); err != nil {
		t.Logf("apt-get %s: %v\n%s\n(retrying after apt-get update)", strings.Join(install, " "), err, out)
		if out, err := exec.CommandContext(ctx, "apt-get", "update", "-qq").CombinedOutput(); err != nil {
			t.Fatalf("apt-get update: %v\n%s", err, out)
		}
		if out, err := exec.CommandContext(ctx, "apt-get", install...).CombinedOutput(); err != nil {
			t.Fatalf("apt-get %s: %v\n%s", strings.Join(install, " "), err, out)
		}
	}
}

// OutputDir is where tests keep what a person looks at afterwards
// (screenshots): $CAIQUAN_TEST_OUTPUT, else test-output/ at the repository
// root (git ignores it). It makes the directory.
func OutputDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CAIQUAN_TEST_OUTPUT")
	if dir == "" {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
		if err != nil {
			t.Fatalf("testserver: find the module's directory: %v", err)
		}
		dir = filepath.Join(strings.TrimSpace(string(out)), "test-output")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return abs
}
