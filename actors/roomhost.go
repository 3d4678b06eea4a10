package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// roomHost spawns the rooms of its node and counts them. Rooms are its
// children, stopped (never restarted) on failure: a room's promise on death
// is kept by the room's own Stopping handler.
type roomHost struct {
	d    *deps
	live int
}

func roomHostProps(d *deps) *actor.Props {
	return d.inv.props(KindRoomHost, roomsName, func() actor.Actor {
		return &roomHost{d: d}
	}, actor.WithSupervisor(stopOnFailure))
}

func (h *roomHost) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		// After a restart, the old instance's rooms are still stopping and
		// will each report Terminated here.
		h.live = len(ctx.Children())
	case *messages.RoomSpec:
		if _, err := spawnRoom(ctx, h.d, msg); err != nil {
			h.d.log.Error("room host: spawn room", "round", msg.RoundId, "err", err)
			h.refuse(ctx, msg)
			return
		}
		h.live++
		if ctx.Sender() != nil {
			ctx.Respond(&messages.RoomOpened{RoundId: msg.RoundId})
		}
	case *actor.Terminated:
		h.live--
	case *messages.StopRooms:
		for _, room := range ctx.Children() {
			ctx.Stop(room)
		}
	case *messages.GetRoomCount:
		ctx.Respond(&messages.RoomCount{Rooms: int32(h.live)})
	}
	h.d.metrics.RoomsInProgress.Set(float64(h.live))
}

// refuse ends a round that could not get a room, so nobody waits for it.
func (h *roomHost) refuse(ctx actor.Context, spec *messages.RoomSpec) {
	for _, s := range spec.Seats {
		ctx.Send(s.Session, &messages.Error{Code: messages.CodeServerBusy, Message: "no room could be opened; join again"})
	}
}
