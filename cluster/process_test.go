//go:build !race

// These tests run protoactor's cluster layer, which races under -race
// (see the README's Cluster section), so they are built without it:
// `make test-cluster` runs them. They start a real etcd and real caiquan
// processes on loopback; an in-process member (the test's own) calls into
// them and watches the member list.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/internal/testing/etcdtest"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	// The server processes' lobbies ask every member whether it drains:
	// the in-process members know the game's message types, as every
	// real member does (protoactor-go's remote panics on a type it does
	// not know: remote/proto_serializer.go:31).
	_ "github.com/caiquan/caiquan/messages"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestMain(m *testing.M) { os.Exit(testserver.Run(m)) }

// joinTest joins the test process itself to the cluster.
func joinTest(t *testing.T, cfg Config) *Node {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	system := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet })))
	if cfg.Bind == "" {
		cfg.Bind = "127.0.0.1:0"
	}
	if cfg.Name == "" {
		cfg.Name = "caiquan"
	}
	cfg.Kinds = append(cfg.Kinds, PingKindDef())
	cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, nil))
	n, err := Start(context.Background(), system, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Stop(ctx)
	})
	return n
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// startServer runs a caiquan node in the etcd cluster and returns it with
// its cluster address.
func startServer(t *testing.T, e *etcdtest.Etcd, flags ...string) (*testserver.Server, string) {
	t.Helper()
	s := testserver.Start(t, append([]string{"-cluster-provider", "etcd", "-cluster-etcd-endpoints", e.Endpoint, "-store", "memory"}, flags...)...)
	return s, s.Line("cluster caiquan node ")
}

// waitMembers polls n's member list until it holds exactly want.
func waitMembers(t *testing.T, n *Node, want ...string) {
	t.Helper()
	slices.Sort(want)
	var got []string
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		got = got[:0]
		for _, m := range n.Members() {
			got = append(got, m.Address)
		}
		if slices.Equal(got, want) {
			return
		}
	}
	t.Fatalf("%s sees members %v, want %v", n.Address(), got, want)
}

// identityOn finds a ping identity that the member list places on addr.
func identityOn(t *testing.T, n *Node, addr, prefix string) string {
	t.Helper()
	for i := range 1000 {
		id := fmt.Sprintf("%s-%d", prefix, i)
		if n.Owner(PingKind, id) == addr {
			return id
		}
	}
	t.Fatalf("no identity of 1000 lands on %s", addr)
	return ""
}

func TestTwoNodesFormCluster(t *testing.T) {
	e := etcdtest.Start(t)
	a := joinTest(t, Config{Provider: ProviderEtcd, EtcdEndpoints: []string{e.Endpoint}})
	_, b := startServer(t, e)
	waitMembers(t, a, a.Address(), b)
	// The server prints its member list once it has joined; it saw a.
	srv2, c := startServer(t, e)
	if got := srv2.Line("cluster members "); !strings.Contains(got, a.Address()) || !strings.Contains(got, b) || !strings.Contains(got, c) {
		t.Errorf("third node printed members %q, want %s, %s and %s", got, a.Address(), b, c)
	}
	waitMembers(t, a, a.Address(), b, c)
}

func TestCallReachesGrainOnOtherNode(t *testing.T) {
	e := etcdtest.Start(t)
	a := joinTest(t, Config{Provider: ProviderEtcd, EtcdEndpoints: []string{e.Endpoint}})
	_, b := startServer(t, e)
	waitMembers(t, a, a.Address(), b)
	id := identityOn(t, a, b, "reach")
	for want := 1; want <= 2; want++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		start := time.Now()
		res, err := a.Call(ctx, PingKind, id, wrapperspb.String("ping"))
		cancel()
		if err != nil {
			t.Fatalf("call %d: %v", want, err)
		}
		got := res.(*wrapperspb.StringValue).GetValue()
		if wantS := fmt.Sprintf("%s@%s #%d", id, b, want); got != wantS {
			t.Errorf("call %d answered %q, want %q (activated on the other node, one activation)", want, got, wantS)
		}
		t.Logf("call %d: %q in %v", want, got, time.Since(start))
	}
}

// TestCallHonoursDeadline stops the owner of a grain (SIGSTOP): protoactor
// would wait 5 s on the lookup (disthash/manager.go:121) or on its request
// timeout; Call returns by the caller's deadline, both with a cached PID
// and with a lookup that has to ask the stopped node.
func TestCallHonoursDeadline(t *testing.T) {
	e := etcdtest.Start(t)
	a := joinTest(t, Config{Provider: ProviderEtcd, EtcdEndpoints: []string{e.Endpoint}, PauseLimit: time.Minute})
	srv, b := startServer(t, e)
	waitMembers(t, a, a.Address(), b)
	cached := identityOn(t, a, b, "cached")
	fresh := identityOn(t, a, b, "fresh")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if _, err := a.Call(ctx, PingKind, cached, wrapperspb.String("ping")); err != nil {
		t.Fatal(err)
	}
	cancel()

	srv.Pause()
	t.Cleanup(func() { srv.Signal(syscall.SIGCONT) })
	const deadline = 300 * time.Millisecond
	for _, id := range []string{cached, fresh} {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		start := time.Now()
		res, err := a.Call(ctx, PingKind, id, wrapperspb.String("ping"))
		took := time.Since(start)
		cancel()
		if err == nil {
			t.Fatalf("%s: a stopped node answered %v", id, res)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: error %v does not wrap context.DeadlineExceeded", id, err)
		}
		if took > deadline+500*time.Millisecond {
			t.Errorf("%s: Call took %v with a %v deadline", id, took, deadline)
		}
		t.Logf("%s: %v after %v", id, err, took)
	}
}

