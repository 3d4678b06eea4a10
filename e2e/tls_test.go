package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/internal/testing/tlstest"
)

// peerSerial opens a TLS connection to addr and returns the serial number
// of the certificate the server showed.
func peerSerial(addr string, cfg *tls.Config) (int64, error) {
	d := &net.Dialer{Timeout: dialTimeout}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

// playTwoWires plays one round in which the 2016 client (Engine.IO 3) and
// a /ws client meet each other, through whatever s's URLs lead to.
func playTwoWires(t *testing.T, s *server) {
	t.Helper()
	demo := demoPlayer(t, s, "DemoTLS")
	ours := oursPlayer(t, s, "OursTLS", true)
	demo.hi(t)
	ours.hi(t)
	ps := []*player{demo, ours}
	starts := seat(t, ps, 0)
	demo.must(t, demo.choose(2))
	ours.must(t, ours.choose(1))
	settleRound(t, ps, starts)
	for _, p := range ps {
		if probs := p.problemList(); len(probs) > 0 {
			t.Fatalf("%s: %v", p.label, probs)
		}
	}
}

// runNodeRound plays a round with npm socket.io-client v4 against base
// (http:// or https://), trusting caFile.
func runNodeRound(t *testing.T, base, caFile string) {
	t.Helper()
	dir := nodeDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node := exec.CommandContext(ctx, "node", "sio4_round.mjs", base)
	node.Dir = dir
	node.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+caFile)
	out, err := node.CombinedOutput()
	if err != nil {
		t.Fatalf("node sio4_round.mjs %s: %v\n%s", base, err, out)
	}
}

// TestWSSOwnTLS: with tls_cert_file and tls_key_file the binary serves
// wss:// itself. The 2016 client's wire and a /ws client play a round,
// npm socket.io-client plays one, /healthz and `caiquan healthcheck -tls`
// answer over HTTPS. Plain ws:// and TLS 1.1 are refused on that port.
func TestWSSOwnTLS(t *testing.T) {
	t.Parallel()
	ca := tlstest.NewCA(t)
	certFile, keyFile := ca.Issue(t, t.TempDir(), 100)
	s := startServer(t, "-tls-cert-file", certFile, "-tls-key-file", keyFile, "-ping-interval", "1s", "-idle-timeout", "3s")
	plain := &server{Server: s.Server}
	s.tls = ca.ClientConfig()

	if _, err := tryDialOurs(t, plain, true, dialOpts{}); err == nil {
		t.Fatal("a plain ws:// client connected to the TLS listener")
	}
	old := ca.ClientConfig()
	old.MaxVersion = tls.VersionTLS11
	if _, err := peerSerial(s.Addr, old); err == nil {
		t.Fatal("a TLS 1.1 client got a connection")
	}
	h2 := ca.ClientConfig()
	h2.NextProtos = []string{"h2"}
	if c, err := tls.Dial("tcp", s.Addr, h2); err == nil {
		proto := c.ConnectionState().NegotiatedProtocol
		c.Close()
		if proto == "h2" {
			t.Fatal("the listener agreed to HTTP/2, where WebSocket upgrades cannot run")
		}
	}

	playTwoWires(t, s)
	runNodeRound(t, s.httpURL(""), ca.File)
	s.requireHealthy(t)

	bin := testserver.Binary(t)
	if out, err := exec.Command(bin, "healthcheck", "-addr", s.Addr, "-tls").CombinedOutput(); err != nil {
		t.Fatalf("caiquan healthcheck -tls: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "healthcheck", "-addr", s.Addr).CombinedOutput(); err == nil {
		t.Fatalf("caiquan healthcheck without -tls passed against a TLS listener:\n%s", out)
	}
}

// TestTLSReloadOnSIGHUP: after the certificate files are replaced and the
// server gets SIGHUP, new connections see the new certificate while a
// socket opened before keeps playing; a broken pair on a later SIGHUP is
// refused, logged, and the last good certificate stays.
func TestTLSReloadOnSIGHUP(t *testing.T) {
	t.Parallel()
	ca := tlstest.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.Issue(t, dir, 201)
	s := startServer(t, "-tls-cert-file", certFile, "-tls-key-file", keyFile)
	s.tls = ca.ClientConfig()
	if n, err := peerSerial(s.Addr, s.tls); err != nil || n != 201 {
		t.Fatalf("first certificate: serial %d, %v", n, err)
	}
	early := oursPlayer(t, s, "Early", true)
	early.hi(t)

	ca.Issue(t, dir, 202)
	s.signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "new connections to see the new certificate", func() bool {
		n, err := peerSerial(s.Addr, s.tls)
		return err == nil && n == 202
	})

	// The broken pair: a key that is not the certificate's.
	other, _ := ca.Issue(t, t.TempDir(), 203)
	raw, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s.signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the server to log the refused certificate", func() bool {
		return strings.Contains(s.Stderr(), "certificate not reloaded")
	})
	if n, err := peerSerial(s.Addr, s.tls); err != nil || n != 202 {
		t.Fatalf("after a broken pair: serial %d, %v; want the last good one (202)", n, err)
	}

	// The socket from before both reloads plays a round against a bot.
	if info := early.closedInfo(); info != nil {
		t.Fatalf("the early socket closed on reload: %+v", *info)
	}
	early.must(t, early.join())
	st, err := early.awaitStart(startTimeout)
	if err != nil {
		t.Fatal(err)
	}
	early.must(t, early.choose(3))
	if _, err := early.awaitResult(resultWait, st.env.GetStart().GetRoundId()); err != nil {
		t.Fatal(err)
	}
	late := oursPlayer(t, s, "Late", false)
	late.hi(t)
	if !s.alive() {
		t.Fatal("the server exited")
	}
}

