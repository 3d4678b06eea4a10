//go:build !race

// The cluster tests run real server processes that use protoactor's
// cluster layer, which races under -race (see the README's Cluster
// section), so this file and the tests that use it are built without it:
// `make test-cluster` runs them.

package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/etcdtest"
	"github.com/caiquan/caiquan/internal/testing/pgtest"
	"github.com/caiquan/caiquan/messages"
	"github.com/gorilla/websocket"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// gameCluster is etcd, one PostgreSQL shared by every node, and the nodes.
type gameCluster struct {
	t     *testing.T
	etcd  *etcdtest.Etcd
	pg    *pgtest.Cluster
	flags []string
	nodes []*server
}

// startCluster starts n nodes that share etcd and PostgreSQL, with flags
// added to each, and waits until etcd lists them all.
func startCluster(t *testing.T, n int, flags ...string) *gameCluster {
	t.Helper()
	c := &gameCluster{t: t, etcd: etcdtest.Start(t), pg: pgtest.Start(t), flags: flags}
	for i := 0; i < n; i++ {
		c.addNode()
	}
	return c
}

// addNode starts one more node and waits until etcd lists it with the rest.
func (c *gameCluster) addNode(extra ...string) *server {
	c.t.Helper()
	flags := append([]string{
		"-cluster-provider", "etcd", "-cluster-etcd-endpoints", c.etcd.Endpoint,
		"-cluster-bind", "127.0.0.1:0",
		"-store", "postgres", "-postgres-url", c.pg.URL,
	}, c.flags...)
	s := startServer(c.t, append(flags, extra...)...)
	c.nodes = append(c.nodes, s)
	c.waitMembers(len(c.liveNodes()))
	return s
}

func (c *gameCluster) liveNodes() []*server {
	var out []*server
	for _, s := range c.nodes {
		if s.alive() {
			out = append(out, s)
		}
	}
	return out
}

// waitMembers waits until etcd lists n members, then a little more for
// every node to have read the change.
func (c *gameCluster) waitMembers(n int) {
	c.t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{c.etcd.Endpoint}, DialTimeout: 5 * time.Second, TLS: c.etcd.TLS})
	if err != nil {
		c.t.Fatal(err)
	}
	defer cli.Close()
	var got int64
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := cli.Get(ctx, "/caiquan/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		cancel()
		if err == nil && resp.Count == int64(n) {
			time.Sleep(500 * time.Millisecond)
			return
		}
		if err == nil {
			got = resp.Count
		}
	}
	c.t.Fatalf("etcd lists %d members, want %d", got, n)
}

// metricsText is s's /metrics, from its metrics listener.
func metricsText(t *testing.T, s *server) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + s.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	return string(body)
}