func TestUnreachableEtcdExits(t *testing.T) {
	endpoint := fmt.Sprintf("127.0.0.1:%d", etcdtest.FreePort(t))
	cmd := exec.Command(testserver.Binary(t), "-listen", "127.0.0.1:0", "-admin-listen", "", "-metrics-listen", "", "-auth-mode", "anonymous", "-store", "memory",
		"-cluster-provider", "etcd", "-cluster-etcd-endpoints", endpoint)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("server with unreachable etcd: %v, want a non-zero exit\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "cannot reach etcd at "+endpoint) {
		t.Errorf("stderr does not name the endpoint %s:\n%s", endpoint, stderr.String())
	}
	t.Logf("exit %d after %v: %s", ee.ExitCode(), time.Since(start), strings.TrimSpace(stderr.String()))
}

// TestPausedNodeFencesItself stops a node for longer than both the etcd
// lease and the heartbeat expiry. The others drop it; once resumed it
// must notice, drain and exit with the fenced code instead of going on
// alone.
func TestPausedNodeFencesItself(t *testing.T) {
	e := etcdtest.Start(t)
	a := joinTest(t, Config{Provider: ProviderEtcd, EtcdEndpoints: []string{e.Endpoint}, HeartbeatExpiry: 2 * time.Second})
	_, b := startServer(t, e, "-cluster-heartbeat-expiry", "2s")
	paused, c := startServer(t, e, "-cluster-heartbeat-expiry", "2s", "-drain-timeout", "2s")
	waitMembers(t, a, a.Address(), b, c)

	paused.Pause()
	waitMembers(t, a, a.Address(), b) // the lease expired: the others dropped it
	time.Sleep(3 * time.Second)       // and longer than the heartbeat expiry
	paused.Signal(syscall.SIGCONT)
	resumed := time.Now()

	code, err := paused.WaitExit(20 * time.Second)
	if err != nil {
		t.Fatalf("the resumed node did not exit: %v\n%s", err, paused.Stderr())
	}
	if code != 3 {
		t.Errorf("exit code %d, want 3 (fenced)", code)
	}
	if !strings.Contains(paused.Stderr(), "FENCED") {
		t.Errorf("the node's log does not say it fenced itself:\n%s", paused.Stderr())
	}
	for _, line := range strings.Split(paused.Stderr(), "\n") {
		if strings.Contains(line, "FENCED") {
			t.Log(line)
		}
	}
	t.Logf("exited %d, %v after SIGCONT", code, time.Since(resumed))
	// The rest of the cluster goes on without it.
	waitMembers(t, a, a.Address(), b)
}

func TestAutomanagedMembers(t *testing.T) {
	peers := []string{fmt.Sprintf("127.0.0.1:%d", etcdtest.FreePort(t)), fmt.Sprintf("127.0.0.1:%d", etcdtest.FreePort(t))}
	a := joinTest(t, Config{Provider: ProviderAutomanaged, Peers: peers, PeerListen: peers[0]})
	b := joinTest(t, Config{Provider: ProviderAutomanaged, Peers: peers, PeerListen: peers[1]})
	waitMembers(t, a, a.Address(), b.Address())
	waitMembers(t, b, a.Address(), b.Address())
	id := identityOn(t, a, b.Address(), "am")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, err := a.Call(ctx, PingKind, id, wrapperspb.String("ping"))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.(*wrapperspb.StringValue).GetValue(); !strings.Contains(got, "@"+b.Address()+" ") {
		t.Errorf("answer %q, want one from %s", got, b.Address())
	}
}

// TestAutomanagedHealthListenerTimesOut: a client that starts a request
// on the automanaged health listener and never finishes its headers is
// cut off (echo's server has no timeouts of its own; openAutomanaged sets
// them), and the listener still answers health checks meanwhile.
func TestAutomanagedHealthListenerTimesOut(t *testing.T) {
	peer := fmt.Sprintf("127.0.0.1:%d", etcdtest.FreePort(t))
	joinTest(t, Config{Provider: ProviderAutomanaged, Peers: []string{peer}, PeerListen: peer})
	slow, err := net.Dial("tcp", peer)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	if _, err := slow.Write([]byte("GET /_health HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + peer + "/_health")
	if err != nil {
		t.Fatalf("health check while a slow client waits: %v", err)
	}
	resp.Body.Close()
	slow.SetReadDeadline(start.Add(15 * time.Second))
	// Go's server answers 408 or just closes; either ends the read.
	_, err = io.ReadAll(slow)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a client that never finished its headers was still connected after %v", time.Since(start).Round(time.Second))
	}
	t.Logf("slow client cut off after %v", time.Since(start).Round(100*time.Millisecond))
}
