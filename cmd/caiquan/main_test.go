package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/admin"
)

func runCmd(args []string, env map[string]string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

// TestHelpListsSubcommandsOnce: -h prints one usage (it printed its header
// twice) that names every subcommand and -version, and exits 0.
func TestHelpListsSubcommandsOnce(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		code, out, errOut := runCmd([]string{arg}, nil)
		if code != 0 || errOut != "" {
			t.Fatalf("%s: exit %d, stderr %q", arg, code, errOut)
		}
		if n := strings.Count(strings.ToLower(out), "usage:"); n != 1 {
			t.Errorf("%s: %d usage headers, want 1:\n%s", arg, n, out)
		}
		for _, want := range []string{"caiquan -version", "caiquan admin ", "caiquan healthcheck ", "-tls-cert-file string", "env CAIQUAN_TLS_KEY_FILE"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: usage lacks %q", arg, want)
			}
		}
	}
}

// TestVersion builds the binary with the Makefile's static target (the
// one make release and the Dockerfile run) and checks that -version prints what was stamped in, and Go's version from
// the build info.
func TestVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "caiquan")
	build := exec.Command("make", "-C", "../..", "--no-print-directory", "static",
		"VERSION=v9.8.7", "COMMIT=0123abc", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH, "OUT="+bin)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make static: %v\n%s", err, out)
	}
	if out, err := exec.Command("file", bin).Output(); err == nil && !strings.Contains(string(out), "statically linked") {
		t.Errorf("make static made a binary that is not static: %s", out)
	}
	for _, arg := range []string{"-version", "--version"} {
		out, err := exec.Command(bin, arg).Output()
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		want := "caiquan v9.8.7 (commit 0123abc, " + runtime.Version() + ")\n"
		if string(out) != want {
			t.Errorf("%s printed %q, want %q", arg, out, want)
		}
	}
	// Without stamps: "dev", and no commit to claim.
	if got := (buildInfo{Version: "dev", Go: "go1.0"}).String(); got != "caiquan dev (commit unknown, go1.0)" {
		t.Errorf("unstamped: %q", got)
	}
}

// TestAdminChaosSeed: caiquan admin chaos -seed sends the seed to the API
// (and without -seed sends none, so the server picks one); a seed that is
// not a number stops the command before anything is sent.
func TestAdminChaosSeed(t *testing.T) {
	var mu sync.Mutex
	var got []admin.ChaosRequest
	const token = "chaos-seed-test-token-0123456789abcdef"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost && r.URL.Path == "/chaos" {
			var req admin.ChaosRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			mu.Lock()
			got = append(got, req)
			mu.Unlock()
		}
		// The run has already ended, so the CLI prints it and returns.
		json.NewEncoder(w).Encode(admin.ChaosStatus{Running: false, Total: 3, Kills: map[string]int{"bot/stop": 3}})
	}))
	defer api.Close()
	addr := strings.TrimPrefix(api.URL, "http://")

	code, out, errOut := runCmd([]string{"admin", "-addr", addr, "-token", token, "chaos", "-kinds", "bot", "-every", "50ms", "-for", "1s", "-seed", "42"}, nil)
	if code != 0 || !strings.Contains(out, "chaos ended: 3 kills") {
		t.Fatalf("chaos -seed 42: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, _ := runCmd([]string{"admin", "-addr", addr, "-token", token, "chaos", "-kinds", "bot"}, nil); code != 0 {
		t.Fatalf("chaos without -seed: exit %d", code)
	}
	code, _, errOut = runCmd([]string{"admin", "-addr", addr, "-token", token, "chaos", "-kinds", "bot", "-seed", "-1"}, nil)
	if code == 0 || !strings.Contains(errOut, "seed") {
		t.Errorf("-seed -1: exit %d, stderr %q; want a failure that names the seed", code, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].Seed != 42 || got[0].Kinds[0] != "bot" || got[0].Every != "50ms" || got[1].Seed != 0 {
		t.Errorf("requests the API saw: %+v", got)
	}
	if !strings.Contains(adminUsage, "-seed N") {
		t.Error("caiquan admin -h does not mention -seed")
	}
}

// TestHealthcheck: exit 0 only for a 200 from /healthz; 503 (draining), a
// closed port and a wrong scheme are failures; -tls talks HTTPS; a
// wildcard listen address is dialled on loopback.
func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
		w.Write([]byte(`{"status":"ok","conns":0}`))
	})
	plain := httptest.NewServer(h)
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(h)
	defer tlsSrv.Close()
	plainAddr := strings.TrimPrefix(plain.URL, "http://")
	tlsAddr := strings.TrimPrefix(tlsSrv.URL, "https://")
	_, plainPort, _ := strings.Cut(plainAddr, ":")

	check := func(name string, want int, args []string, env map[string]string) {
		t.Helper()
		if code, _, errOut := runCmd(append([]string{"healthcheck"}, args...), env); code != want {
			t.Errorf("%s: exit %d, want %d (stderr %q)", name, code, want, errOut)
		}
	}
	check("plain", 0, []string{"-addr", plainAddr}, nil)
	check("wildcard host", 0, []string{"-addr", ":" + plainPort}, nil)
	check("from CAIQUAN_LISTEN", 0, nil, map[string]string{"CAIQUAN_LISTEN": "0.0.0.0:" + plainPort, "CAIQUAN_AUTH_MODE": "anonymous"})
	check("tls", 0, []string{"-addr", tlsAddr, "-tls"}, nil)
	check("plain to a TLS port", 1, []string{"-addr", tlsAddr}, nil)
	check("tls to a plain port", 1, []string{"-addr", plainAddr, "-tls", "-timeout", "2s"}, nil)
	check("bad address", 2, []string{"-addr", "nonsense"}, nil)
	mu.Lock()
	status = http.StatusServiceUnavailable
	mu.Unlock()
	check("draining", 1, []string{"-addr", plainAddr}, nil)
	plain.Close()
	start := time.Now()
	check("closed", 1, []string{"-addr", plainAddr}, nil)
	if time.Since(start) > 5*time.Second {
		t.Error("a closed port took longer than the timeout")
	}
}

