package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// roomHost spawns the rooms of its node and counts them. Rooms are its
// children, stopped (never restarted) on failure: a room's promise on death
// is a void notice, kept by the room's own Stopping handler.
type roomHost struct {
	settings Settings
	players  *actor.PID
	live     int
}

func roomHostProps(s Settings, players *actor.PID) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &roomHost{settings: s, players: players}
	}, actor.WithSupervisor(stopOnFailure))
}

func (h *roomHost) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		h.live = len(ctx.Children())
	case *messages.RoomSpec:
		if _, err := ctx.SpawnNamed(roomProps(h.settings, h.players, msg), msg.RoundId); err != nil {
			ctx.Logger().Error("room host: spawn room", "round", msg.RoundId, "err", err)
			return
		}
		h.live++
	case *actor.Terminated:
		h.live--
	case *messages.StopRooms:
		for _, room := range ctx.Children() {
			ctx.Stop(room)
		}
	case *messages.GetRoomCount:
		ctx.Respond(&messages.RoomCount{Rooms: int32(h.live)})
	}
}
