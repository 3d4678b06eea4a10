package testserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

const (
	// Package is what Run and Start build.
	Package = "github.com/caiquan/caiquan/cmd/caiquan"
	// BinEnv names a prebuilt binary to use instead.
	BinEnv = "CAIQUAN_TEST_BIN"

	buildTimeout  = 5 * time.Minute
	launchTimeout = 15 * time.Second // process start to its "listening on" line
	stopTimeout   = 10 * time.Second // SIGTERM to exit before SIGKILL
	logTail       = 64 << 10         // how much of the server's log a failure prints
)

var build struct {
	once sync.Once
	dir  string // temporary folder of the built binary; Run removes it
	path string
	err  error
}

// Run runs the package's tests and removes the binary built for them.
// Call it from TestMain; without it the binary stays in the temp folder.
func Run(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	return code
}

// Binary returns the server binary, building it on first use.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		if p := os.Getenv(BinEnv); p != "" {
			build.path, build.err = filepath.Abs(p)
			return
		}
		build.dir, build.err = os.MkdirTemp("", "caiquan-testserver-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "caiquan")
		args := []string{"build", "-o", build.path}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, Package)
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if build.err != nil {
		t.Fatalf("testserver: %v", build.err)
	}
	return build.path
}

// Server is one running caiquan process.
type Server struct {
	// Addr is host:port, URL is "http://" + Addr.
	Addr string
	URL  string

	t      testing.TB
	args   []string
	cmd    *exec.Cmd
	stdout *firstLine
	stderr *SyncBuffer

	exited  chan struct{} // closed once the process has been waited for
	exitErr error         // valid after exited is closed
	stopped sync.Once
}

// Start runs the server on 127.0.0.1:0 with flags, waits until it listens,
// and stops it (SIGTERM, then SIGKILL) when t ends. If t failed, or the
// server reported a data race, the server's log is printed.
func Start(t testing.TB, flags ...string) *Server {
	t.Helper()
	return start(t, "", flags)
}

// StartIn is Start with the process's working directory dir, where the
// server keeps its admin token file by default (no -admin-token-file).
func StartIn(t testing.TB, dir string, flags ...string) *Server {
	t.Helper()
	return start(t, dir, flags)
}

func start(t testing.TB, workDir string, flags []string) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	if workDir == "" {
		flags = append([]string{"-admin-token-file", filepath.Join(dir, "caiquan.admin-token")}, flags...)
	}
	// The admin API and the metrics get ports of their own too, so servers
	// run side by side; each has its own pebble store and admin token file;
	// players name themselves unless flags turn WeChat login on.
	return launch(t, bin, workDir, append([]string{"-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0",
		"-auth-mode", "anonymous", "-store", "pebble", "-store-path", filepath.Join(dir, "caiquan.db")}, flags...))
}

// StartBinary runs bin with exactly args, none added, and waits until it
// listens: a build of another release, whose flags differ from this one's.
// Its first line on standard output must be "listening on 127.0.0.1:PORT".
func StartBinary(t testing.TB, bin string, args ...string) *Server {
	t.Helper()
	return launch(t, bin, "", args)
}

func launch(t testing.TB, bin, workDir string, args []string) *Server {
	t.Helper()
	s := &Server{
		t:      t,
		args:   args,
		stdout: &firstLine{line: make(chan string, 1)},
		stderr: &SyncBuffer{},
		exited: make(chan struct{}),
	}
	s.cmd = exec.Command(bin, s.args...)
	s.cmd.Dir = workDir
	s.cmd.Stdout = s.stdout
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("testserver: start %s: %v", bin, err)
	}
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(s.cleanup)

	select {
	case line := <-s.stdout.line:
		addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
		if !ok || !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
			t.Fatalf("testserver: first stdout line is %q, want \"listening on 127.0.0.1:PORT\"", line)
		}
		s.Addr, s.URL = addr, "http://"+addr
	case <-s.exited:
		t.Fatalf("testserver: server exited before it listened: %v", s.exitErr)
	case <-time.After(launchTimeout):
		t.Fatalf("testserver: no \"listening on\" line within %v", launchTimeout)
	}
	return s
}

// AdminAddr is the admin API's host:port, from the server's "admin on ADDR"
// line; it fails the test if the server prints none.
func (s *Server) AdminAddr() string {
	s.t.Helper()
	for end := time.Now().Add(launchTimeout); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(s.stdout.String(), "\n") {
			if addr, ok := strings.CutPrefix(strings.TrimSpace(line), "admin on "); ok {
				return addr
			}
		}
	}
	s.t.Fatalf("testserver: the server printed no \"admin on\" line")
	return ""
}

// MetricsAddr is the metrics listener's host:port, from the server's
// "metrics on ADDR" line.
func (s *Server) MetricsAddr() string { s.t.Helper(); return s.Line("metrics on ") }

