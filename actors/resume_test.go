package actors

import (
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

func resumeSettings() Settings {
	s := testSettings()
	s.RoundTime = time.Second
	s.ResumeWindow = 2 * time.Second
	return s
}

// connectResumable says hello on a connection that can resume, and returns
// the client with its hi.
func connectResumable(t *testing.T, srv *Server, uid string) (*client, *messages.Hi) {
	t.Helper()
	c := &client{t: t, conn: newFakeConn(), uid: uid}
	c.conn.resumable = true
	c.s = srv.OpenSession(c.conn)
	c.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: uid, Uname: uid}}}})
	hi := c.expect("hi")
	if hi.GetHi().GetResumeToken() == "" || hi.Seq != 1 {
		t.Fatalf("hi on a resumable connection: %v", hi)
	}
	return c, hi.GetHi()
}

// reconnect opens a new resumable connection for uid and says hello with
// a resume of token from lastSeq.
func reconnect(t *testing.T, srv *Server, uid, token string, lastSeq uint32) *client {
	t.Helper()
	c := &client{t: t, conn: newFakeConn(), uid: uid}
	c.conn.resumable = true
	c.s = srv.OpenSession(c.conn)
	c.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{
		User: &messages.User{Uid: uid, Uname: uid}, Resume: &messages.Resume{Token: token, LastSeq: lastSeq},
	}}})
	return c
}

// lastSeq drains what c has and returns the highest seq it saw.
func lastSeq(c *client, seen uint32) uint32 {
	for {
		select {
		case env := <-c.conn.out:
			seen = max(seen, env.Seq)
		default:
			return seen
		}
	}
}

// A player whose connection drops mid-round, after its choice, resumes on
// a new connection: it gets what it missed in order, once, and the round's
// result counts its choice.
func TestResumeMidRoundKeepsTheSeatAndTheChoice(t *testing.T) {
	srv, _ := newTestServer(t, resumeSettings())
	a, hi := connectResumable(t, srv, "a")
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
	a.s.Closed("phone went to the background")

	a2 := reconnect(t, srv, "a", hi.GetResumeToken(), seen)
	back := a2.expect("hi").GetHi()
	if !back.GetResumed() || back.GetResumeToken() == "" || back.GetResumeToken() == hi.GetResumeToken() {
		t.Fatalf("hi after a resume: %v", back)
	}
	res := a2.expect("result")
	if res.GetResult().RoundId != round || res.Seq <= seen {
		t.Fatalf("result after the resume: %v (last seen %d)", res, seen)
	}
	if r := resultOf(res, "a"); r.Choice != 3 || r.RoundScore != 1 {
		t.Fatalf("a's line: %v; want its choice 3 counted, a win", r)
	}
	if r := resultOf(b.expect("result"), "a"); r.Choice != 3 {
		t.Fatalf("b saw a's line %v", r)
	}
	// The session plays on, on the new connection.
	pair(t, a2, b)
}

// What a client missed while away arrives in order and once: the seqs
// after the one it names follow each other with no gap and no repeat.
func TestResumeReplaysInOrderOnce(t *testing.T) {
	srv, _ := newTestServer(t, resumeSettings())
	a, hi := connectResumable(t, srv, "a")
	b := connect(t, srv, "b")
	pair(t, a, b)
	seen := lastSeq(a, 1) // the start came with seq 2 or 3 (queued may come first)
	a.s.Closed("gone")
	for _, f := range []int32{1, 2, 3, 4} {
		b.send(&messages.Envelope{Body: &messages.Envelope_Face{Face: &messages.Face{Face: f}}})
	}
	b.expect("result")
	b.send(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}})
	b.expect("queued")

	a2 := reconnect(t, srv, "a", hi.GetResumeToken(), seen)
	if env := a2.expect("hi"); env.Seq != 0 {
		t.Fatalf("the resume's hi is numbered: %v", env)
	}
	// The four faces' movements are not kept; the result is.
	next := seen + 1
	for {
		env := recv(t, a2.conn.out, recvTimeout)
		if kindOf(env) == "movement" {
			t.Fatalf("a movement replayed: %v", env)
		}
		if env.Seq != next {
			t.Fatalf("seq %d (%s), want %d", env.Seq, kindOf(env), next)
		}
		next++
		if kindOf(env) == "result" {
			break
		}
	}
}

// A resume token works once, only for its player, and only while the
// session waits; any other resume is refused with resume_failed and the
// hello goes on as a new session.
func TestResumeRefusals(t *testing.T) {
	srv, _ := newTestServer(t, resumeSettings())
	a, hi := connectResumable(t, srv, "a")
	a.s.Closed("gone")

	// Another player with a's token.
	m := reconnect(t, srv, "mallory", hi.GetResumeToken(), 1)
	m.expect("error:" + messages.CodeResumeFailed)
	if got := m.expect("hi").GetHi(); got.GetResumed() {
		t.Fatal("mallory resumed a's session")
	}

	// a with a forged secret, and a malformed token.
	for _, token := range []string{hi.GetResumeToken() + "x", "garbage"} {
		c := reconnect(t, srv, "a", token, 1)
		c.expect("error:" + messages.CodeResumeFailed)
		c.expect("hi")
		c.s.Closed("done")
	}
	// The session was replaced by a's own new sessions above (one player,
	// one session): its token is dead now.
	c := reconnect(t, srv, "a", hi.GetResumeToken(), 1)
	c.expect("error:" + messages.CodeResumeFailed)
	c.expect("hi")
}

