package actors

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// A join from another session of a uid that sits in a round the lobby
// opened is held (JoinHeld) until that round is over, unless the join
// names that round as the last one the uid left: a session of the previous
// release does not tell the player of its seat, so only the lobby knows (a
// client cut off by such a node while draining came back elsewhere
// mid-round and sat in two rounds at once).
func TestLobbyHoldsASecondSessionOfASeatedUid(t *testing.T) {
	clock := newFakeClock()
	st := testSettings()
	st.Clock, st.BotFill = clock, time.Hour // humans only
	srv, system := newTestServer(t, st)
	type sess struct {
		pid *actor.PID
		ch  chan any
	}
	newSession := func() sess {
		pid, ch := spawnSpy(system)
		return sess{pid, ch}
	}
	// join sends a join; a session of this release takes offers and
	// names the last round it left, one of the previous release neither.
	join := func(s sess, uid string, ticket uint64, thisRelease bool, last string) chan any {
		system.Root.Send(srv.d.lobby, &messages.JoinQueue{
			Seat:   &messages.SeatInfo{Uid: uid, Session: s.pid, TakesOffers: thisRelease},
			Ticket: ticket, LastRound: last,
		})
		return s.ch
	}
	fresh := func(uid string, ticket uint64, thisRelease bool, last string) chan any {
		return join(newSession(), uid, ticket, thisRelease, last)
	}
	// first is a session's first seat (Start, or SeatOffer for a session
	// that takes offers), Queued or JoinHeld. A join that the lobby seats
	// at once gets its seat only; one that waits, Queued first.
	first := func(ch chan any) any {
		t.Helper()
		for {
			switch m := recv(t, ch, recvTimeout).(type) {
			case *messages.Start, *messages.SeatOffer, *messages.Queued, *messages.JoinHeld:
				return m
			}
		}
	}
	roundOf := func(m any) string {
		switch m := m.(type) {
		case *messages.Start:
			return m.RoundId
		case *messages.SeatOffer:
			return m.GetStart().GetRoundId()
		}
		return ""
	}
	seated := func(m any) bool { return roundOf(m) != "" }

	alice := newSession()
	if _, ok := first(join(alice, "alice", 1, false, "")).(*messages.Queued); !ok {
		t.Fatal("alice alone was not queued")
	}
	start, ok := first(fresh("bob", 2, false, "")).(*messages.Start)
	if !ok {
		t.Fatal("bob was not seated with alice")
	}
	first1 := start.RoundId
	if got := first(alice.ch); roundOf(got) != first1 {
		t.Fatalf("alice got %T, want the start of %s", got, first1)
	}

	// carol waits; alice again, on a new session of the previous release
	// (it names no round), while her round runs.
	carol := fresh("carol", 3, false, "")
	if _, ok := first(carol).(*messages.Queued); !ok {
		t.Fatal("carol alone was not queued")
	}
	got := first(fresh("alice", 4, false, ""))
	held, ok := got.(*messages.JoinHeld)
	if !ok {
		t.Fatalf("the other session of alice got %T, want JoinHeld: seated while her round runs", got)
	}
	if span := roundSpan(st); !time.UnixMilli(held.UntilUnixMs).Equal(clock.Now().Add(span).Truncate(time.Millisecond)) {
		t.Errorf("held until %v, want the round's span from its opening, %v", time.UnixMilli(held.UntilUnixMs), clock.Now().Add(span))
	}
	// A session of this release that names an older round, or none, is
	// held too.
	if got := first(fresh("alice", 5, true, "r-older")); !isType[*messages.JoinHeld](got) {
		t.Fatalf("alice's session naming an older round got %T, want JoinHeld", got)
	}

	// The session that sat in the round joins only once it is out of it:
	// seated at once, with carol.
	second := first(join(alice, "alice", 6, false, ""))
	if !seated(second) {
		t.Fatalf("the session that sat in the round got %T, want a seat", second)
	}
	if got := first(carol); roundOf(got) != roundOf(second) {
		t.Fatalf("carol got %T, want a seat with alice", got)
	}

	// A session whose join names an older round as its last is held; one
	// that names the round she sits in is not.
	erin := fresh("erin", 8, true, "")
	if _, ok := first(erin).(*messages.Queued); !ok {
		t.Fatal("erin alone was not queued")
	}
	if got := first(fresh("alice", 9, true, first1)); !isType[*messages.JoinHeld](got) {
		t.Fatalf("alice's session naming her older round got %T, want JoinHeld", got)
	}
	if got := first(fresh("alice", 10, true, roundOf(second))); !seated(got) {
		t.Fatalf("alice's session naming the round she sits in as left got %T, want a seat", got)
	}
	// The previous release names no round: its word cannot end the hold.
	if got := first(fresh("bob", 11, false, "")); seated(got) {
		t.Fatalf("bob's new session of the previous release was seated while his round runs")
	}

	// Past the round's span, a new session is seated without a word
	// from the player.
	clock.Advance(roundSpan(st) + time.Second)
	dave := fresh("dave", 12, false, "")
	if _, ok := first(dave).(*messages.Queued); !ok {
		t.Fatal("dave alone was not queued")
	}
	if got := first(fresh("alice", 13, false, "")); !seated(got) {
		t.Fatalf("after the round's span alice's new session got %T, want a seat", got)
	}
}

func isType[T any](v any) bool {
	_, ok := v.(T)
	return ok
}