// metric reads one counter or gauge (without labels) from s's /metrics.
func metric(t *testing.T, s *server, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(metricsText(t, s), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	t.Fatalf("/metrics of %s has no %s", s.Addr, name)
	return 0
}

// metricSum adds every sample of a labelled counter on s's /metrics.
func metricSum(t *testing.T, s *server, name string) float64 {
	t.Helper()
	sum := 0.0
	for _, line := range strings.Split(metricsText(t, s), "\n") {
		if rest, ok := strings.CutPrefix(line, name+"{"); ok {
			var f float64
			fmt.Sscan(rest[strings.LastIndex(rest, " ")+1:], &f)
			sum += f
		}
	}
	return sum
}

// round is one round as one client saw it.
type round struct {
	id      string
	node    int // index of the node the client was on
	start   *messages.Start
	startAt time.Time
	endAt   time.Time
	result  *messages.Result // nil when voided or never ended
	void    *messages.Void
}

// gamer is a client that plays rounds in a loop on one node and records
// everything; it never calls t.Fatal, so it can run in a goroutine.
type gamer struct {
	user *messages.User
	node int
	url  string

	mu      sync.Mutex
	rounds  []*round
	hi      *messages.Hi
	errs    []string // protocol errors and broken expectations
	dropped time.Time
	waiting time.Time   // when the current join went out; zero when not waiting
	done    atomic.Bool // finish the open round, then join no more
}

func newGamer(name string, node int, s *server) *gamer {
	return &gamer{user: newUser(name), node: node, url: s.wsURL("/ws")}
}

func (g *gamer) fail(format string, args ...any) {
	g.mu.Lock()
	g.errs = append(g.errs, fmt.Sprintf(format, args...))
	g.mu.Unlock()
}

// play connects, says hello and plays until ctx ends or the socket drops.
// rounds limits the rounds it plays (0: no limit).
func (g *gamer) play(ctx context.Context, rounds int) {
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, g.url, nil)
	if err != nil {
		g.fail("dial: %v", err)
		return
	}
	defer ws.Close()
	go func() { <-ctx.Done(); ws.Close() }()
	send := func(env *messages.Envelope) error {
		b, _ := protojson.Marshal(env)
		return ws.WriteMessage(websocket.TextMessage, b)
	}
	recv := func() (*messages.Envelope, error) {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		env := &messages.Envelope{}
		if err := protojson.Unmarshal(data, env); err != nil {
			return nil, fmt.Errorf("malformed %q: %w", data, err)
		}
		return env, nil
	}
	if send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: g.user}}}) != nil {
		return
	}
	var cur *round
	joined := 0
	join := func() error {
		g.mu.Lock()
		g.waiting = time.Now()
		g.mu.Unlock()
		joined++
		return send(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}})
	}
	for {
		env, err := recv()
		if err != nil {
			if ctx.Err() == nil {
				g.mu.Lock()
				g.dropped = time.Now()
				g.mu.Unlock()
			}
			return
		}
		switch b := env.Body.(type) {
		case *messages.Envelope_Hi:
			g.mu.Lock()
			g.hi = b.Hi
			g.mu.Unlock()
			if join() != nil {
				return
			}
		case *messages.Envelope_Start:
			if cur != nil {
				g.fail("start of %s while round %s was still open", b.Start.RoundId, cur.id)
			}
			cur = &round{id: b.Start.RoundId, node: g.node, start: b.Start, startAt: time.Now()}
			g.mu.Lock()
			g.rounds = append(g.rounds, cur)
			g.waiting = time.Time{}
			g.mu.Unlock()
			hand := int32(rand.IntN(3) + 1)
			send(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: hand}}})
		case *messages.Envelope_Result, *messages.Envelope_Void:
			id := env.GetResult().GetRoundId() + env.GetVoid().GetRoundId()
			if cur == nil || cur.id != id {
				g.fail("end of round %s, which is not the open round", id)
				continue
			}
			g.mu.Lock()
			cur.endAt, cur.result, cur.void = time.Now(), env.GetResult(), env.GetVoid()
			g.mu.Unlock()
			cur = nil
			if rounds > 0 && joined >= rounds || g.done.Load() {
				return
			}
			if join() != nil {
				return
			}
		case *messages.Envelope_Error:
			g.fail("error %s: %s", b.Error.Code, b.Error.Message)
		}
	}
}

// snapshot returns copies of the rounds so far.
func (g *gamer) snapshot() []round {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]round, len(g.rounds))
	for i, r := range g.rounds {
		out[i] = *r
	}
	return out
}

// checkChain verifies every result against the rules from the standing the
// player carried: its hi, then each result; a void changes nothing. It also
// finds rounds that never ended though the client stayed connected.
func (g *gamer) checkChain(t *testing.T) (results, voids int) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hi == nil {
		t.Errorf("%s: no hi", g.user.Uid)
		return
	}
	me := standing{total: g.hi.TotalScore, streak: g.hi.WinStreak}
	for _, r := range g.rounds {
		switch {
		case r.result != nil:
			results++
			prev := standingsAtStart(r.start)
			if st := prev[g.user.Uid]; st != me {
				t.Errorf("%s: round %s started with standing %+v, the player had %+v", g.user.Uid, r.id, st, me)
			}
			next, err := checkResult(r.result, prev)
			if err != nil {
				t.Errorf("%s: %v", g.user.Uid, err)
				continue
			}
			me = next[g.user.Uid]
		case r.void != nil:
			voids++
		}
	}
	for _, e := range g.errs {
		t.Errorf("%s: %s", g.user.Uid, e)
	}
	return results, voids
}

