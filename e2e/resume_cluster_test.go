//go:build !race

package e2e

import (
	"context"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

// TestClusterResumeOnAnotherNode: a /ws player whose connection drops
// mid-round, after its choice, comes back through the other node of two:
// its session, on the first node, is resumed (the new node's session
// pipes the connection to it): it gets what it missed in order and once,
// the result counts its choice, and it plays on. It drops and comes back
// through the other node again. When the session's node dies, the
// connection it drives is closed (4004) and a resume finds nothing.
func TestClusterResumeOnAnotherNode(t *testing.T) {
	c := startCluster(t, 2, "-round-time", "3s", "-bot-fill", "30s", "-resume-window", "10s")
	a := oursPlayer(t, c.nodes[0], "A", false)
	b := oursPlayer(t, c.nodes[1], "B", false)
	hi := a.hi(t)
	b.hi(t)
	starts := seat(t, []*player{a, b}, 20*time.Millisecond)
	round := starts[0].env.GetStart().GetRoundId()
	a.must(t, a.choose(2)) // rock
	b.must(t, b.choose(1)) // scissors: A wins
	if _, err := b.await(eventTimeout, "A's movement", func(e event) bool {
		return e.name == "movement" && e.env.GetMovement().GetUid() == a.uid()
	}); err != nil {
		t.Fatal(err)
	}
	seen := lastSeqOf(a)
	a.drop()

	a2 := resumeHello(t, c.nodes[1], a.user, false, hi.GetResumeToken(), seen)
	back := a2.hi(t)
	if !back.GetResumed() || back.GetResumeToken() == "" || back.GetResumeToken() == hi.GetResumeToken() {
		t.Fatalf("hi on a resume through the other node: %v", back)
	}
	res, err := a2.awaitResult(startTimeout, round)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.env.GetResult().GetResult() {
		if r.Uid == a.uid() && (r.Choice != 2 || r.RoundScore != 1) {
			t.Fatalf("A's line %v: its choice before the drop must count", r)
		}
	}
	next := seen + 1
	for _, e := range a2.log() {
		if e.env.GetSeq() == 0 {
			continue // the resume's hi
		}
		if e.env.GetSeq() != next {
			t.Fatalf("seq %d (%s) after the resume, want %d: missed or repeated", e.env.GetSeq(), e.name, next)
		}
		next++
	}
	if _, err := b.awaitResult(startTimeout, round); err != nil {
		t.Fatal(err)
	}

	// Playing on through the pipe: join, a start, a choice, its result.
	starts = seat(t, []*player{a2, b}, 20*time.Millisecond)
	round = starts[0].env.GetStart().GetRoundId()
	a2.must(t, a2.choose(3))
	res, err = a2.awaitResult(startTimeout, round)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.env.GetResult().GetResult() {
		if r.Uid == a.uid() && r.Choice != 3 {
			t.Fatalf("A's line %v through the pipe: want its choice 3", r)
		}
	}

	// Away again, and back through node 1 again: a new pipe.
	seen = lastSeqOf(a2)
	a2.drop()
	a3 := resumeHello(t, c.nodes[1], a.user, false, back.GetResumeToken(), seen)
	if again := a3.hi(t); !again.GetResumed() {
		t.Fatalf("a second resume through node 1: %v", again)
	}

	// The session's node dies: its pipe closes the connection.
	c.nodes[0].signal(syscall.SIGKILL)
	if ci, err := a3.awaitClose(10 * time.Second); err != nil || ci.code != messages.CloseSessionFailed {
		t.Fatalf("A's connection after its session's node died: %+v %v", ci, err)
	}
	a4 := resumeHello(t, c.nodes[1], a.user, false, back.GetResumeToken(), seen)
	requireError(t, a4.wire, messages.CodeResumeFailed)
	if fresh := a4.hi(t); fresh.GetResumed() {
		t.Fatalf("resumed a session of a dead node: %v", fresh)
	}
}

// TestClusterSocketIORecovery: the npm socket.io-client v4 recovers its
// session through a load balancer that sends each request to the next of
// three nodes in turn (node/sio4_recover.mjs), so its reconnects land on
// other nodes than its session's, on each transport.
func TestClusterSocketIORecovery(t *testing.T) {
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	ensureNodeModules(t, dir)
	c := startCluster(t, 3, "-auth-mode", "guest", "-auth-secrets", newKey,
		"-bot-fill", "100ms", "-round-time", "3s", "-resume-window", "10s", "-handshake-timeout", "1s")
	var targets []*url.URL
	for _, s := range c.nodes {
		u, err := url.Parse(s.httpURL(""))
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, u)
	}
	var next atomic.Uint64
	lb := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(targets[int(next.Add(1)%uint64(len(targets)))])
		},
	})
	defer lb.Close()
	for _, mode := range []string{"websocket", "polling", "default"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		node := exec.CommandContext(ctx, "node", "sio4_recover.mjs", lb.URL, mode)
		node.Dir = dir
		out, err := node.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("node sio4_recover.mjs %s through the round-robin balancer: %v\n%s", mode, err, out)
		}
		t.Logf("node sio4_recover.mjs %s:\n%s", mode, out)
	}
}
