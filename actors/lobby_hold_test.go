package actors

import (
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

// A join from another session of a uid that sits in a round the lobby
// opened is held (JoinHeld) until that round is over, unless the uid's
// player said it is: a session of the previous release does not tell the
// player of its seat, so only the lobby knows (a client cut off by such a
// node while draining came back elsewhere mid-round and sat in two rounds
// at once).
func TestLobbyHoldsASecondSessionOfASeatedUid(t *testing.T) {
	clock := newFakeClock()
	st := testSettings()
	st.Clock, st.BotFill = clock, time.Hour // humans only
	srv, system := newTestServer(t, st)
	join := func(uid string, ticket uint64, over bool, roundsOver ...string) chan any {
		pid, ch := spawnSpy(system)
		system.Root.Send(srv.d.lobby, &messages.JoinQueue{
			Seat:   &messages.SeatInfo{Uid: uid, Session: pid},
			Ticket: ticket, OtherRoundOver: over, RoundsOver: roundsOver,
		})
		return ch
	}
	// first is a session's first Start or Queued. A join that the lobby
	// seats at once gets a Start only; one that waits, Queued first.
	first := func(ch chan any) any {
		t.Helper()
		for {
			switch m := recv(t, ch, recvTimeout).(type) {
			case *messages.Start, *messages.Queued, *messages.JoinHeld:
				return m
			}
		}
	}
	alice := join("alice", 1, false)
	if _, ok := first(alice).(*messages.Queued); !ok {
		t.Fatal("alice alone was not queued")
	}
	start, ok := first(join("bob", 2, false)).(*messages.Start)
	if !ok {
		t.Fatal("bob was not seated with alice")
	}
	first1 := start.RoundId

	// carol waits; alice again, on a new session, while her round runs.
	carol := join("carol", 3, false)
	if _, ok := first(carol).(*messages.Queued); !ok {
		t.Fatal("carol alone was not queued")
	}
	got := first(join("alice", 4, false))
	held, ok := got.(*messages.JoinHeld)
	if !ok {
		t.Fatalf("the other session of alice got %T, want JoinHeld: seated while her round runs", got)
	}
	if span := openTimeout + st.RoundTime + st.settleWithin() + finalAsks*st.SettleRetry; !time.UnixMilli(held.UntilUnixMs).Equal(clock.Now().Add(span).Truncate(time.Millisecond)) {
		t.Errorf("held until %v, want the round's span from its opening, %v", time.UnixMilli(held.UntilUnixMs), clock.Now().Add(span))
	}

	// Her player said the round is over: seated at once, with carol.
	over := join("alice", 5, true)
	if _, ok := first(over).(*messages.Start); !ok {
		t.Fatal("a session whose player said the other round is over was not seated")
	}
	second, ok := first(carol).(*messages.Start)
	if !ok {
		t.Fatal("carol was not seated with alice")
	}

	// A session whose player names an older round as its last is held;
	// one that names the round she sits in is not.
	erin := join("erin", 8, false)
	if _, ok := first(erin).(*messages.Queued); !ok {
		t.Fatal("erin alone was not queued")
	}
	if got := first(join("alice", 9, false, first1)); !isType[*messages.JoinHeld](got) {
		t.Fatalf("alice's session naming her older round got %T, want JoinHeld", got)
	}
	if got := first(join("alice", 10, false, "r-other", second.RoundId)); !isType[*messages.Start](got) {
		t.Fatalf("alice's session naming the round she sits in as over got %T, want Start", got)
	}

	// Past the round's span, a new session is seated without a word
	// from the player.
	clock.Advance(openTimeout + st.RoundTime + st.settleWithin() + finalAsks*st.SettleRetry + time.Second)
	dave := join("dave", 11, false)
	if _, ok := first(dave).(*messages.Queued); !ok {
		t.Fatal("dave alone was not queued")
	}
	if got := first(join("alice", 12, false)); !isType[*messages.Start](got) {
		t.Fatalf("after the round's span alice's new session got %T, want Start", got)
	}
}

func isType[T any](v any) bool {
	_, ok := v.(T)
	return ok
}