// nginx runs Debian's nginx on loopback with deploy/nginx/caiquan.conf,
// pointed at upstream (host:port) and at the certificate pair. It returns
// nginx's host:port and stops nginx when the test ends.
func startNginx(t *testing.T, upstream, certFile, keyFile string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			t.Fatal("nginx is not installed; make test-deps installs Debian's nginx-light")
		}
		bin = "/usr/sbin/nginx"
	}
	shipped, err := os.ReadFile("../deploy/nginx/caiquan.conf")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	addr := "127.0.0.1:" + port
	site := string(shipped)
	// Each edit must find its line exactly once: a change to the shipped
	// file that this test no longer understands fails here.
	for _, e := range []struct{ re, to string }{
		{`(?m)^\s*listen 443 ssl;$`, "    listen " + addr + " ssl;"},
		{`(?m)^\s*listen \[::\]:443 ssl;\n`, ""},
		{`(?m)^\s*server 127\.0\.0\.1:8080;$`, "    server " + upstream + ";"},
		{`(?m)^\s*ssl_certificate\s+\S+;$`, "    ssl_certificate " + certFile + ";"},
		{`(?m)^\s*ssl_certificate_key\s+\S+;$`, "    ssl_certificate_key " + keyFile + ";"},
	} {
		re := regexp.MustCompile(e.re)
		if n := len(re.FindAllStringIndex(site, -1)); n != 1 {
			t.Fatalf("deploy/nginx/caiquan.conf: %d lines match %s, want 1", n, e.re)
		}
		site = re.ReplaceAllLiteralString(site, e.to)
	}
	dir := t.TempDir()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers must reach the test's private temp dir
	}
	main := fmt.Sprintf(`daemon off;
%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 256; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/caiquan.conf;
}
`, user, dir)
	if err := os.WriteFile(filepath.Join(dir, "caiquan.conf"), []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log")}
	if out, err := exec.Command(bin, append([]string{"-t"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT) // graceful: workers finish, then the master exits
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s", log)
		}
	})
	waitFor(t, 10*time.Second, "nginx to listen on "+addr, func() bool {
		select {
		case <-exited:
			t.Fatalf("nginx exited: %s", out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return addr
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// runSDKRound runs the SDK's round tests (wx stand-in and WebSocket class)
// through nginx in front of a server with the rounds they expect (1 s, a bot
// after 300 ms).
func runSDKRound(t *testing.T, ca *tlstest.CA, certFile, keyFile string) {
	t.Helper()
	testserver.NPMCI(t, "../sdk/test")
	backend := startServer(t, "-bot-fill", "300ms", "-round-time", "1s")
	front := startNginx(t, backend.Addr, certFile, keyFile)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "round.test.js")
	cmd.Dir = "../sdk/test"
	cmd.Env = append(os.Environ(), "CAIQUAN_BOT_URL=https://"+front, "NODE_EXTRA_CA_CERTS="+ca.File, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the SDK's round.test.js through nginx: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^ℹ pass [1-9]`).Match(out) {
		t.Fatalf("node --test passed no test:\n%s", out)
	}
}

// TestWSSThroughNginx: the nginx route. Debian's nginx with the shipped
// deploy/nginx/caiquan.conf ends TLS in front of a plain server; the 2016
// client's wire (double slash and all), a /ws client, npm socket.io-client
// and the SDK play through it, with pings and an idle wait that the
// proxy's timeouts must let through. A forged X-Forwarded-For from the
// client does not reach the server.
func TestWSSThroughNginx(t *testing.T) {
	t.Parallel()
	ca := tlstest.NewCA(t)
	certFile, keyFile := ca.Issue(t, t.TempDir(), 300)
	backend := startServer(t, "-ping-interval", "1s", "-idle-timeout", "3s")
	front := startNginx(t, backend.Addr, certFile, keyFile)
	s := &server{Server: backend.Server, front: front, tls: ca.ClientConfig()}

	playTwoWires(t, s)
	runNodeRound(t, s.httpURL(""), ca.File)
	s.requireHealthy(t)
	runSDKRound(t, ca, certFile, keyFile)

	// What headers the server gets: the same config in front of a recorder.
	got := make(chan http.Header, 1)
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Clone():
		default:
		}
	}))
	defer rec.Close()
	recFront := startNginx(t, strings.TrimPrefix(rec.URL, "http://"), certFile, keyFile)
	req, _ := http.NewRequest(http.MethodGet, "https://"+recFront+"/healthz", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err := s.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case h := <-got:
		if xff := h.Values("X-Forwarded-For"); len(xff) != 1 || xff[0] != "127.0.0.1" {
			t.Errorf("X-Forwarded-For behind nginx = %q, want just the client's address 127.0.0.1", xff)
		}
		if p := h.Get("X-Forwarded-Proto"); p != "https" {
			t.Errorf("X-Forwarded-Proto = %q, want https", p)
		}
	case <-time.After(eventTimeout):
		t.Fatal("the request never reached the recorder")
	}
}

