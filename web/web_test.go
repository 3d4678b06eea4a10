package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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
		{"/text.js", "text/javascript", "window.CAIQUAN_TEXT"},
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

// TestTextCoversErrorCodes: static/text.js has the same words in English and
// Chinese, every word the page and app.js ask for, and a sentence in each
// language for every error code a player can be sent: the Code* constants
// and Code: "…" literals of messages, gateway and auth, and the codes the
// SDK makes itself. A new code without a sentence fails here.
func TestTextCoversErrorCodes(t *testing.T) {
	src, err := os.ReadFile("static/text.js")
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(src, []byte("= {")), bytes.LastIndexByte(src, '}')
	if i < 0 || j < i {
		t.Fatal("static/text.js: no window.CAIQUAN_TEXT = {…}")
	}
	var text map[string]map[string]any
	if err := json.Unmarshal(src[i+2:j+1], &text); err != nil {
		t.Fatalf("static/text.js: the table is not JSON: %v", err)
	}
	en, zh := text["en"], text["zh"]
	if len(en) == 0 || len(zh) == 0 {
		t.Fatalf("static/text.js: want languages en and zh, have %v", slices.Sorted(maps.Keys(text)))
	}
	sameKeys(t, "", en, zh)

	var words []string
	for _, f := range []struct{ file, re string }{
		{"static/index.html", `data-t(?:-label)?="(\w+)"`},
		{"static/app.js", `\bT\.(\w+)`},
		{"static/app.js", `\bsay\('(\w+)'`},
	} {
		b, err := os.ReadFile(f.file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(f.re).FindAllSubmatch(b, -1) {
			words = append(words, string(m[1]))
		}
	}
	if len(words) < 20 {
		t.Fatalf("found only %d words asked for in index.html and app.js: %v", len(words), words)
	}
	for _, w := range words {
		if _, ok := en[w]; !ok {
			t.Errorf("static/text.js: en has no %q, which the page asks for", w)
		}
	}

	codes := errorCodes(t, "../messages", "../gateway", "../auth")
	codes = append(codes, sdkErrorCodes(t)...)
	if !slices.Contains(codes, "token_expired") || !slices.Contains(codes, "guest_unavailable") || !slices.Contains(codes, "replaced") {
		t.Fatalf("the code scan missed known codes: %v", codes)
	}
	for lang, table := range text {
		sentences, _ := table["errors"].(map[string]any)
		for _, code := range codes {
			if s, _ := sentences[code].(string); s == "" {
				t.Errorf("static/text.js: %s has no sentence for error code %q", lang, code)
			}
		}
	}
}

// sameKeys: a and b have the same keys, recursively, and no empty word.
func sameKeys(t *testing.T, at string, a, b map[string]any) {
	t.Helper()
	for k, v := range a {
		w, ok := b[k]
		switch {
		case !ok:
			t.Errorf("static/text.js: zh lacks %s%s", at, k)
		case v == "" || w == "":
			t.Errorf("static/text.js: %s%s is empty", at, k)
		}
		if va, ok := v.(map[string]any); ok {
			wa, _ := w.(map[string]any)
			sameKeys(t, at+k+".", va, wa)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			t.Errorf("static/text.js: en lacks %s%s", at, k)
		}
	}
}

var codeWord = regexp.MustCompile(`^[a-z][a-z_]*$`)

// errorCodes are the string constants named Code* and the string values
// of Code: fields in the non-test Go files of dirs.
func errorCodes(t *testing.T, dirs ...string) []string {
	t.Helper()
	var codes []string
	add := func(lit ast.Expr) {
		if b, ok := lit.(*ast.BasicLit); ok && b.Kind == token.STRING {
			if s, err := strconv.Unquote(b.Value); err == nil && codeWord.MatchString(s) && !slices.Contains(codes, s) {
				codes = append(codes, s)
			}
		}
	}
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					for i, name := range n.Names {
						if strings.HasPrefix(name.Name, "Code") && i < len(n.Values) {
							add(n.Values[i])
						}
					}
				case *ast.KeyValueExpr:
					if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Code" {
						add(n.Value)
					}
				}
				return true
			})
		}
	}
	return codes
}

// sdkErrorCodes are the codes the SDK's own errors carry ({code: '…'}).
func sdkErrorCodes(t *testing.T) []string {
	t.Helper()
	var codes []string
	re := regexp.MustCompile(`\bcode: '([a-z][a-z_]*)'`)
	err := fs.WalkDir(sdk.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".js") {
			return err
		}
		b, err := sdk.Files.ReadFile(path)
		for _, m := range re.FindAllSubmatch(b, -1) {
			codes = append(codes, string(m[1]))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// TestBrowser plays the demo, as served by a real server at /, in headless
// Chromium on a 375×667 phone: test/demo.test.mjs (node --test,
// playwright-core) against two servers in guest mode where a bot fills a
// seat after 300 ms, one with rounds of 1.5 s (the countdown must run from
// gameTimeMs) and one with rounds long enough to measure the page in
// Chinese and in English, and an anonymous one where two tabs meet each
// other. It saves a screenshot of each result screen and of each language's
// round, in outputDir.
func TestBrowser(t *testing.T) {
	testserver.EnsureChromium(t)
	testserver.NPMCI(t, "test")
	// Guest mode as make run; anonymous, where the demo names its own uids.
	guest := []string{"-auth-mode", "guest", "-auth-secrets", "web-test-secret-web-test-secret-web-test"}
	bot := testserver.Start(t, append([]string{"-bot-fill", "300ms", "-round-time", "1500ms"}, guest...)...)
	phone := testserver.Start(t, append([]string{"-bot-fill", "300ms", "-round-time", "20s"}, guest...)...)
	// At debug level: should two tabs not meet, its log says how far each got.
	pvp := testserver.Start(t, "-bot-fill", "30s", "-round-time", "3s", "-log-level", "debug")

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

	out := testserver.OutputDir(t)
	shots := []string{"web-bot-result.png", "web-pvp-winner.png", "web-pvp-loser.png",
		"web-phone-zh-CN-round.png", "web-phone-en-US-round.png"}
	for _, name := range shots {
		os.Remove(filepath.Join(out, name)) // a stale picture must not pass for a new one
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{"--test", "--test-reporter=spec", "demo.test.mjs"}
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = "test"
	t.Logf("screenshots go to %s (CAIQUAN_TEST_OUTPUT)", out)
	cmd.Env = append(os.Environ(), "CAIQUAN_BOT_URL="+bot.URL, "CAIQUAN_PHONE_URL="+phone.URL, "CAIQUAN_PVP_URL="+pvp.URL,
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
