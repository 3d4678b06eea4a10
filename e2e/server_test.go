package e2e

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/gorilla/websocket"
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
	// front, when set, is the host:port clients dial instead of the
	// server's own: a proxy in front of it.
	front string
	// tls, when set, makes clients speak TLS (https://, wss://) with it.
	tls *tls.Config
}

// startServer starts the binary on 127.0.0.1:0 with flags and stops it when
// the test ends (SIGTERM, then SIGKILL); on failure it prints the server's log.
func startServer(t *testing.T, flags ...string) *server {
	t.Helper()
	return &server{Server: testserver.Start(t, flags...)}
}

func (s *server) signal(sig os.Signal)                  { s.Signal(sig) }
func (s *server) waitExit(d time.Duration) (int, error) { return s.WaitExit(d) }
func (s *server) alive() bool                           { return s.Alive() }

func (s *server) httpURL(path string) string {
	if s.front == "" && s.tls == nil {
		return s.URL + path
	}
	return s.scheme("http") + "://" + s.host() + path
}

func (s *server) wsURL(path string) string {
	if s.front == "" && s.tls == nil {
		return s.WSURL(path)
	}
	return s.scheme("ws") + "://" + s.host() + path
}

func (s *server) scheme(plain string) string {
	if s.tls != nil {
		return plain + "s"
	}
	return plain
}

func (s *server) host() string {
	if s.front != "" {
		return s.front
	}
	return s.Addr
}

// dialer is how every test client opens its socket to s.
func (s *server) dialer() *websocket.Dialer {
	return &websocket.Dialer{HandshakeTimeout: dialTimeout, TLSClientConfig: s.tls}
}

// httpClient is how tests make plain HTTP requests to s.
func (s *server) httpClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: s.tls}}
}

// eio3URL is the exact URL the 2016 mini-program dials, double slash included.
func (s *server) eio3URL() string {
	return s.wsURL("/applet/websocket/socket.io//?EIO=3&transport=websocket")
}

// requireHealthy fails the test unless the process runs and /healthz says
// {"status":"ok"}.
func (s *server) requireHealthy(t *testing.T) {
	t.Helper()
	if s.tls == nil {
		if err := s.Healthy(); err != nil {
			t.Fatal(err)
		}
	} else if !s.Alive() {
		t.Fatal("server exited")
	}
	resp, err := s.httpClient().Get(s.httpURL("/healthz"))
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
