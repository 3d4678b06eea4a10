package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/caiquan/caiquan/internal/testing/tlstest"
	"github.com/caiquan/caiquan/sdk"
)

func TestMain(m *testing.M) { os.Exit(testserver.Run(m)) }

// TestSDK runs the SDK's own tests (test/*.test.js under node --test)
// against two real servers: one where a bot fills a seat after 300 ms, and
// one where it never does in time, so two test players meet each other.
// Rounds last 1 s. The files run one after the other, since players of
// different files would meet on the second server.
func TestSDK(t *testing.T) {
	testserver.NPMCI(t, "test")
	bot := testserver.Start(t, "-bot-fill", "300ms", "-round-time", "1s")
	pvp := testserver.Start(t, "-bot-fill", "30s", "-round-time", "1s")
	login := testserver.Start(t, "-bot-fill", "300ms", "-round-time", "1s", "-auth-mode", "wechat",
		"-auth-secret", "sdk-test-secret-sdk-test-secret-sdk", "-wechat-appid", "wxsdk", "-wechat-secret", "s",
		"-wechat-api-base", fakeCode2Session(t))
	guest := testserver.Start(t, "-bot-fill", "300ms", "-round-time", "1s", "-auth-mode", "guest",
		"-auth-secrets", "sdk-guest-secret-sdk-guest-secret-sdk")

	files, err := filepath.Glob("test/*.test.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test/*.test.js (%v)", err)
	}
	args := []string{"--test", "--test-concurrency=1", "--test-reporter=spec"}
	for _, f := range files {
		args = append(args, filepath.Base(f))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = "test"
	cmd.Env = append(os.Environ(), "CAIQUAN_BOT_URL="+bot.URL, "CAIQUAN_PVP_URL="+pvp.URL, "CAIQUAN_LOGIN_URL="+login.URL, "CAIQUAN_GUEST_URL="+guest.URL, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %v: %v\n%s", args, err, out)
	}
	// A run that found no tests also exits 0.
	if m := regexp.MustCompile(`(?m)^ℹ pass (\d+)$`).FindSubmatch(out); m == nil || string(m[1]) == "0" {
		t.Fatalf("node --test passed no test:\n%s", out)
	}
	t.Logf("node %v:\n%s", args, out)
	for _, s := range []*testserver.Server{bot, pvp, login, guest} {
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
// code2Session would; it returns the base URL.
func fakeCode2Session(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openid, ok := strings.CutPrefix(r.URL.Query().Get("js_code"), "ok-"); ok {
			json.NewEncoder(w).Encode(map[string]string{"openid": openid, "session_key": "k"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"errcode": 40029, "errmsg": "invalid code"})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestMiniProgramCopy: a mini-program can only require files inside its own
// folder, so it carries a copy of the SDK; it must be this one.
func TestMiniProgramCopy(t *testing.T) {
	want, err := sdk.Files.ReadFile("caiquan.js")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../miniprogram/utils/caiquan.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("miniprogram/utils/caiquan.js differs from sdk/caiquan.js: cp sdk/caiquan.js miniprogram/utils/")
	}
}

// TestSize keeps the SDK small enough to read in one sitting and to ship
// inside a mini-program package (2 MB for everything).
func TestSize(t *testing.T) {
	const budget = 16 << 10
	js, err := sdk.Files.ReadFile("caiquan.js")
	if err != nil {
		t.Fatal(err)
	}
	if len(js) > budget {
		t.Fatalf("caiquan.js is %d bytes, over its budget of %d", len(js), budget)
	}
}
