package actors

import (
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
