package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// dialRaw upgrades path with the given headers; on a refusal it returns
// the HTTP status and the JSON body's code instead of a connection.
func dialRaw(t *testing.T, s *server, path string, h http.Header) (ws *websocket.Conn, status int, code string) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: dialTimeout}
	ws, resp, err := d.Dial(s.wsURL(path), h)
	if err == nil {
		t.Cleanup(func() { ws.Close() })
		return ws, http.StatusSwitchingProtocols, ""
	}
	if resp == nil {
		t.Fatalf("dial %s: %v (no HTTP answer)", path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	var refusal struct{ Code, Message string }
	if err := json.Unmarshal(body, &refusal); err != nil || refusal.Message == "" {
		t.Errorf("dial %s: status %d with body %q, want a JSON {code, message}", path, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("dial %s: refusal has Content-Type %q, want application/json", path, ct)
	}
	return nil, resp.StatusCode, refusal.Code
}

// labelled reads one sample of a labelled series from s's /metrics; it
// fails the test if the series is absent.
func labelled(t *testing.T, s *server, series string) float64 {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + s.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	t.Fatalf("/metrics has no %s", series)
	return 0
}

// waitEOF waits up to d for the server to close c (a read that fails);
// it returns how long that took, and what was read before.
func waitEOF(t *testing.T, c net.Conn, d time.Duration) (time.Duration, string) {
	t.Helper()
	began := time.Now()
	c.SetReadDeadline(began.Add(d))
	var got strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server kept the connection open for %v (read so far: %q)", d, got.String())
			}
			return time.Since(began), got.String()
		}
	}
}

