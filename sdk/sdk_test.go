package sdk_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
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
	"github.com/caiquan/caiquan/internal/testing/tlstest"
	"github.com/caiquan/caiquan/sdk"
)

func TestMain(m *testing.M) { os.Exit(testserver.Run(m)) }

// TestSDK runs the SDK's own tests (test/*.test.js under node --test)
// against real servers: one where a bot fills a seat after 300 ms (rounds
// of 1 s), one where it never does in time, so two test players meet each
// other (rounds of 1.5 s, so gameTime and gameTimeMs differ), one in
// WeChat mode, one in guest mode, and one in WeChat mode with tokens of
// 25 s and rounds of 3 s for the sample mini-program's afternoon. The
// files run one after the other, since players of different files would
// meet on the pvp server. The sample loads the package from a
// miniprogram_npm that build.js lays out as "Build npm" does.
func TestSDK(t *testing.T) {
	testserver.NPMCI(t, "test")
	npm := buildPackage(t)
	bot := testserver.Start(t, "-bot-fill", "300ms", "-round-time", "1s")
	// At debug level: should two test players not meet, its log says how
	// far each got.
	pvp := testserver.Start(t, "-bot-fill", "30s", "-round-time", "1500ms", "-log-level", "debug")
	login := testserver.Start(t, "-bot-fill", "300ms", "-round-time", "1s", "-auth-mode", "wechat",
		"-auth-secret", "sdk-test-secret-sdk-test-secret-sdk", "-wechat-appid", "wxsdk", "-wechat-secret", "s",
		"-wechat-api-base", fakeCode2Session(t))
	guest := testserver.Start(t, "-bot-fill", "300ms", "-round-time", "1s", "-auth-mode", "guest",
		"-auth-secrets", "sdk-guest-secret-sdk-guest-secret-sdk")
	wechat := testserver.Start(t, "-bot-fill", "300ms", "-round-time", "3s", "-auth-mode", "wechat", "-token-ttl", "25s",
		"-auth-secret", "sdk-wechat-secret-sdk-wechat-secret", "-wechat-appid", "wxsample", "-wechat-secret", "s",
		"-wechat-api-base", fakeCode2Session(t))

	files, err := filepath.Glob("test/*.test.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test/*.test.js (%v)", err)
	}
	args := []string{"--test", "--test-concurrency=1", "--test-reporter=spec"}
	for _, f := range files {
		args = append(args, filepath.Base(f))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = "test"
	cmd.Env = append(os.Environ(), "CAIQUAN_BOT_URL="+bot.URL, "CAIQUAN_PVP_URL="+pvp.URL, "CAIQUAN_LOGIN_URL="+login.URL, "CAIQUAN_GUEST_URL="+guest.URL,
		"CAIQUAN_WECHAT_URL="+wechat.URL, "CAIQUAN_MINIPROGRAM_NPM="+npm, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %v: %v\n%s", args, err, out)
	}
	// A run that found no tests also exits 0.
	if m := regexp.MustCompile(`(?m)^ℹ pass (\d+)$`).FindSubmatch(out); m == nil || string(m[1]) == "0" {
		t.Fatalf("node --test passed no test:\n%s", out)
	}
	t.Logf("node %v:\n%s", args, out)
	for _, s := range []*testserver.Server{bot, pvp, login, guest, wechat} {
		if err := s.Healthy(); err != nil {
			t.Errorf("after the SDK tests: %v", err)
		}
	}
}

// TestSDKOverWSS: the SDK's full rounds (through the wx stand-in, as in a
// mini-program, and through a browser-style WebSocket) over wss:// to a
// server that serves TLS itself with a throwaway certificate, trusted
// through NODE_EXTRA_CA_CERTS.
func TestSDKOverWSS(t *testing.T) {
	testserver.NPMCI(t, "test")
	ca := tlstest.NewCA(t)
	certFile, keyFile := ca.Issue(t, t.TempDir(), 7)
	s := testserver.Start(t, "-bot-fill", "300ms", "-round-time", "1s", "-tls-cert-file", certFile, "-tls-key-file", keyFile)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "round.test.js")
	cmd.Dir = "test"
	cmd.Env = append(os.Environ(), "CAIQUAN_BOT_URL=https://"+s.Addr, "NODE_EXTRA_CA_CERTS="+ca.File, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node round.test.js over wss://: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`(?m)^ℹ pass (\d+)$`).FindSubmatch(out); m == nil || string(m[1]) == "0" {
		t.Fatalf("node --test passed no test:\n%s", out)
	}
	if !strings.Contains(s.Stderr(), "tls=true") {
		t.Fatalf("the server does not say it serves TLS:\n%s", s.Stderr())
	}
}