// TestSIGHUPWithoutTLS: SIGHUP's default action would end the process; a
// server without a certificate logs that it has nothing to reload and
// keeps its players.
func TestSIGHUPWithoutTLS(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := oursPlayer(t, s, "Hup", true)
	p.hi(t)
	s.signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the server to log the SIGHUP", func() bool {
		return strings.Contains(s.Stderr(), "no tls_cert_file to reload")
	})
	if info := p.closedInfo(); info != nil || !s.alive() {
		t.Fatalf("after SIGHUP: alive %v, socket %+v", s.alive(), info)
	}
	s.requireHealthy(t)
	p.must(t, p.join())
	if _, err := p.awaitStart(startTimeout); err != nil {
		t.Fatal(err)
	}
}

// TestTLSSilentClientIsClosed: a client that opens a TCP connection to the
// TLS listener and never says hello is closed within the handshake's time
// (the HTTP server's ReadHeaderTimeout, 10 s), so silent sockets cannot
// pile up.
func TestTLSSilentClientIsClosed(t *testing.T) {
	t.Parallel()
	ca := tlstest.NewCA(t)
	certFile, keyFile := ca.Issue(t, t.TempDir(), 400)
	s := startServer(t, "-tls-cert-file", certFile, "-tls-key-file", keyFile)
	c, err := net.DialTimeout("tcp", s.Addr, dialTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(start.Add(20 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("a silent client was still open after %v", time.Since(start))
	}
	if n != 0 || err == nil {
		t.Fatalf("read %d bytes, %v; want the server to close the socket", n, err)
	}
	took := time.Since(start)
	t.Logf("closed after %v: %v", took, err)
	if took < 8*time.Second {
		t.Errorf("closed after %v, before the handshake's 10 s", took)
	}
}
