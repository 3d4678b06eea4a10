package actors

import (
	"testing"

	"github.com/caiquan/caiquan/messages"
)

// Of two sessions of a uid the player keeps the one whose hello came
// later, whichever Register reaches it last: an old session whose player
// died asks again (attachRetry) and may arrive after the new connection
// attached; taking it then closed the new connection.
func TestPlayerKeepsTheLaterSession(t *testing.T) {
	srv, system := newTestServer(t, testSettings())
	register := func(since int64) (chan any, func()) {
		pid, ch := spawnSpy(system)
		again := func() {
			system.Root.RequestWithCustomSender(srv.d.players, &messages.Register{Uid: "a", SinceUnixNano: since}, pid)
		}
		again()
		return ch, again
	}

	newer, newerAgain := register(2000)
	recvType[*messages.Attached](t, newer, recvTimeout)
	older, _ := register(1000)
	if m := recv(t, older, recvTimeout); !isKick(m) {
		t.Fatalf("the older session got %T, want Kick: the later session keeps the player", m)
	}
	// Anything the player sent the newer session before this Attached
	// comes first: it must have been nothing.
	newerAgain()
	if m := recv(t, newer, recvTimeout); !isAttached(m) {
		t.Fatalf("the newer session got %T, want only its Attached: it was replaced by an older one", m)
	}

	// The later hello still replaces an attached older session.
	latest, _ := register(3000)
	recvType[*messages.Attached](t, latest, recvTimeout)
	if !isKick(recv(t, newer, recvTimeout)) {
		t.Fatal("the session of a later hello did not replace the attached one")
	}
}

func isAttached(m any) bool {
	_, ok := m.(*messages.Attached)
	return ok
}

func isKick(m any) bool {
	_, ok := m.(*messages.Kick)
	return ok
}
