//go:build !race

package e2e

import (
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

// TestClusterResumeOnAnotherNode pins what a player loses when its
// connection drops mid-round and it comes back through another node: a
// session is resumed only on the node that holds it. The resume is
// refused (resume_failed) and the connection goes on as a new session,
// whose hello ends the old one at once: the other player sees A leave,
// and the result scores A as not choosing, its choice before the drop
// lost; A's new session gets no result of that round. A keeps its total,
// and plays on from the other node.
func TestClusterResumeOnAnotherNode(t *testing.T) {
	c := startCluster(t, 2, "-round-time", "3s", "-bot-fill", "30s", "-resume-window", "10s")
	a := oursPlayer(t, c.nodes[0], "A", false)
	b := oursPlayer(t, c.nodes[1], "B", false)
	hi := a.hi(t)
	b.hi(t)
	starts := seat(t, []*player{a, b}, 20*time.Millisecond)
	round := starts[0].env.GetStart().GetRoundId()
	a.must(t, a.choose(2)) // rock
	b.must(t, b.choose(1)) // scissors: A would win
	if _, err := b.await(eventTimeout, "A's movement", func(e event) bool {
		return e.name == "movement" && e.env.GetMovement().GetUid() == a.uid()
	}); err != nil {
		t.Fatal(err)
	}
	seen := lastSeqOf(a)
	a.drop()

	a2 := resumeHello(t, c.nodes[1], a.user, false, hi.GetResumeToken(), seen)
	requireError(t, a2.wire, messages.CodeResumeFailed)
	if back := a2.hi(t); back.GetResumed() {
		t.Fatalf("resumed on another node: %v", back)
	}
	if _, err := b.await(eventTimeout, "A's leave", func(e event) bool {
		return e.name == "leave" && e.env.GetLeave().GetUid() == a.uid()
	}); err != nil {
		t.Fatal(err)
	}
	res, err := b.awaitResult(startTimeout, round)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.env.GetResult().GetResult() {
		if r.Uid == a.uid() && (r.Choice != 0 || r.RoundScore != 0) {
			t.Fatalf("A's line %v: a session that came back elsewhere loses its choice", r)
		}
	}
	for _, e := range a2.log() {
		if e.name == "result" || e.name == "start" {
			t.Fatalf("A's new session got %s of the old round: %v", e.name, e.env)
		}
	}
	// A plays on from node 1.
	next := seat(t, []*player{a2, b}, 20*time.Millisecond)
	if next[0].env.GetStart().GetRoundId() == round {
		t.Fatal("seated in the old round")
	}
}
