package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// sendAfter delivers msg to the calling actor after d. The callback runs on a
// timer goroutine and only sends; the actor stops the timer when it stops or
// restarts, and ignores a late one by its round id.
func sendAfter(ctx actor.Context, d time.Duration, msg any) *time.Timer {
	system, self := ctx.ActorSystem(), ctx.Self()
	return time.AfterFunc(d, func() { system.Root.Send(self, msg) })
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// dropTimer stops *t and lets it go: a stopped timer still referenced
// keeps its memory (an idle session would hold its spent ones for good).
func dropTimer(t **time.Timer) {
	stopTimer(*t)
	*t = nil
}
