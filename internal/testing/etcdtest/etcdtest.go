// Package etcdtest runs a real, single-member etcd for tests: on free
// loopback ports, with its data in the test's temporary directory, stopped
// when the test ends. It needs the etcd binary (Debian's etcd-server; `make
// test-deps` installs it) and fails the test, never skips it, without one.
package etcdtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/testserver"
)

const (
	readyTimeout = 20 * time.Second
	stopTimeout  = 5 * time.Second
)

// Etcd is one running etcd process.
type Etcd struct {
	// Endpoint is the client address, "127.0.0.1:PORT".
	Endpoint string
	// Dir holds its data.
	Dir string

	// TLS is what a client needs to reach an etcd started by StartTLS:
	// the CA and a client certificate; nil for plain etcd.
	TLS *tls.Config

	cmd    *exec.Cmd
	log    *testserver.SyncBuffer
	exited chan struct{}
}

// TLSFiles are the PEM files of an etcd that speaks TLS to its clients.
type TLSFiles struct {
	// Cert and Key are etcd's server certificate, good for 127.0.0.1.
	Cert, Key string
	// CA signs etcd's certificate and the client certificates it accepts.
	CA string
	// ClientCert and ClientKey are what the harness itself presents.
	ClientCert, ClientKey string
}

// Start runs etcd on two free loopback ports and waits until it answers.
func Start(t testing.TB) *Etcd {
	t.Helper()
	return start(t, nil)
}

// StartTLS runs etcd whose client port speaks only TLS and requires a
// client certificate signed by f.CA (--client-cert-auth).
func StartTLS(t testing.TB, f TLSFiles) *Etcd {
	t.Helper()
	return start(t, &f)
}

func start(t testing.TB, f *TLSFiles) *Etcd {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		t.Fatalf("etcdtest: etcd is not on PATH; install Debian's etcd-server (make test-deps does): %v", err)
	}
	client, peer := FreePort(t), FreePort(t)
	e := &Etcd{
		Endpoint: fmt.Sprintf("127.0.0.1:%d", client),
		Dir:      filepath.Join(t.TempDir(), "etcd"),
		log:      &testserver.SyncBuffer{},
		exited:   make(chan struct{}),
	}
	clientURL := "http://" + e.Endpoint
	var tlsArgs []string
	if f != nil {
		clientURL = "https://" + e.Endpoint
		tlsArgs = []string{"--cert-file", f.Cert, "--key-file", f.Key, "--client-cert-auth", "--trusted-ca-file", f.CA}
		tc, err := clientTLS(*f)
		if err != nil {
			t.Fatalf("etcdtest: %v", err)
		}
		e.TLS = tc
	}
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	args := []string{
		"--name", "test",
		"--data-dir", e.Dir,
		"--listen-client-urls", clientURL,
		"--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "test=" + peerURL,
		"--initial-cluster-state", "new",
	}
	e.cmd = exec.Command(bin, append(args, tlsArgs...)...)
	e.cmd.Stdout, e.cmd.Stderr = e.log, e.log
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("etcdtest: start %s: %v", bin, err)
	}
	go func() {
		e.cmd.Wait()
		close(e.exited)
	}()
	t.Cleanup(func() {
		e.Stop()
		if t.Failed() {
			t.Logf("etcd log:\n%s", e.log.String())
		}
	})
	if err := e.waitHealthy(); err != nil {
		t.Fatalf("etcdtest: %v\n%s", err, e.log.String())
	}
	return e
}

// waitHealthy polls etcd's /health until it reports true.
func (e *Etcd) waitHealthy() error {
	client := &http.Client{Timeout: time.Second}
	url := "http://" + e.Endpoint + "/health"
	if e.TLS != nil {
		client.Transport = &http.Transport{TLSClientConfig: e.TLS}
		url = "https://" + e.Endpoint + "/health"
	}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-e.exited:
			return fmt.Errorf("etcd exited before it was ready")
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			var body bytes.Buffer
			body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body.Bytes(), []byte(`"true"`)) {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("etcd at %s not healthy within %v", e.Endpoint, readyTimeout)
}

func clientTLS(f TLSFiles) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(f.ClientCert, f.ClientKey)
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s holds no PEM certificate", f.CA)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool}, nil
}

// Stop ends etcd (SIGTERM, then SIGKILL) and waits for it.
func (e *Etcd) Stop() {
	select {
	case <-e.exited:
		return
	default:
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(stopTimeout):
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
}

// Pause stops etcd (SIGSTOP) until Resume: its clients' calls time out
// meanwhile, as they would with etcd stuck on a slow disk.
func (e *Etcd) Pause() error { return e.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused etcd (SIGCONT).
func (e *Etcd) Resume() error { return e.cmd.Process.Signal(syscall.SIGCONT) }

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("etcdtest: free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
