package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/sdk"
	"github.com/caiquan/caiquan/web"
)

func TestMain(m *testing.M) { os.Exit(testserver.Run(m)) }

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

// TestHandler: the page, its script and style, and the SDK byte for byte.
func TestHandler(t *testing.T) {
	h := web.Handler()
	// The demo loads the package's browser build, the file package.json
	// names for <script> (unpkg), byte for byte.
	var pkg struct{ Name, Version, Unpkg string }
	raw, err := sdk.Files.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &pkg); err != nil || pkg.Unpkg != "caiquan.js" {
		t.Fatalf("sdk/package.json: %v; its browser build (unpkg) is %q, want caiquan.js", err, pkg.Unpkg)
	}
	sdkJS, err := sdk.Files.ReadFile(pkg.Unpkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, ctype, contains string
	}{
		{"/", "text/html", `<script src="/sdk/caiquan.js">`},
		{"/app.js", "text/javascript", "new Caiquan("},
		{"/style.css", "text/css", "data-phase"},
		{"/sdk/caiquan.js", "text/javascript", string(sdkJS)},
		{"/sdk/caiquan.d.ts", "", "declare class Caiquan"},
		{"/sdk/package.json", "application/json", `"version": "` + pkg.Version + `"`},
	} {
		resp := get(t, h, http.MethodGet, tc.path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) {
			t.Errorf("GET %s: %d %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s: body lacks %.60q", tc.path, tc.contains)
		}
		if resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q", tc.path, resp.Header.Get("Cache-Control"))
		}
	}
	if resp := get(t, h, http.MethodGet, "/nope.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope.js: %d, want 404", resp.StatusCode)
	}
	if resp := get(t, h, http.MethodPost, "/"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", resp.StatusCode)
	}
	if resp := get(t, h, http.MethodHead, "/sdk/caiquan.js"); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD /sdk/caiquan.js: %d", resp.StatusCode)
	}
}

// Chromium and the fonts its screenshots need (emoji hands, Chinese names)
// come from Debian; the test installs them when missing.
var browserPackages = map[string]string{
	"/usr/bin/chromium": "chromium",
	"/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf": "fonts-noto-color-emoji",
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc":    "fonts-wqy-microhei",
}

func ensureBrowser(t *testing.T) {
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

// outputDir is $CAIQUAN_TEST_OUTPUT, else test-output/ at the repo root.
func outputDir(t *testing.T) string {
	dir := os.Getenv("CAIQUAN_TEST_OUTPUT")
	if dir == "" {
		dir = filepath.Join("..", "test-output")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestBrowser plays the demo, as served by a real server at /, in headless
// Chromium: test/demo.test.mjs (node --test, playwright-core) against a
// server in guest mode where a bot fills a seat after 300 ms, and an
// anonymous one where two tabs meet each other. It saves a screenshot of
// each result screen.
func TestBrowser(t *testing.T) {
	ensureBrowser(t)
	testserver.NPMCI(t, "test")
	// One server in guest mode (as make run), one anonymous (the demo then
	// names its own uids).
	bot := testserver.Start(t, "-bot-fill", "300ms", "-round-time", "1s",
		"-auth-mode", "guest", "-auth-secrets", "web-test-secret-web-test-secret-web-test")
	pvp := testserver.Start(t, "-bot-fill", "30s", "-round-time", "1s")

	resp, err := http.Get(bot.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `src="/sdk/caiquan.js"`) {
		t.Fatalf("the server does not serve the demo at /: %d %.200s\n"+
			"(cmd/caiquan must pass gateway.WithStatic(web.Handler()) to gateway.New)", resp.StatusCode, page)
	}

	out := outputDir(t)
	shots := []string{"web-bot-result.png", "web-pvp-winner.png", "web-pvp-loser.png"}
	for _, name := range shots {
		os.Remove(filepath.Join(out, name)) // a stale picture must not pass for a new one
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{"--test", "--test-reporter=spec", "demo.test.mjs"}
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = "test"
	cmd.Env = append(os.Environ(), "CAIQUAN_BOT_URL="+bot.URL, "CAIQUAN_PVP_URL="+pvp.URL,
		"CAIQUAN_TEST_OUTPUT="+out, "CHROMIUM=/usr/bin/chromium", "NO_COLOR=1")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %v: %v\n%s", args, err, b)
	}
	if m := regexp.MustCompile(`(?m)^ℹ pass (\d+)$`).FindSubmatch(b); m == nil || string(m[1]) == "0" {
		t.Fatalf("node --test passed no test:\n%s", b)
	}
	t.Logf("node %v:\n%s", args, b)
	for _, name := range shots {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}