// fakeCode2Session answers code "ok-<openid>" with that openid, as WeChat's
// code2Session would, and passes every name and picture WeChat's content
// check is asked about (the server checks them in WeChat mode); it returns
// the base URL.
func fakeCode2Session(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cgi-bin/token":
			json.NewEncoder(w).Encode(map[string]any{"access_token": "sdk-test-access", "expires_in": 7200})
			return
		case "/wxa/msg_sec_check", "/wxa/img_sec_check":
			json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok", "result": map[string]any{"suggest": "pass", "label": 100}})
			return
		}
		if openid, ok := strings.CutPrefix(r.URL.Query().Get("js_code"), "ok-"); ok {
			json.NewEncoder(w).Encode(map[string]string{"openid": openid, "session_key": "k"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"errcode": 40029, "errmsg": "invalid code"})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSize keeps the SDK small enough to read in one sitting and to ship
// inside a mini-program package (2 MB for everything).
func TestSize(t *testing.T) {
	const budget = 40 << 10
	js, err := sdk.Files.ReadFile("caiquan.js")
	if err != nil {
		t.Fatal(err)
	}
	if len(js) > budget {
		t.Fatalf("caiquan.js is %d bytes, over its budget of %d", len(js), budget)
	}
}

// buildPackage runs build.js, laying the package out in a miniprogram_npm
// of the test's own; it returns that directory.
func buildPackage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("node", "build.js", "--miniprogram", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("node build.js: %v\n%s", err, out)
	}
	return filepath.Join(dir, "miniprogram_npm")
}

// TestPackage packs the npm package as npm publish would and uses what is
// in the tarball: require() gets the CommonJS build, import the ES module,
// both the same SDK; the mini-program build is where the miniprogram field
// says; types are there; nothing else (no Go, no tests) and no runtime
// dependencies.
func TestPackage(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatalf("npm is not installed (make test-deps installs it): %v", err)
	}
	var pkg struct {
		Name, Version, Main, Module, Types, Miniprogram string
		Files                                           []string
		Dependencies, PeerDependencies                  map[string]string
		Exports                                         map[string]any
	}
	raw, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatalf("package.json: %v", err)
	}
	if len(pkg.Dependencies)+len(pkg.PeerDependencies) != 0 {
		t.Errorf("the SDK has runtime dependencies: %v %v", pkg.Dependencies, pkg.PeerDependencies)
	}
	if pkg.Name != "caiquan-sdk" || pkg.Main == "" || pkg.Module == "" || pkg.Types == "" || pkg.Miniprogram == "" {
		t.Fatalf("package.json lacks name, main, module, types or miniprogram: %+v", pkg)
	}

	dest := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "pack", "--json", "--pack-destination", dest)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("npm pack: %v\n%s", err, out)
	}
	var packed []struct {
		Filename string
		Files    []struct{ Path string }
	}
	if err := json.Unmarshal(out, &packed); err != nil || len(packed) != 1 {
		t.Fatalf("npm pack --json: %v\n%s", err, out)
	}
	var got []string
	for _, f := range packed[0].Files {
		got = append(got, f.Path)
	}
	want := []string{"README.md", "caiquan.d.ts", "caiquan.js", "dist/caiquan.mjs", pkg.Miniprogram + "/index.js", "package.json"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the tarball holds %v, want %v", got, want)
	}

	// Unpacked as npm install would: node_modules/caiquan-sdk.
	mods := filepath.Join(t.TempDir(), "node_modules")
	if err := os.MkdirAll(mods, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-xzf", filepath.Join(dest, packed[0].Filename), "-C", mods).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	if err := os.Rename(filepath.Join(mods, "package"), filepath.Join(mods, "caiquan-sdk")); err != nil {
		t.Fatal(err)
	}
	check := `
const assert = require('node:assert/strict');
const cjs = require('caiquan-sdk');
import('caiquan-sdk').then((esm) => {
  const C = esm.default;
  assert.equal(typeof C, 'function');
  assert.equal(typeof cjs, 'function');
  assert.equal(C.version, '` + pkg.Version + `');
  assert.equal(cjs.version, C.version);
  assert.equal(typeof C.prototype.choose, 'function');
  assert.equal(typeof C.loginWithWeChat, 'function');
  const mp = require('caiquan-sdk/package.json').miniprogram;
  const viaMp = require(require('node:path').join(require.resolve('caiquan-sdk'), '..', mp, 'index.js'));
  assert.equal(viaMp.version, C.version);
  console.log('ok');
});
`
	run := exec.CommandContext(ctx, "node", "-e", check)
	run.Dir = filepath.Dir(mods)
	if out, err := run.CombinedOutput(); err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("using the packed package: %v\n%s", err, out)
	}
	// The browser build (a <script>) defines the global Caiquan.
	script := exec.CommandContext(ctx, "node", "-e", `
const vm = require('node:vm');
const ctx = vm.createContext({});
vm.runInContext(require('node:fs').readFileSync(process.argv[1], 'utf8'), ctx);
if (typeof ctx.Caiquan !== 'function' || ctx.Caiquan.version !== '`+pkg.Version+`') throw new Error('no global Caiquan');
`, filepath.Join(mods, "caiquan-sdk", pkg.Main))
	if out, err := script.CombinedOutput(); err != nil {
		t.Fatalf("caiquan.js as a <script>: %v\n%s", err, out)
	}
}