// TestMaxConnections: with -max-connections 5, five players connect; the
// sixth socket is refused with 503 server_full before the upgrade and
// counted; an attacker's flood of idle TCP connections gets no more than
// 64 sockets beyond the limit (the rest are closed at once); the players
// already in keep playing; once one leaves, a new player gets in.
func TestMaxConnections(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-max-connections", "5")
	if v := labelled(t, s, `caiquan_connections_refused_total{reason="max_connections"}`); v != 0 {
		t.Fatalf("refusals before any client: %v", v)
	}
	labelled(t, s, `caiquan_connections_refused_total{reason="max_connections_per_ip"}`) // present at zero

	var players []*player
	for i := range 5 {
		p := oursPlayer(t, s, fmt.Sprintf("Full%d", i), i%2 == 0)
		p.hi(t)
		players = append(players, p)
	}
	for _, path := range []string{"/ws", "/applet/websocket/socket.io/?EIO=4&transport=websocket"} {
		if _, status, code := dialRaw(t, s, path, nil); status != http.StatusServiceUnavailable || code != "server_full" {
			t.Errorf("%s with 5 of 5 connections open: status %d code %q, want 503 server_full", path, status, code)
		}
	}
	if v := labelled(t, s, `caiquan_connections_refused_total{reason="max_connections"}`); v < 2 {
		t.Errorf("caiquan_connections_refused_total{reason=max_connections} = %v after two refusals", v)
	}

	// The flood: idle TCP connections that send nothing.
	const flood = 100
	conns := make([]net.Conn, flood)
	for i := range conns {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	// Each read ends with EOF (closed at accept) or at the deadline (kept to be answered).
	closedAtOnce := make(chan bool, flood)
	for _, c := range conns {
		go func() {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, err := c.Read(make([]byte, 1))
			ne, ok := err.(net.Error)
			closedAtOnce <- err != nil && !(ok && ne.Timeout())
		}()
	}
	dropped := 0
	for range conns {
		if <-closedAtOnce {
			dropped++
		}
	}
	if dropped < flood-64 || dropped == flood {
		t.Errorf("%d of %d idle connections beyond the limit were closed at once, want all but at most 64 (and not all)", dropped, flood)
	}
	for _, c := range conns {
		c.Close()
	}

	requireJoinAccepted(t, players[0].wire, players[0].send)
	players[4].wire.close()
	deadline := time.Now().Add(eventTimeout)
	for {
		ws, status, _ := dialRaw(t, s, "/ws", nil)
		if ws != nil {
			break
		}
		if status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after a player left: status %d, want a free slot within %v", status, eventTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.requireHealthy(t)
}

// TestMaxConnectionsPerIP: -max-connections-per-ip 2 refuses a client
// address's third socket with 503 too_many_connections. Behind a trusted
// proxy the address is X-Forwarded-For's right-most untrusted entry, so
// players behind one proxy are counted apart, and entries a client put
// left of it change nothing; from an untrusted peer the header is ignored.
func TestMaxConnectionsPerIP(t *testing.T) {
	t.Parallel()
	xff := func(v string) http.Header { return http.Header{"X-Forwarded-For": {v}} }
	t.Run("direct", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "-max-connections-per-ip", "2")
		for _, h := range []string{"203.0.113.1", "203.0.113.2"} { // spoofed: ignored, both are 127.0.0.1
			if ws, status, _ := dialRaw(t, s, "/ws", xff(h)); ws == nil {
				t.Fatalf("connection from %s: status %d", h, status)
			}
		}
		if _, status, code := dialRaw(t, s, "/ws", xff("203.0.113.3")); status != http.StatusServiceUnavailable || code != "too_many_connections" {
			t.Errorf("third socket from 127.0.0.1 claiming another address: status %d code %q, want 503 too_many_connections", status, code)
		}
		if _, status, code := dialRaw(t, s, "/applet/websocket/socket.io//?EIO=3&transport=websocket", nil); status != http.StatusServiceUnavailable || code != "too_many_connections" {
			t.Errorf("third socket (Socket.IO): status %d code %q, want 503 too_many_connections", status, code)
		}
		if v := labelled(t, s, `caiquan_connections_refused_total{reason="max_connections_per_ip"}`); v != 2 {
			t.Errorf("caiquan_connections_refused_total{reason=max_connections_per_ip} = %v, want 2", v)
		}
	})
	t.Run("behind a trusted proxy", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "-max-connections-per-ip", "2", "-trusted-proxies", "127.0.0.0/8,10.0.0.0/8")
		var alice []*websocket.Conn
		for _, h := range []string{"203.0.113.1", "198.51.100.9, 203.0.113.1, 10.1.2.3"} {
			ws, status, _ := dialRaw(t, s, "/ws", xff(h))
			if ws == nil {
				t.Fatalf("X-Forwarded-For %q: status %d", h, status)
			}
			alice = append(alice, ws)
		}
		for _, h := range []string{"203.0.113.1", "192.0.2.1, 203.0.113.1"} {
			if _, status, code := dialRaw(t, s, "/ws", xff(h)); status != http.StatusServiceUnavailable || code != "too_many_connections" {
				t.Errorf("X-Forwarded-For %q, a third socket of 203.0.113.1: status %d code %q, want 503 too_many_connections", h, status, code)
			}
		}
		if ws, status, _ := dialRaw(t, s, "/ws", xff("203.0.113.2")); ws == nil {
			t.Errorf("another player behind the proxy: status %d, want a connection", status)
		}
		// One of alice's sockets closes: her slot comes back.
		alice[0].Close()
		deadline := time.Now().Add(eventTimeout)
		for {
			ws, status, _ := dialRaw(t, s, "/ws", xff("203.0.113.1"))
			if ws != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("203.0.113.1 after closing a socket: status %d", status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// pprofAddr is the pprof listener's address, from the server's log.
func pprofAddr(t *testing.T, s *server) string {
	t.Helper()
	re := regexp.MustCompile(`msg=pprof addr=(\S+)`)
	for end := time.Now().Add(eventTimeout); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(s.Stderr()); m != nil {
			return m[1]
		}
	}
	t.Fatal("the server logged no pprof address")
	return ""
}

// TestHTTPTimeouts: on every listener (game, admin, pprof) a keep-alive
// connection left idle is closed after -http-idle-timeout, a client that
// sends half its headers is cut off after -http-read-header-timeout, and
// headers over -http-max-header-bytes are refused with 431.
func TestHTTPTimeouts(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-http-idle-timeout", "1s", "-http-read-header-timeout", "1s",
		"-http-max-header-bytes", "4096", "-pprof-listen", "127.0.0.1:0")
	listeners := map[string]string{"game": s.Addr, "admin": s.AdminAddr(), "metrics": s.MetricsAddr(), "pprof": pprofAddr(t, s)}
	for name, addr := range listeners {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := map[string]string{"pprof": "/debug/pprof/", "metrics": "/metrics"}[name]
			if path == "" {
				path = "/healthz"
			}
			idle, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer idle.Close()
			fmt.Fprintf(idle, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr)
			resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.Close {
				t.Fatalf("GET %s: the server does not keep the connection alive", path)
			}
			if took, _ := waitEOF(t, idle, 10*time.Second); took < 500*time.Millisecond {
				t.Errorf("an idle keep-alive connection was closed after %v, want about 1s", took)
			}

			slow, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer slow.Close()
			fmt.Fprintf(slow, "GET %s HTTP/1.1\r\nHost: %s\r\n", path, addr) // and never the blank line
			if took, _ := waitEOF(t, slow, 10*time.Second); took < 500*time.Millisecond {
				t.Errorf("half-sent headers were cut off after %v, want about 1s", took)
			}

			big, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer big.Close()
			fmt.Fprintf(big, "GET %s HTTP/1.1\r\nHost: %s\r\nX-Pad: %s\r\n\r\n", path, addr, strings.Repeat("a", 16<<10))
			resp, err = http.ReadResponse(bufio.NewReader(big), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("16 KiB of headers: status %d, want 431", resp.StatusCode)
			}
		})
	}
}

// TestMaxConnectionsDefault: without max_connections the server takes the
// open-file limit less 256 (Go raises the soft limit to the hard one at
// start, in the server as in this test).
func TestMaxConnectionsDefault(t *testing.T) {
	t.Parallel()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Skip(err)
	}
	s := startServer(t)
	want := fmt.Sprintf("max_connections=%d", rl.Cur-256)
	for end := time.Now().Add(eventTimeout); !strings.Contains(s.Stderr(), want); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the server did not log %s (open-file limit %d):\n%s", want, rl.Cur, s.Stderr())
		}
	}
}
