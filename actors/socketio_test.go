package actors

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/auth"
	"github.com/caiquan/caiquan/messages"
)

// sioAnswer is what a session answered a Socket.IO CONNECT.
type sioAnswer struct {
	pid       string
	recovered bool
}

func (c *fakeConn) Connected(pid string, recovered bool) {
	c.connects <- sioAnswer{pid: pid, recovered: recovered}
}

func (c *fakeConn) Lost() bool { return !c.left }

// dialSIO opens a Socket.IO connection whose CONNECT carries auth, and
// returns the client with the session's answer.
func dialSIO(t *testing.T, srv *Server, uid string, auth SocketIOConnect) (*client, sioAnswer) {
	t.Helper()
	c := &client{t: t, conn: newFakeConn(), uid: uid}
	c.s = srv.OpenSession(c.conn)
	c.s.(SocketIOSession).Connect(auth)
	return c, recv(t, c.conn.connects, recvTimeout)
}

// sioPlayer is a Socket.IO client that connected and said hello.
func sioPlayer(t *testing.T, srv *Server, uid, token string) (*client, string) {
	t.Helper()
	c, ans := dialSIO(t, srv, uid, SocketIOConnect{Token: token})
	if ans.pid == "" || ans.recovered {
		t.Fatalf("the first CONNECT's answer: %+v", ans)
	}
	c.send(hello(uid, token))
	if hi := c.expect("hi"); hi.Seq != 1 || hi.GetHi().ResumeToken != nil {
		t.Fatalf("a Socket.IO hi: %v; want seq 1 and no /ws token", hi)
	}
	return c, ans.pid
}

// selfAddr is the address of the member c's session lives on.
func (c *client) selfAddr(t *testing.T) string {
	t.Helper()
	h, ok := c.s.(*sessionHandle)
	if !ok || h.pid.Load() == nil {
		t.Fatal("no session PID")
	}
	return h.pid.Load().Address
}

func offset(seq uint32) string { return strconv.FormatUint(uint64(seq), 10) }

// expectRefused: the CONNECT got a fresh pid, not recovered, and the
// error resume_failed with the reason.
func expectRefused(t *testing.T, c *client, ans sioAnswer, pid, reason string) {
	t.Helper()
	if ans.recovered || ans.pid == "" || ans.pid == pid {
		t.Fatalf("a refused recovery answered %+v", ans)
	}
	if msg := c.expect("error:" + messages.CodeResumeFailed).GetError().Message; !strings.Contains(msg, reason) {
		t.Fatalf("refused with %q, want it to say %q", msg, reason)
	}
}

// A Socket.IO session whose connection drops mid-round, after its choice,
// is recovered by a CONNECT with its pid and offset: the same pid comes
// back with recovered set, no hi, and the events after the offset follow
// in order, the round's result counting the choice.
func TestSocketIORecoveryMidRound(t *testing.T) {
	srv, _ := newTestServer(t, resumeSettings())
	a, pid := sioPlayer(t, srv, "a", "")
	b := connect(t, srv, "b")
	a.join()
	b.join()
	start := a.expect("start")
	round := start.GetStart().RoundId
	b.expect("start")
	a.choose(3) // paper
	b.choose(2) // rock: a wins
	b.expect("movement")
	seen := lastSeq(a, start.Seq)
	a.s.Closed("engine closed")

	a2, ans := dialSIO(t, srv, "a", SocketIOConnect{PID: pid, Offset: offset(seen)})
	if !ans.recovered || ans.pid != pid {
		t.Fatalf("recovery answered %+v, want pid %s recovered", ans, pid)
	}
	res := a2.expect("result")
	if res.GetResult().RoundId != round || res.Seq != seen+1 {
		t.Fatalf("after the recovery: %v, want the result of %s with seq %d", res, round, seen+1)
	}
	if r := resultOf(res, "a"); r.Choice != 3 || r.RoundScore != 1 {
		t.Fatalf("a's line %v: the choice before the drop must count", r)
	}
	b.expect("result")
	pair(t, a2, b) // plays on, without a hello
}