// AdminToken is the admin API's token: the last -admin-token flag given,
// or else the one the server made in its -admin-token-file.
func (s *Server) AdminToken() string {
	s.t.Helper()
	if tok := s.flag("admin-token"); tok != "" {
		return tok
	}
	s.AdminAddr() // the file is written before the listener opens
	b, err := os.ReadFile(s.AdminTokenFile())
	if err != nil {
		s.t.Fatalf("testserver: admin token: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// AdminTokenFile is where the server keeps the admin token it made.
func (s *Server) AdminTokenFile() string {
	if f := s.flag("admin-token-file"); f != "" {
		return f
	}
	return filepath.Join(s.cmd.Dir, "caiquan.admin-token")
}

// flag is the value of the last -name flag the server was given.
func (s *Server) flag(name string) string {
	v := ""
	for i, a := range s.args {
		if (a == "-"+name || a == "--"+name) && i+1 < len(s.args) {
			v = s.args[i+1]
		} else if rest, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), name+"="); ok && strings.HasPrefix(a, "-") {
			v = rest
		}
	}
	return v
}

// WSURL is the WebSocket URL of path on this server, e.g. "/ws?format=json".
func (s *Server) WSURL(path string) string { return "ws://" + s.Addr + path }

// Stderr is the server's log so far.
func (s *Server) Stderr() string { return s.stderr.String() }

// Stdout is what the server printed to standard output so far.
func (s *Server) Stdout() string { return s.stdout.String() }

// Pid is the server process's id (for /proc/PID readings).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Alive reports whether the process still runs.
func (s *Server) Alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Healthy reports an error unless the process runs and /healthz answers 200.
func (s *Server) Healthy() error {
	if !s.Alive() {
		return fmt.Errorf("server exited: %v", s.exitErr)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(s.URL + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /healthz: status %d", resp.StatusCode)
	}
	return nil
}

// Signal sends sig to the server process.
func (s *Server) Signal(sig os.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("testserver: signal %v: %v", sig, err)
	}
}

// Pause stops the process (SIGSTOP) and returns once every one of its
// threads is stopped. The signal alone is asynchronous: a thread running
// on another CPU goes on for a moment, long enough to answer a message
// sent right after.
func (s *Server) Pause() {
	s.t.Helper()
	s.Signal(syscall.SIGSTOP)
	dir := fmt.Sprintf("/proc/%d/task", s.cmd.Process.Pid)
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if allStopped(dir) {
			return
		}
	}
	s.t.Fatalf("testserver: %d threads not all stopped 5 s after SIGSTOP", s.cmd.Process.Pid)
}

// allStopped reports whether every task under dir (/proc/PID/task) is in
// state T (stopped).
func allStopped(dir string) bool {
	tasks, err := os.ReadDir(dir)
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		stat, err := os.ReadFile(filepath.Join(dir, task.Name(), "stat"))
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses
		// and may itself hold spaces or parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+2 >= len(stat) || stat[i+2] != 'T' {
			return false
		}
	}
	return true
}

// WaitExit waits up to timeout for the process to end and returns its exit
// code.
func (s *Server) WaitExit(timeout time.Duration) (int, error) {
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

// Stop ends the process (SIGTERM, then SIGKILL after a while) and waits for
// it; it is safe to call more than once, and cleanup calls it.
func (s *Server) Stop() {
	s.stopped.Do(func() {
		select {
		case <-s.exited:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			s.t.Errorf("testserver: server did not exit within %v of SIGTERM; killed", stopTimeout)
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

// Kill ends the process with SIGKILL, as a crash would (no drain, no
// closing of files), and waits for it.
func (s *Server) Kill() {
	s.stopped.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
	})
}

func (s *Server) cleanup() {
	s.Stop()
	log := s.stderr.String()
	if strings.Contains(log, "WARNING: DATA RACE") {
		s.t.Errorf("testserver: the server reported a data race (its log follows)")
	}
	if s.t.Failed() {
		if len(log) > logTail {
			log = "…" + log[len(log)-logTail:]
		}
		s.t.Logf("server %s %s (exit: %v)\nstdout:\n%s\nstderr:\n%s",
			s.cmd.Path, strings.Join(s.args, " "), exitText(s.exitErr), s.stdout.String(), log)
	}
}

func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.String()
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// SyncBuffer is a bytes.Buffer that exec's copier and the test share.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// firstLine keeps stdout and hands over its first line once.
type firstLine struct {
	SyncBuffer
	once sync.Once
	line chan string
}

func (f *firstLine) Write(p []byte) (int, error) {
	n, err := f.SyncBuffer.Write(p)
	if s := f.SyncBuffer.String(); strings.Contains(s, "\n") {
		f.once.Do(func() { f.line <- s[:strings.Index(s, "\n")] })
	}
	return n, err
}
