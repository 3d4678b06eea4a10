package e2e

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/testserver"
)

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
	os.Exit(testserver.Run(m))
}

// server is one running caiquan process (see internal/testserver), with the
// URLs these tests use.
type server struct {
	*testserver.Server
}

// startServer starts the binary on 127.0.0.1:0 with flags and stops it when
// the test ends (SIGTERM, then SIGKILL); on failure it prints the server's log.
func startServer(t *testing.T, flags ...string) *server {
	t.Helper()
	return &server{testserver.Start(t, flags...)}
}

func (s *server) signal(sig os.Signal)                  { s.Signal(sig) }
func (s *server) waitExit(d time.Duration) (int, error) { return s.WaitExit(d) }
func (s *server) alive() bool                           { return s.Alive() }
func (s *server) httpURL(path string) string            { return s.URL + path }
func (s *server) wsURL(path string) string              { return s.WSURL(path) }

// eio3URL is the exact URL the 2016 mini-program dials, double slash included.
func (s *server) eio3URL() string {
	return s.wsURL("/applet/websocket/socket.io//?EIO=3&transport=websocket")
}

// requireHealthy fails the test unless the process runs and /healthz says
// {"status":"ok"}.
func (s *server) requireHealthy(t *testing.T) {
	t.Helper()
	if err := s.Healthy(); err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(s.httpURL("/healthz"))
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var h struct {
		Status *string `json:"status"`
	}
	if err := json.Unmarshal(body, &h); err != nil || h.Status == nil || *h.Status != "ok" {
		t.Fatalf("GET /healthz: body %q, want JSON with \"status\":\"ok\" (err %v)", body, err)
	}
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