// crowd is many gamers spread over nodes.
type crowd struct {
	gamers []*gamer
	wg     sync.WaitGroup
}

// spread starts n gamers on the given nodes in turn, playing until ctx ends.
func (cr *crowd) spread(ctx context.Context, c *gameCluster, n int, nodes ...int) []*gamer {
	var out []*gamer
	for i := 0; i < n; i++ {
		node := nodes[i%len(nodes)]
		g := newGamer(fmt.Sprintf("p%d", len(cr.gamers)), node, c.nodes[node])
		cr.gamers = append(cr.gamers, g)
		out = append(out, g)
		cr.wg.Add(1)
		go func() { defer cr.wg.Done(); g.play(ctx, 0) }()
	}
	return out
}

// finish lets every gamer end its round and stop, waits a round and a
// little more for that, then ends the rest (those still waiting) with cancel.
func (cr *crowd) finish(roundTime time.Duration, cancel context.CancelFunc) {
	for _, g := range cr.gamers {
		g.done.Store(true)
	}
	time.Sleep(roundTime + 3*time.Second)
	cancel()
	cr.wg.Wait()
}

// on returns the gamers connected to the given nodes.
func (cr *crowd) on(nodes ...int) []*gamer {
	var out []*gamer
	for _, g := range cr.gamers {
		for _, n := range nodes {
			if g.node == n {
				out = append(out, g)
			}
		}
	}
	return out
}

// clusterAddr is the cluster address a node printed at start.
func clusterAddr(s *server) string { return s.Line("cluster caiquan node ") }

// checkStandingsStored reconnects each gamer to node s and checks that hi
// carries the standing of its last result: a round that was voided changed
// nothing in the store, and one that was published is stored, once.
func checkStandingsStored(t *testing.T, s *server, gamers []*gamer) {
	t.Helper()
	for _, g := range gamers {
		var last *messages.PlayerResult
		for _, r := range g.snapshot() {
			if r.result != nil {
				last = resultEntry(r.result, g.user.Uid)
			}
		}
		rounds := g.snapshot()
		if last == nil || rounds[len(rounds)-1].endAt.IsZero() {
			continue // no result, or the last round is unknown
		}
		again := &gamer{user: g.user, url: s.wsURL("/ws")}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		again.helloOnly(ctx)
		cancel()
		if again.hi == nil {
			t.Errorf("%s: no hi on reconnect: %v", g.user.Uid, again.errs)
			continue
		}
		if again.hi.TotalScore != last.TotalScore || again.hi.WinStreak != last.WinStreak {
			t.Errorf("%s: stored total %d streak %d, the last result said %d %d",
				g.user.Uid, again.hi.TotalScore, again.hi.WinStreak, last.TotalScore, last.WinStreak)
		}
	}
}

// helloOnly connects, says hello and returns after hi.
func (g *gamer) helloOnly(ctx context.Context) {
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, g.url, nil)
	if err != nil {
		g.fail("dial: %v", err)
		return
	}
	defer ws.Close()
	b, _ := protojson.Marshal(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: g.user}}})
	ws.WriteMessage(websocket.TextMessage, b)
	deadline, _ := ctx.Deadline()
	ws.SetReadDeadline(deadline)
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			g.fail("read: %v", err)
			return
		}
		env := &messages.Envelope{}
		if protojson.Unmarshal(data, env) == nil && env.GetHi() != nil {
			g.hi = env.GetHi()
			return
		}
	}
}
