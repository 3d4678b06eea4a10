package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Clock is where the actors read the time and set their timers. The server
// runs on RealClock; a test passes a clock it advances itself, so a round's
// deadline or a bot's pause is a step of the test instead of a sleep.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f on a goroutine of the clock's once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the call; false if it already ran or was stopped.
	Stop() bool
	// Reset makes a timer, spent or not, call again after d.
	Reset(d time.Duration) bool
}

// RealClock is the system's clock and timers.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// sendAfter delivers msg to the calling actor after d. The callback runs on a
// timer goroutine and only sends; the actor stops the timer when it stops or
// restarts, and ignores a late one by its round id.
func sendAfter(ctx actor.Context, clock Clock, d time.Duration, msg any) Timer {
	system, self := ctx.ActorSystem(), ctx.Self()
	return clock.AfterFunc(d, func() { system.Root.Send(self, msg) })
}

func stopTimer(t Timer) {
	if t != nil {
		t.Stop()
	}
}

// dropTimer stops *t and lets it go: a stopped timer still referenced
// keeps its memory (an idle session would hold its spent ones for good).
func dropTimer(t *Timer) {
	stopTimer(*t)
	*t = nil
}
