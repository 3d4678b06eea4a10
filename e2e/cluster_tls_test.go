//go:build !race

package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/admin"
	"github.com/caiquan/caiquan/internal/devcert"
	"github.com/caiquan/caiquan/internal/testing/etcdtest"
	"github.com/caiquan/caiquan/internal/testing/pgtest"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/messages"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// tlsCerts are the certificates of the TLS tests: the cluster's CA and
// member certificate (also etcd's, for 127.0.0.1), and what outsiders hold.
type tlsCerts struct {
	member devcert.Files
	// foreign is a certificate for the right cluster name from another CA.
	foreign devcert.Files
	// wrongName is from the cluster's own CA but for another cluster.
	wrongName devcert.Files
}

func makeCerts(t *testing.T) tlsCerts {
	t.Helper()
	dir := t.TempDir()
	var c tlsCerts
	var err error
	if c.member, err = devcert.Make(devcert.Options{Dir: filepath.Join(dir, "cluster"), Name: "caiquan", Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if c.wrongName, err = devcert.Make(devcert.Options{Dir: filepath.Join(dir, "cluster"), Name: "other", Prefix: "other", Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if c.foreign, err = devcert.Make(devcert.Options{Dir: filepath.Join(dir, "foreign"), Name: "caiquan", Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c tlsCerts) flags() []string {
	m := c.member
	return []string{
		"-cluster-tls-cert-file", m.Cert, "-cluster-tls-key-file", m.Key, "-cluster-tls-ca-file", m.CA,
		"-cluster-etcd-tls-cert-file", m.Cert, "-cluster-etcd-tls-key-file", m.Key, "-cluster-etcd-tls-ca-file", m.CA,
	}
}

// startTLSCluster starts n nodes that talk mutual TLS to each other and
// to an etcd that requires client certificates.
func startTLSCluster(t *testing.T, certs tlsCerts, n int) *gameCluster {
	t.Helper()
	m := certs.member
	e := etcdtest.StartTLS(t, etcdtest.TLSFiles{Cert: m.Cert, Key: m.Key, CA: m.CA, ClientCert: m.Cert, ClientKey: m.Key})
	c := &gameCluster{t: t, etcd: e, pg: pgtest.Start(t), flags: append(certs.flags(), clusterFlags...)}
	for i := 0; i < n; i++ {
		c.addNode()
	}
	return c
}

// outsider is a program with protoactor's remote of its own, dialling
// the cluster port as dial says and serving replies as serve says (nil:
// plain gRPC).
func outsider(t *testing.T, dial, serve *tls.Config) *actor.ActorSystem {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	system := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet })))
	var opts []remote.ConfigOption
	if dial != nil {
		opts = append(opts, remote.WithDialOptions(grpc.WithTransportCredentials(credentials.NewTLS(dial))))
	}
	if serve != nil {
		opts = append(opts, remote.WithServerOptions(grpc.Creds(credentials.NewTLS(serve))))
	}
	r := remote.NewRemote(system, remote.Configure("127.0.0.1", 0, opts...))
	r.Start()
	t.Cleanup(func() { r.Shutdown(false); system.Shutdown() })
	return system
}

func loadPair(t *testing.T, f devcert.Files) ([]tls.Certificate, *x509.CertPool) {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(f.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return []tls.Certificate{pair}, pool
}

// lobbyOn is the lobby actor on the node at addr, listed through node s's
// admin API (and so over the members' TLS when addr is another node).
func lobbyOn(t *testing.T, s *server, addr string) actors.ActorInfo {
	t.Helper()
	list, err := (&admin.Client{Addr: s.AdminAddr(), Token: s.AdminToken()}).Actors(actors.KindLobby)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.Node == addr {
			return a
		}
	}
	t.Fatalf("no lobby on %s in %+v", addr, list)
	return actors.ActorInfo{}
}

// TestClusterTLSRefusesOutsiders: on a cluster whose nodes talk mutual TLS
// (and TLS to etcd), programs that are not members try to list and kill
// actors through a node's node/admin actor over the cluster port: one
// without TLS, one with TLS and no certificate, one with a certificate for
// the cluster's name from another CA, one with a certificate from the
// cluster's CA for another cluster name. None gets an answer, no lobby is
// killed, and members still play rounds across nodes. A program holding a
// member's certificate, sending the same messages the same way, is
// answered: the outsiders fail because of TLS, not because of the test.
// An answer travels on a connection the node dials back, which an
// outsider cannot serve, so the kill's effect is checked on the lobby
// itself (with client certificates made optional on the node, the
// certificate-less outsider's kill restarts the lobby and this test fails).
func TestClusterTLSRefusesOutsiders(t *testing.T) {
	certs := makeCerts(t)
	c := startTLSCluster(t, certs, 2)
	// A PID caches the process that delivers to it, which belongs to
	// one actor system's remote: each program gets its own.
	target := func() *actor.PID { return actor.NewPID(clusterAddr(c.nodes[0]), "node/admin") }
	lobby := lobbyOn(t, c.nodes[1], clusterAddr(c.nodes[0]))
	// A connection that never starts its handshake is closed by the node
	// (10 s), not held for grpc's default 120 s; checked at the end.
	idle, err := net.Dial("tcp", clusterAddr(c.nodes[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idleSince := time.Now()

	memberPair, pool := loadPair(t, certs.member)
	foreignPair, _ := loadPair(t, certs.foreign)
	wrongPair, _ := loadPair(t, certs.wrongName)
	// Outsiders do not check the node's certificate: only the node's own
	// checks stand between them and the actors.
	skip := func(pair []tls.Certificate) *tls.Config {
		return &tls.Config{InsecureSkipVerify: true, Certificates: pair}
	}
	member := &tls.Config{Certificates: memberPair, RootCAs: pool, ServerName: "caiquan"}
	memberServe := &tls.Config{Certificates: memberPair, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}

	const wait = 3 * time.Second
	outsiders := map[string]*actor.ActorSystem{
		"plain gRPC":           outsider(t, nil, nil),
		"TLS, no certificate":  outsider(t, skip(nil), nil),
		"another CA":           outsider(t, skip(foreignPair), &tls.Config{Certificates: foreignPair}),
		"another cluster name": outsider(t, skip(wrongPair), &tls.Config{Certificates: wrongPair}),
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for name, sys := range outsiders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := target()
			kill := sys.Root.RequestFuture(to, &messages.AdminKill{Pid: lobby.PID, Mode: actors.KillPanic}, wait)
			list := sys.Root.RequestFuture(to, &messages.AdminList{}, wait)
			for what, f := range map[string]*actor.Future{"AdminKill": kill, "AdminList": list} {
				if res, err := f.Result(); err == nil {
					mu.Lock()
					t.Errorf("%s: %s was answered: %v", name, what, res)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()

	// The control: a member's certificate, the same request.
	ins := outsider(t, member, memberServe)
	res, err := ins.Root.RequestFuture(target(), &messages.AdminList{Kinds: []string{actors.KindLobby}}, wait).Result()
	if err != nil {
		t.Fatalf("a member's certificate got no answer either (%v): the outsiders' failure proves nothing", err)
	}
	if got, ok := res.(*messages.AdminActors); !ok || len(got.Actors) == 0 {
		t.Fatalf("member's AdminList answered %v", res)
	}

	after := lobbyOn(t, c.nodes[1], clusterAddr(c.nodes[0]))
	if after.PID != lobby.PID || !after.Started.Equal(lobby.Started) || after.Restarts != lobby.Restarts {
		t.Errorf("lobby before the outsiders %+v, after %+v: it was killed or restarted", lobby, after)
	}
	playAcross(t, c)

	idle.SetReadDeadline(idleSince.Add(25 * time.Second))
	if n, err := idle.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a connection that sent nothing is still open after %v (read %d, %v)", time.Since(idleSince).Round(time.Second), n, err)
	} else {
		t.Logf("idle connection closed by the node after %v: %v", time.Since(idleSince).Round(100*time.Millisecond), err)
	}
}

// TestClusterTLSRequiredBeyondLoopback: a node whose cluster port would
// listen on every interface without TLS refuses to start and names the
// settings; one with a certificate that does not name the cluster refuses
// too, instead of failing every call later.
func TestClusterTLSRequiredBeyondLoopback(t *testing.T) {
	certs := makeCerts(t)
	e := etcdtest.Start(t)
	base := []string{"-listen", "127.0.0.1:0", "-admin-listen", "", "-metrics-listen", "", "-auth-mode", "anonymous", "-store", "memory",
		"-cluster-provider", "etcd", "-cluster-etcd-endpoints", e.Endpoint}
	w := certs.wrongName
	for _, tc := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"every interface, no TLS", []string{"-cluster-bind", "0.0.0.0:0"},
			"cluster_bind \"0.0.0.0:0\" listens beyond loopback, so mutual TLS is required: set cluster_tls_cert_file, cluster_tls_key_file and cluster_tls_ca_file"},
		{"certificate for another cluster", []string{"-cluster-bind", "127.0.0.1:0",
			"-cluster-tls-cert-file", w.Cert, "-cluster-tls-key-file", w.Key, "-cluster-tls-ca-file", w.CA},
			`cluster_tls_cert_file does not name cluster "caiquan"`},
		{"missing key file", []string{"-cluster-bind", "127.0.0.1:0",
			"-cluster-tls-cert-file", w.Cert, "-cluster-tls-key-file", w.Key + ".gone", "-cluster-tls-ca-file", w.CA},
			"cluster_tls certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(testserver.Binary(t), append(base, tc.flags...)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("node started (%v), want a refusal\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, stderr.String())
			}
		})
	}
}

// TestClusterEtcdTLSRefusesWrongClients: an etcd that requires client
// certificates turns away a node that presents none, and a node that
// trusts another CA turns etcd away; each exits naming the endpoint.
func TestClusterEtcdTLSRefusesWrongClients(t *testing.T) {
	certs := makeCerts(t)
	m, f := certs.member, certs.foreign
	e := etcdtest.StartTLS(t, etcdtest.TLSFiles{Cert: m.Cert, Key: m.Key, CA: m.CA, ClientCert: m.Cert, ClientKey: m.Key})
	base := []string{"-listen", "127.0.0.1:0", "-admin-listen", "", "-metrics-listen", "", "-auth-mode", "anonymous", "-store", "memory",
		"-cluster-provider", "etcd", "-cluster-etcd-endpoints", e.Endpoint}
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"no client certificate", []string{"-cluster-etcd-tls-ca-file", m.CA}},
		{"plain", nil},
		{"trusts another CA", []string{"-cluster-etcd-tls-ca-file", f.CA, "-cluster-etcd-tls-cert-file", m.Cert, "-cluster-etcd-tls-key-file", m.Key}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each waits out the node's 10 s etcd deadline
			cmd := exec.Command(testserver.Binary(t), append(base, tc.flags...)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("node joined (%v), want a refusal\n%s", err, stderr.String())
			}
			if want := "cannot reach etcd at " + e.Endpoint; !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
			}
		})
	}
}