// A pid recovers only its session, only with its secret, only while its
// connection is gone, only a Socket.IO session, and only from an offset
// whose events are still held; a token naming an actor that is not a
// session, or a node that is not a member, asks nobody. Each refusal
// leaves the session to its own client.
func TestSocketIORecoveryRefusals(t *testing.T) {
	// The clock stands still: no timeout answers for a session, so a
	// refusal is the answer of the session asked, or of nobody there.
	st := resumeSettings()
	st.Clock = newFakeClock()
	srv, _ := newTestServer(t, st)
	a, pid := sioPlayer(t, srv, "a", "")
	w, hi := connectResumable(t, srv, "w") // a /ws session

	// Connected: a pid in use is not taken.
	c, ans := dialSIO(t, srv, "x", SocketIOConnect{PID: pid, Offset: "1"})
	expectRefused(t, c, ans, pid, "is connected")

	a.s.Closed("gone")
	w.s.Closed("gone")
	id, secret, _ := strings.Cut(pid, ".")
	forged := "x" + secret[1:]
	if forged == secret { // one secret in 64 starts with x
		forged = "y" + secret[1:]
	}
	for _, tc := range []struct{ name, pid, offset, reason string }{
		{"forged secret", id + "." + forged, "1", "not valid"},
		{"malformed", "no dot", "1", "malformed"},
		{"offset not a number", pid, "one", "malformed"},
		{"offset beyond what was sent", pid, "99", "no longer held"},
		{"a /ws token", hi.GetResumeToken(), "1", "another protocol"},
		{"the lobby's", base64.RawURLEncoding.EncodeToString([]byte(nodeKey(a.selfAddr(t))+"/node/lobby")) + "." + secret, "1", "gone"},
		{"another node's", base64.RawURLEncoding.EncodeToString([]byte("12345678/$1")) + "." + secret, "1", "gone"},
	} {
		c, ans := dialSIO(t, srv, "x", SocketIOConnect{PID: tc.pid, Offset: tc.offset})
		expectRefused(t, c, ans, pid, tc.reason)
	}
	// A pid in a /ws hello's resume: refused as well.
	ws := reconnect(t, srv, "z", pid, 1) // not "a": its new session would replace a's
	if msg := ws.expect("error:" + messages.CodeResumeFailed).GetError().Message; !strings.Contains(msg, "another protocol") {
		t.Fatalf("a pid as a /ws token: %q", msg)
	}

	a2, ans := dialSIO(t, srv, "a", SocketIOConnect{PID: pid, Offset: "1"})
	if !ans.recovered || ans.pid != pid {
		t.Fatalf("after the refusals, a's own recovery answered %+v", ans)
	}
	a2.join() // and plays on, without a hello
	a2.expect("queued")
}

// With login, a pid recovers a session only for a CONNECT whose token
// names the session's player.
func TestSocketIORecoveryChecksThePlayer(t *testing.T) {
	signer, err := auth.NewSigner("0123456789abcdef0123456789abcdef", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	s := resumeSettings()
	s.Auth = signer
	srv, _ := newTestServer(t, s)
	now := time.Now()
	tokenA, _ := signer.Issue(auth.Claims{Sub: "wx_a"}, now)
	tokenB, _ := signer.Issue(auth.Claims{Sub: "wx_b"}, now)

	a, pid := sioPlayer(t, srv, "wx_a", tokenA)
	a.s.Closed("gone")
	c, ans := dialSIO(t, srv, "wx_b", SocketIOConnect{Token: tokenB, PID: pid, Offset: "1"})
	expectRefused(t, c, ans, pid, "another player")
	c, ans = dialSIO(t, srv, "?", SocketIOConnect{PID: pid, Offset: "1"})
	expectRefused(t, c, ans, pid, "needs the token")

	_, ans = dialSIO(t, srv, "wx_a", SocketIOConnect{Token: tokenA, PID: pid, Offset: "1"})
	if !ans.recovered || ans.pid != pid {
		t.Fatalf("a's own recovery answered %+v", ans)
	}
}

// A session whose client left the namespace before closing (41, then the
// close) is not kept: its pid finds nothing, and says so at once (the
// clock stands still, so no timeout answers for it).
func TestSocketIOPidOfAnEndedSession(t *testing.T) {
	s := resumeSettings()
	s.Clock = newFakeClock()
	srv, _ := newTestServer(t, s)
	a, pid := sioPlayer(t, srv, "a", "")
	a.conn.left = true
	a.s.Closed("client left")
	deadline := time.Now().Add(recvTimeout)
	for {
		if _, _, ok := srv.d.inv.Find("", KindSession, "a"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the session outlived its client's goodbye")
		}
		time.Sleep(time.Millisecond)
	}
	c, ans := dialSIO(t, srv, "x", SocketIOConnect{PID: pid, Offset: "1"})
	expectRefused(t, c, ans, pid, "gone")
}