// TestTLSFilesMustLoad: a certificate or key that cannot be read, or a key
// that is not the certificate's, stops start-up with exit 1 and a message
// naming the settings, before anything listens; one of the pair alone is a
// configuration error (exit 2).
func TestTLSFilesMustLoad(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"-auth-mode", "anonymous", "-store", "memory", "-listen", "127.0.0.1:0", "-admin-listen", ""}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing files", []string{"-tls-cert-file", filepath.Join(dir, "nope.crt"), "-tls-key-file", filepath.Join(dir, "nope.key")}, 1, "tls_cert_file"},
		{"junk", []string{"-tls-cert-file", junk, "-tls-key-file", junk}, 1, "tls_key_file"},
		{"cert alone", []string{"-tls-cert-file", junk}, 2, "tls_cert_file and tls_key_file go together"},
		{"key alone", []string{"-tls-key-file", junk}, 2, "tls_cert_file and tls_key_file go together"},
	} {
		code, out, errOut := runCmd(append(base, c.args...), nil)
		if code != c.code || !strings.Contains(errOut, c.want) || strings.Contains(out, "listening on") {
			t.Errorf("%s: exit %d (want %d), stdout %q, stderr %q (want %q)", c.name, code, c.code, out, errOut, c.want)
		}
	}
}

// TestAdminDelayFlags: caiquan admin chaos -delay-kinds sends the run's
// delays and prints the windows; caiquan admin delay -drop sends the drop
// and its seed; a drop or share outside 0..1, or delay flags without
// -delay-kinds, stop the command before anything is sent, naming the flag.
func TestAdminDelayFlags(t *testing.T) {
	var mu sync.Mutex
	var chaosReqs []admin.ChaosRequest
	var delayReqs []admin.DelayRequest
	const token = "delay-flags-test-token-0123456789abcdef"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/chaos":
			var req admin.ChaosRequest
			json.NewDecoder(r.Body).Decode(&req)
			chaosReqs = append(chaosReqs, req)
			json.NewEncoder(w).Encode(admin.ChaosStatus{Total: 2, Kills: map[string]int{"room/stop": 2}, Delays: req.Delays, Windows: map[string]int{"room": 3, "player": 1}})
		case r.Method == http.MethodPost && r.URL.Path == "/delay":
			var req admin.DelayRequest
			json.NewDecoder(r.Body).Decode(&req)
			delayReqs = append(delayReqs, req)
			json.NewEncoder(w).Encode(admin.DelayStatus{Delays: []actors.Delay{{Kind: req.Kind, Drop: req.Drop, Seed: req.Seed, Dropped: 4, Until: time.Now().Add(time.Minute)}}})
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	base := []string{"admin", "-addr", strings.TrimPrefix(api.URL, "http://"), "-token", token}
	cmd := func(args ...string) (int, string, string) { return runCmd(append(slices.Clone(base), args...), nil) }

	code, out, errOut := cmd("chaos", "-kinds", "room", "-every", "100ms", "-for", "5s", "-delay-kinds", "room,player", "-delay-by", "200ms", "-delay-drop", "0.1", "-delay-for", "2s")
	if code != 0 || !strings.Contains(out, "delay windows: 4") || !regexp.MustCompile(`(?m)^player +1$`).MatchString(out) {
		t.Fatalf("chaos with delays: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, out, _ = cmd("delay", "-kind", "room", "-drop", "0.5", "-seed", "3", "-for", "10s"); code != 0 || !strings.Contains(out, "drop 0.5 (seed 3, 4 dropped)") {
		t.Fatalf("delay -drop: exit %d, stdout %q", code, out)
	}
	for _, bad := range []struct {
		flag string
		args []string
	}{
		{"-delay-drop", []string{"chaos", "-kinds", "room", "-delay-kinds", "room", "-delay-by", "1s", "-delay-for", "1s", "-delay-drop", "2"}},
		{"-delay-share", []string{"chaos", "-kinds", "room", "-delay-kinds", "room", "-delay-by", "1s", "-delay-for", "1s", "-delay-share", "-1"}},
		{"-delay-kinds", []string{"chaos", "-kinds", "room", "-delay-by", "1s"}},
		{"-drop", []string{"delay", "-kind", "room", "-drop", "1.5", "-for", "1s"}},
	} {
		if code, _, errOut := cmd(bad.args...); code == 0 || !strings.Contains(errOut, bad.flag) {
			t.Errorf("%v: exit %d, stderr %q; want a failure naming %s", bad.args, code, errOut, bad.flag)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(chaosReqs) != 1 || chaosReqs[0].Delays == nil || chaosReqs[0].Delays.By != "200ms" || chaosReqs[0].Delays.Drop != 0.1 ||
		chaosReqs[0].Delays.For != "2s" || !slices.Equal(chaosReqs[0].Delays.Kinds, []string{"room", "player"}) {
		t.Errorf("chaos requests the API saw: %+v", chaosReqs)
	}
	if len(delayReqs) != 1 || delayReqs[0].Drop != 0.5 || delayReqs[0].Seed != 3 || delayReqs[0].For != "10s" {
		t.Errorf("delay requests the API saw: %+v", delayReqs)
	}
}
