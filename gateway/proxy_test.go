package gateway

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/caiquan/caiquan/messages"
)

// fakePeers is a cluster's member list as two test gateways see it.
type fakePeers struct {
	self string
	mu   sync.Mutex
	addr map[string]string // tag → host:port
}

func (p *fakePeers) SelfTag() string { return p.self }

func (p *fakePeers) HTTPAddr(tag string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.addr[tag]
	return a, ok
}

// twoNodes starts two gateways that know each other as peers.
func twoNodes(t *testing.T) (a, b *testServer) {
	t.Helper()
	pa := &fakePeers{self: NodeTag("node-a:1"), addr: map[string]string{}}
	pb := &fakePeers{self: NodeTag("node-b:1"), addr: map[string]string{}}
	a = newTestServer(t, nil, func(g *Gateway) { g.peers = pa })
	b = newTestServer(t, nil, func(g *Gateway) { g.peers = pb })
	host := func(ts *testServer) string { return strings.TrimPrefix(ts.srv.URL, "http://") }
	for _, p := range []*fakePeers{pa, pb} {
		p.addr[pa.self] = host(a)
		p.addr[pb.self] = host(b)
	}
	return a, b
}

// TestPollingAcrossNodes: a session opened on node A is reached through
// node B for every request, the upgrade's WebSocket included.
func TestPollingAcrossNodes(t *testing.T) {
	a, b := twoNodes(t)
	c, _ := openPolling(t, a)
	s := a.session(t)
	if !strings.HasPrefix(c.sid, NodeTag("node-a:1")) || len(c.sid) != nodeTagLen+20 {
		t.Fatalf("sid %q does not name node A", c.sid)
	}
	viaB := &pollClient{ts: b, sid: c.sid}
	viaB.connect(t)
	viaB.mustPost(t, `42["hello",{"user":{"uid":"x1","uname":"X","uavatar":""}}]`)
	if got := s.next(t); got.GetHello() == nil {
		t.Fatalf("delivered %v; want hello", got)
	}
	c.until(t, `42\["hi",.*`) // and straight from A

	ws := b.dial(t, sioPath+"?EIO=4&transport=websocket&sid="+c.sid, nil)
	writeText(t, ws, "2probe")
	if got := readText(t, ws); got != "3probe" {
		t.Fatalf("probe through B: %q", got)
	}
	writeText(t, ws, "5")
	writeText(t, ws, `42["join"]`)
	if got := s.next(t); got.GetJoin() == nil {
		t.Fatalf("delivered %v; want join", got)
	}
	writeText(t, ws, "1")
	expectCloseCode(t, ws, messages.CloseNormal, "client")
	s.waitClosed(t)
	select {
	case <-b.opener.sessions:
		t.Fatal("node B opened a session of its own")
	default:
	}
}

// TestForwardRefusals: only sids of other current members are passed on,
// and a passed request is never passed again.
func TestForwardRefusals(t *testing.T) {
	a, b := twoNodes(t)
	c, _ := openPolling(t, a)
	a.session(t)
	unknown := `{"code":1,"message":"Session ID unknown"}`
	for _, sid := range []string{
		"zzzzzzzz" + c.sid[nodeTagLen:],          // a tag no member has
		NodeTag("node-b:1") + c.sid[nodeTagLen:], // B's own tag, a session B does not hold
		c.sid[:nodeTagLen] + "x",                 // A's tag, a sid of the wrong length
	} {
		status, body, _ := b.httpDo(t, "GET", "?EIO=4&transport=polling&sid="+sid, "", nil)
		if status != 400 || body != unknown {
			t.Errorf("GET with sid %q at B: %d %s; want 400 %s", sid, status, body, unknown)
		}
	}
	status, body, _ := b.httpDo(t, "GET", c.query(), "", http.Header{forwardedHeader: {"1"}})
	if status != 400 || body != unknown {
		t.Errorf("an already passed request: %d %s; want 400 %s", status, body, unknown)
	}

	// A member that does not answer: 502, and B goes on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	pb := b.gw.peers.(*fakePeers)
	pb.mu.Lock()
	pb.addr[NodeTag("node-dead:1")] = dead
	pb.mu.Unlock()
	status, body, _ = b.httpDo(t, "POST", "?EIO=4&transport=polling&sid="+NodeTag("node-dead:1")+c.sid[nodeTagLen:], "40", nil)
	if status != http.StatusBadGateway || !strings.Contains(body, "node_unreachable") {
		t.Errorf("a sid of a member that does not answer: %d %s; want 502 node_unreachable", status, body)
	}
	if status, _ := b.refusal(t, sioPath+"?EIO=4&transport=websocket&sid="+NodeTag("node-dead:1")+c.sid[nodeTagLen:], nil); status != http.StatusBadGateway {
		t.Errorf("an upgrade for a member that does not answer: %d; want 502", status)
	}
	openPolling(t, b)
	b.session(t)
}
