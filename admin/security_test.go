package admin_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/admin"
	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// A token set by hand, in a flag or the environment, that is too short to
// resist guessing stops the start, naming the setting and not the value.
func TestShortAdminTokenRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
	}{
		{args: []string{"-admin-token", "hunter2hunter2"}},
		{env: "CAIQUAN_ADMIN_TOKEN=hunter2hunter2"},
	} {
		cmd := exec.Command(testserver.Binary(t), append([]string{"-listen", "127.0.0.1:0", "-metrics-listen", "", "-auth-mode", "anonymous", "-store", "memory"}, tc.args...)...)
		cmd.Dir = t.TempDir()
		if tc.env != "" {
			cmd.Env = append(os.Environ(), tc.env)
		}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "admin_token must be at least 32 bytes, got 14") {
			t.Errorf("%v %s: started or said something else: %v\n%s", tc.args, tc.env, err, out)
		}
		if strings.Contains(string(out), "hunter2") {
			t.Errorf("the refusal shows the token:\n%s", out)
		}
	}
}

// With no token given, the server makes one, keeps it in
// caiquan.admin-token in its working directory (mode 0640), logs where and
// never what, wants it on every request, uses it again after a restart,
// and `caiquan admin` finds it there.
func TestAdminTokenMadeAndKept(t *testing.T) {
	dir := t.TempDir()
	s := testserver.StartIn(t, dir, "-admin-listen", "0.0.0.0:0")
	path := filepath.Join(dir, "caiquan.admin-token")
	addr := adminOnLoopback(t, s.AdminAddr())
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no token file: %v", err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("token file mode %#o, want 0640", st.Mode().Perm())
	}
	tok := s.AdminToken()
	if err := admin.ValidToken(tok); err != nil {
		t.Fatalf("made token %q: %v", tok, err)
	}
	// The server's stderr reaches the test through a pipe, behind the
	// stdout line Start waits for: wait for the line to arrive.
	for end := time.Now().Add(5 * time.Second); !strings.Contains(s.Stderr(), "caiquan.admin-token") && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s.Stderr(), "caiquan.admin-token") {
		t.Errorf("the log does not say where the token is:\n%s", s.Stderr())
	}
	if strings.Contains(s.Stderr(), tok) {
		t.Errorf("the log shows the token:\n%s", s.Stderr())
	}
	for token, want := range map[string]int{"": 401, "wrong": 401, tok[:len(tok)-1]: 401, tok: 200} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/actors", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if got := status(t, req); got != want {
			t.Errorf("token %q: %d, want %d", token, got, want)
		}
	}

	cli := func(args ...string) (string, error) {
		cmd := exec.Command(testserver.Binary(t), append([]string{"admin", "-addr", addr}, args...)...)
		cmd.Dir = dir
		cmd.Env = os.Environ()
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := cli("actors", "-kind", "lobby"); err != nil || !strings.Contains(out, "lobby") {
		t.Errorf("caiquan admin with the default token file: %v\n%s", err, out)
	}
	if out, err := cli("-token-file", filepath.Join(dir, "missing"), "actors"); err == nil || !strings.Contains(out, "no token") {
		t.Errorf("caiquan admin without a token: %v\n%s", err, out)
	}

	s.Stop()
	s2 := testserver.StartIn(t, dir, "-admin-listen", "127.0.0.1:0")
	if again := s2.AdminToken(); again != tok {
		t.Fatalf("after a restart the token is %q, want the kept %q", again, tok)
	}
	c := &admin.Client{Addr: s2.AdminAddr(), Token: tok}
	if _, err := c.Actors("lobby"); err != nil {
		t.Fatalf("the kept token after a restart: %v", err)
	}
}

// The requests of the issue: what a page the operator visits could send
// (a simple POST, a foreign Origin, a DNS-rebound Host) to kill the lobby
// or start chaos. None gets through, with or without the token, and the
// lobby lives on without a restart.
func TestAdminRefusesWebPageRequests(t *testing.T) {
	s := testserver.Start(t)
	addr := s.AdminAddr()
	_, port, _ := net.SplitHostPort(addr)
	tok := s.AdminToken()
	for _, tc := range []struct {
		name, path, ctype, origin, host string
		token                           bool
		want                            int
	}{
		{"simple POST from a page", "/kill", "text/plain", "https://evil.example", "", false, 403},
		{"simple POST with the token", "/kill", "text/plain", "https://evil.example", "", true, 403},
		{"JSON from a page with the token", "/kill", "application/json", "https://evil.example", "", true, 403},
		{"text/plain without Origin", "/kill", "text/plain", "", "", true, 415},
		{"form without Origin", "/chaos", "application/x-www-form-urlencoded", "", "", true, 415},
		{"DNS rebinding", "/kill", "application/json", "http://rebind.example:" + port, "rebind.example:" + port, true, 403},
		{"DNS rebinding chaos", "/chaos", "application/json", "", "rebind.example:" + port, true, 403},
	} {
		body := `{"kind":"lobby","id":"lobby","mode":"panic"}`
		if tc.path == "/chaos" {
			body = `{"kinds":["lobby"],"every":"10ms","for":"10s"}`
		}
		req, _ := http.NewRequest("POST", "http://"+addr+tc.path, strings.NewReader(body))
		req.Header.Set("Content-Type", tc.ctype)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if tc.host != "" {
			req.Host = tc.host
		}
		if tc.token {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if got := status(t, req); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	c := &admin.Client{Addr: addr, Token: tok}
	lobby, err := c.Actors("lobby")
	if err != nil || len(lobby) != 1 || lobby[0].Restarts != 0 {
		t.Fatalf("lobby after the attempts: %+v %v, want one that never restarted", lobby, err)
	}
	if st, err := c.Chaos(); err != nil || st.Running || st.Total != 0 {
		t.Fatalf("chaos after the attempts: %+v %v", st, err)
	}
	// The same kill through the client (same origin, JSON, token) works.
	if _, err := c.Kill(admin.KillRequest{Kind: "lobby", ID: "lobby", Mode: "stop"}); err != nil {
		t.Fatalf("a proper kill: %v", err)
	}
}

func status(t *testing.T, req *http.Request) int {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// adminOnLoopback is addr (maybe every interface) reached over 127.0.0.1:
// the traffic of a test stays on this machine.
func adminOnLoopback(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + port
}