// TestMessagesCoverEveryCode: every error code a player can meet (the
// server's in messages/, the logins' in auth/, the connection limits' in
// gateway/) has a sentence in both of the SDK's languages.
func TestMessagesCoverEveryCode(t *testing.T) {
	codes := map[string]string{}
	fset := token.NewFileSet()
	for _, dir := range []string{"../messages", "../auth", "../gateway"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if !strings.HasPrefix(name.Name, "Code") || i >= len(vs.Values) {
							continue
						}
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							codes[v] = filepath.Base(dir) + "." + name.Name
						}
					}
				}
			}
		}
	}
	if len(codes) < 30 || codes["upgrade_required"] == "" || codes["token_expired"] == "" {
		t.Fatalf("found only %d codes: %v", len(codes), codes)
	}
	out, err := exec.Command("node", "-e", "process.stdout.write(JSON.stringify(require('./caiquan.js').messages))").Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var tables map[string]map[string]string
	if err := json.Unmarshal(out, &tables); err != nil {
		t.Fatal(err)
	}
	zh, en := tables["zh-CN"], tables["en"]
	for code, where := range codes {
		if zh[code] == "" || en[code] == "" {
			t.Errorf("%s (%s) has no sentence in zh-CN or en in caiquan.js's MESSAGES", code, where)
		}
	}
	for code := range zh {
		if en[code] == "" {
			t.Errorf("%s is in zh-CN but not in en", code)
		}
	}
	for code := range en {
		if zh[code] == "" {
			t.Errorf("%s is in en but not in zh-CN", code)
		}
	}
	for code, s := range zh {
		if !regexp.MustCompile(`\p{Han}`).MatchString(s) {
			t.Errorf("zh-CN %s is not Chinese: %q", code, s)
		}
	}
}

// TestTypes type-checks test/types/usage.ts, an app's use of the API as
// the README shows it, against caiquan.d.ts with tsc in strict mode.
func TestTypes(t *testing.T) {
	testserver.NPMCI(t, "test")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join("node_modules", ".bin", "tsc"), "-p", filepath.Join("types", "tsconfig.json"))
	cmd.Dir = "test"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc: %v\n%s", err, out)
	}
}
