package e2e

import (
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

// resumeHello says hello on a new /ws connection, asking for the session
// of token from lastSeq on.
func resumeHello(t *testing.T, s *server, u *messages.User, asJSON bool, token string, lastSeq uint32) *player {
	t.Helper()
	c := dialOurs(t, s, asJSON, dialOpts{})
	p := &player{wire: c.wire, conn: c, user: u}
	p.must(t, p.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{
		User: u, Resume: &messages.Resume{Token: token, LastSeq: lastSeq},
	}}}))
	return p
}

func lastSeqOf(p *player) uint32 {
	var seen uint32
	for _, e := range p.log() {
		seen = max(seen, e.env.GetSeq())
	}
	return seen
}

// TestResumeAfterADrop: on /ws (binary and JSON) a player whose TCP
// connection dies mid-round, after its choice, comes back on a new
// connection with its resume token: it gets every message it missed, in
// order and once, and the round's result counts its choice. A stolen or
// reused token is refused with resume_failed, and changes nothing for
// the player it belongs to.
func TestResumeAfterADrop(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-resume-window", "10s")
	for _, asJSON := range []bool{false, true} {
		name := map[bool]string{false: "binary", true: "json"}[asJSON]
		t.Run(name, func(t *testing.T) {
			a := oursPlayer(t, s, "A", asJSON)
			b := oursPlayer(t, s, "B", false)
			hi := a.hi(t)
			b.hi(t)
			if hi.GetResumeToken() == "" || hi.GetResumeWindowMs() != 10000 {
				t.Fatalf("hi without resume: %v", hi)
			}
			starts := seat(t, []*player{a, b}, 20*time.Millisecond)
			round := starts[0].env.GetStart().GetRoundId()
			a.must(t, a.choose(2)) // rock
			b.must(t, b.choose(1)) // scissors: A wins
			if _, err := b.await(eventTimeout, "A's movement", func(e event) bool { return e.name == "movement" && e.env.GetMovement().GetUid() == a.uid() }); err != nil {
				t.Fatal(err)
			}
			seen := lastSeqOf(a)
			a.drop() // no close frame: the phone lost its signal

			a2 := resumeHello(t, s, a.user, asJSON, hi.GetResumeToken(), seen)
			back := a2.hi(t)
			if !back.GetResumed() || back.GetResumeToken() == "" || back.GetResumeToken() == hi.GetResumeToken() {
				t.Fatalf("hi on resume: %v", back)
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

			// The first token was used; a stranger with the new one is not A.
			stale := resumeHello(t, s, a.user, asJSON, hi.GetResumeToken(), seen)
			requireError(t, stale.wire, messages.CodeResumeFailed)
			// stale said hello as A afresh: A's resumed connection is replaced.
			if ci, err := a2.awaitClose(eventTimeout); err != nil || ci.code != messages.CloseReplaced {
				t.Fatalf("A's resumed connection after a new session of A: %+v %v", ci, err)
			}
			mallory := resumeHello(t, s, newUser("Mallory"), asJSON, back.GetResumeToken(), 1)
			requireError(t, mallory.wire, messages.CodeResumeFailed)
			if got := mallory.hi(t); got.GetResumed() {
				t.Fatal("Mallory resumed A's session")
			}
		})
	}
}