// The same token twice: the first resume takes the session, the second is
// refused.
func TestResumeTokenWorksOnce(t *testing.T) {
	srv, _ := newTestServer(t, resumeSettings())
	a, hi := connectResumable(t, srv, "a")
	a.s.Closed("gone")
	a2 := reconnect(t, srv, "a", hi.GetResumeToken(), 1)
	if !a2.expect("hi").GetHi().GetResumed() {
		t.Fatal("first resume refused")
	}
	a3 := reconnect(t, srv, "a", hi.GetResumeToken(), 1)
	a3.expect("error:" + messages.CodeResumeFailed)
}

// A resume that asks for more than the session keeps is refused.
func TestResumeBeyondTheBufferIsRefused(t *testing.T) {
	srv, _ := newTestServer(t, resumeSettings())
	a, hi := connectResumable(t, srv, "a")
	a.s.Closed("gone")
	c := reconnect(t, srv, "a", hi.GetResumeToken(), 99) // never sent
	c.expect("error:" + messages.CodeResumeFailed)
}

// A session left alone for the window ends: its seat counts as not
// choosing, and the other player sees it leave.
func TestResumeWindowEnds(t *testing.T) {
	s := resumeSettings()
	s.RoundTime, s.ResumeWindow = 3*time.Second, 300*time.Millisecond
	srv, _ := newTestServer(t, s)
	a, _ := connectResumable(t, srv, "a")
	b := connect(t, srv, "b")
	pair(t, a, b)
	a.s.Closed("gone")
	if l := b.expect("leave").GetLeave(); l.Uid != "a" {
		t.Fatalf("leave of %q", l.Uid)
	}
}

// A connection that cannot carry seqs (the Socket.IO wires) gets no token
// and numbers nothing; its session ends with its connection, as before.
func TestNoResumeWithoutAResumableConn(t *testing.T) {
	srv, _ := newTestServer(t, resumeSettings())
	a := connect(t, srv, "a")
	b := connect(t, srv, "b")
	pair(t, a, b)
	a.s.Closed("gone")
	if l := b.expect("leave").GetLeave(); l.Uid != "a" {
		t.Fatalf("leave of %q", l.Uid)
	}
}

// A player whose connection drops while it waits for a seat is not seated
// against anyone while away: its join is dropped, and the client learns it
// when it resumes.
func TestResumeDropsAWaitingJoin(t *testing.T) {
	s := resumeSettings()
	s.BotFill = time.Hour // only humans fill a room
	srv, _ := newTestServer(t, s)
	a, hi := connectResumable(t, srv, "a")
	a.join()
	a.expect("queued")
	seen := lastSeq(a, 2)
	a.s.Closed("gone")
	a2 := reconnect(t, srv, "a", hi.GetResumeToken(), seen)
	a2.expect("hi")
	a2.expect("error:" + messages.CodeJoinDropped)
	// b waits alone (were a's old join there, b would start at once).
	b := connect(t, srv, "b")
	b.join()
	b.expect("queued")
	a2.join()
	a2.expect("start")
	b.expect("start")
}

// The ring keeps the last replayLen messages, movements not among them:
// a resume from within them gets them in order; one from before them is
// refused.
func TestReplayRing(t *testing.T) {
	r := newResumeState(2, false)
	replayBuffer := uint32(replayLen(2))
	for range replayBuffer + 5 {
		r.number(&messages.Envelope{})
		r.number(&messages.Envelope{Body: &messages.Envelope_Movement{Movement: &messages.Movement{}}})
	}
	if r.seq != replayBuffer+5 {
		t.Fatalf("seq %d: movements were numbered", r.seq)
	}
	if r.held(4) || !r.held(5) || !r.held(r.seq) || r.held(r.seq+1) {
		t.Fatalf("held wrong at seq %d", r.seq)
	}
	got := r.after(5)
	if len(got) != int(replayBuffer) || got[0].Seq != 6 || got[len(got)-1].Seq != r.seq {
		t.Fatalf("after 5: %d messages, %d..%d", len(got), got[0].Seq, got[len(got)-1].Seq)
	}
}

// The ring holds a whole round: a client that joined and lost its
// connection before it read anything (a join in flight, a phone put away)
// gets, from its hi on, the round's queued, start, the other seat's leave
// and the result, in order.
func TestResumeReplaysAWholeRound(t *testing.T) {
	srv, _ := newTestServer(t, resumeSettings())
	a, hi := connectResumable(t, srv, "a")
	b := connect(t, srv, "b")
	a.join()
	if env := recv(t, a.conn.out, recvTimeout); kindOf(env) != "queued" {
		t.Fatalf("a waiting alone got %v", env)
	}
	b.join()
	b.expect("start")
	b.send(&messages.Envelope{Body: &messages.Envelope_Leave{Leave: &messages.Leave{}}})
	for _, want := range []string{"start", "leave", "result"} {
		a.expect(want)
	}
	a.s.Closed("the join was in flight when the phone went to the background")

	a2 := reconnect(t, srv, "a", hi.GetResumeToken(), 1) // it read only the hi
	a2.expect("hi")
	var kinds []string
	next := uint32(2)
	for len(kinds) == 0 || kinds[len(kinds)-1] != "result" {
		env := recv(t, a2.conn.out, recvTimeout)
		if env.Seq != next {
			t.Fatalf("replayed %s with seq %d, want %d (so far %v)", kindOf(env), env.Seq, next, kinds)
		}
		next++
		kinds = append(kinds, kindOf(env))
	}
	if got := strings.Join(kinds, " "); got != "queued start leave result" {
		t.Fatalf("replayed %q; want the whole round", got)
	}
}
