package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binPath is the server binary that TestMain builds once for every test.
var binPath string

func TestMain(m *testing.M) {
	// The tests mostly wait on game timers, not on the CPU: run them all at
	// once unless -test.parallel says otherwise, so the suite takes as long
	// as its longest test (the 90 s idle client), not the sum of them.
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "32")
	}
	dir, err := os.MkdirTemp("", "caiquan-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "caiquan")
	args := []string{"build", "-o", binPath}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/caiquan/caiquan/cmd/caiquan")
	build := exec.Command("go", args...)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go %s: %v\n%s", strings.Join(args, " "), err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	launchTimeout = 15 * time.Second // binary start to its "listening on" line
	stopTimeout   = 6 * time.Second  // SIGTERM to exit before SIGKILL
	stderrTail    = 64 << 10         // how much of the server's log a failure prints
)

// server is one running caiquan process.
type server struct {
	t      *testing.T
	addr   string
	cmd    *exec.Cmd
	stderr *syncBuffer
	stdout *firstLine

	exited  chan struct{} // closed when the process has been waited for
	exitErr error         // valid after exited is closed
}

// startServer starts the binary on 127.0.0.1:0 with flags and stops it when
// the test ends (SIGTERM, then SIGKILL); on failure it prints the server's log.
func startServer(t *testing.T, flags ...string) *server {
	t.Helper()
	args := append([]string{"-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0"}, flags...)
	s := &server{
		t:      t,
		cmd:    exec.Command(binPath, args...),
		stderr: &syncBuffer{},
		stdout: &firstLine{line: make(chan string, 1)},
		exited: make(chan struct{}),
	}
	s.cmd.Stdout = s.stdout
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.stop()
		log := s.stderr.String()
		if strings.Contains(log, "WARNING: DATA RACE") {
			t.Errorf("the server reported a data race (see its log below)")
		}
		if t.Failed() {
			if len(log) > stderrTail {
				log = "…" + log[len(log)-stderrTail:]
			}
			t.Logf("server %s %s\nstdout:\n%s\nstderr:\n%s", binPath, strings.Join(args, " "), s.stdout.String(), log)
		}
	})

	select {
	case line := <-s.stdout.line:
		addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
		if !ok || !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
			t.Fatalf("server's first stdout line is %q, want \"listening on 127.0.0.1:PORT\"", line)
		}
		s.addr = addr
	case <-s.exited:
		t.Fatalf("server exited before it listened: %v", s.exitErr)
	case <-time.After(launchTimeout):
		t.Fatalf("server printed no \"listening on\" line within %v", launchTimeout)
	}
	return s
}

// stop ends the process if it still runs: SIGTERM, then SIGKILL.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.t.Errorf("server did not exit within %v of SIGTERM; killing it", stopTimeout)
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// signal sends sig to the server process.
func (s *server) signal(sig os.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v: %v", sig, err)
	}
}

// waitExit waits for the process to end and returns its exit code.
func (s *server) waitExit(timeout time.Duration) (int, error) {
	select {
	case <-s.exited:
	case <-time.After(timeout):
		return -1, fmt.Errorf("server still running after %v", timeout)
	}
	if s.exitErr == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(s.exitErr, &ee) {
		return ee.ExitCode(), nil
	}
	return -1, s.exitErr
}

// alive reports whether the process has not exited.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *server) httpURL(path string) string { return "http://" + s.addr + path }
func (s *server) wsURL(path string) string   { return "ws://" + s.addr + path }

// eio3URL is the exact URL the 2016 mini-program dials, double slash included.
func (s *server) eio3URL() string {
	return s.wsURL("/applet/websocket/socket.io//?EIO=3&transport=websocket")
}

// requireHealthy fails the test unless the process runs and /healthz says ok.
func (s *server) requireHealthy(t *testing.T) {
	t.Helper()
	if !s.alive() {
		t.Fatalf("server process exited: %v", s.exitErr)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(s.httpURL("/healthz"))
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: status %d, body %q", resp.StatusCode, body)
	}
	var h struct {
		Status *string `json:"status"`
	}
	if err := json.Unmarshal(body, &h); err != nil || h.Status == nil || *h.Status != "ok" {
		t.Fatalf("GET /healthz: body %q, want JSON with \"status\":\"ok\" (err %v)", body, err)
	}
}

// syncBuffer is a bytes.Buffer that the exec copier and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// firstLine keeps stdout and hands over its first line once.
type firstLine struct {
	syncBuffer
	once sync.Once
	line chan string
}

func (f *firstLine) Write(p []byte) (int, error) {
	n, err := f.syncBuffer.Write(p)
	if s := f.syncBuffer.String(); strings.Contains(s, "\n") {
		f.once.Do(func() { f.line <- s[:strings.Index(s, "\n")] })
	}
	return n, err
}

// TestHealthz: /healthz answers, and SIGTERM with nothing to drain exits 0 at once.
func TestHealthz(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.requireHealthy(t)
	s.signal(syscall.SIGTERM)
	if code, err := s.waitExit(2 * time.Second); err != nil || code != 0 {
		t.Fatalf("SIGTERM with no players: exit code %d, %v; want 0 at once", code, err)
	}
}
