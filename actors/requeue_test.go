package actors

import (
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

// A player who leaves the queue and joins again at once can be seated by
// its first join (its lobby seated it before the leave came) while the
// lobby holds the second. Seated, the session takes the second join back:
// else the lobby later seats another player against a session that is
// playing elsewhere or gone.
func TestSeatedByAnEarlierJoinTakesTheLaterOneBack(t *testing.T) {
	s := testSettings()
	s.BotFill = time.Hour // humans only
	srv, system := newTestServer(t, s)
	a := connect(t, srv, "a")
	a.join()
	a.expect("queued")
	a.send(&messages.Envelope{Body: &messages.Envelope_Leave{Leave: &messages.Leave{}}})
	a.join()
	a.expect("queued") // the lobby holds the second join

	// The start of a room the first join was seated in.
	room, _ := spawnSpy(system)
	start := &messages.Start{RoundId: "first", GameTimeMs: 60_000,
		RoomUsers: []*messages.RoomUser{{Uid: "a"}, {Uid: "x"}}}
	system.Root.RequestWithCustomSender(sessionPID(a), start, room)
	a.expect("start")

	b := connect(t, srv, "b")
	b.join()
	b.expect("queued") // alone: a sits in its round
}
