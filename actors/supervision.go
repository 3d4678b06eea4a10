package actors

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// stopOnFailure is for actors whose state cannot be rebuilt mid-flight (a
// session, a room, a bot): they stop, and their Stopping handler keeps the
// promise (close the socket, void the round).
var stopOnFailure = actor.NewOneForOneStrategy(0, time.Second, func(any) actor.Directive {
	return actor.StopDirective
})

// restartOnFailure is for actors that rebuild themselves when they start
// (the lobby, the directory, the room host, players): they restart, up to
// 100 times in 10 s, and then stop.
var restartOnFailure = actor.NewOneForOneStrategy(100, 10*time.Second, func(any) actor.Directive {
	return actor.RestartDirective
})

// restartPlayers is the directory's strategy for its players. A player fails
// mostly when the store does (it panics when it cannot load its record), and
// a store that is down stays down for a while: restarting at once, as
// restartOnFailure does, would spin, give up after 100 tries, and the
// directory would make the player again at once. So the first failure
// restarts at once (a one-off, such as an operator's kill) and each further
// one within playerBackoffWindow waits twice as long, up to playerBackoffMax;
// a player is never given up. Its mailbox waits meanwhile, so an Attach or an
// ApplyRound is handled once the store answers again (the room and the
// session have their own timeouts).
func restartPlayers(log *slog.Logger) actor.SupervisorStrategy {
	return backoffRestart{first: 50 * time.Millisecond, max: playerBackoffMax, window: playerBackoffWindow, log: log}
}

const (
	playerBackoffMax    = 5 * time.Second
	playerBackoffWindow = 30 * time.Second
)

type backoffRestart struct {
	first, max, window time.Duration
	log                *slog.Logger // nil: the actor system's
}

// backoffDelay is how long the n-th failure in a row waits before its restart.
func (b backoffRestart) backoffDelay(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	d := b.first
	for i := 2; i < n && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

func (b backoffRestart) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, _ any) {
	if rs.NumberOfFailures(b.window) == 0 {
		rs.Reset()
	}
	rs.Fail()
	delay := b.backoffDelay(rs.FailureCount())
	log := b.log
	if log == nil {
		log = sys.Logger()
	}
	log.Warn("actor failed; restarting", "pid", child.Id, "reason", reason, "after", delay)
	if delay == 0 {
		sup.RestartChildren(child)
		return
	}
	time.AfterFunc(delay, func() { sup.RestartChildren(child) })
}
