package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// directory finds or makes the player actor of a uid and counts the sessions
// online. Players are its children under generated names, so a new player
// for a uid never waits for the old one's name to be free.
type directory struct {
	d        *deps
	store    Store
	players  map[string]*actor.PID // uid -> the current player
	byPID    map[string]string     // player PID id -> uid
	sessions map[string]*actor.PID // session PID id -> session
	made     uint64
}

func directoryProps(d *deps, store Store) *actor.Props {
	return d.inv.props(KindDirectory, playersName, func() actor.Actor {
		return &directory{d: d, store: store}
	}, actor.WithSupervisor(restartPlayers))
}

func (d *directory) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		d.players = make(map[string]*actor.PID)
		d.byPID = make(map[string]string)
		d.sessions = make(map[string]*actor.PID)
	case *actor.Restarting, *actor.Stopping:
		// The players go with this instance; every session registers again.
		for _, s := range d.sessions {
			ctx.Send(s, &messages.Reattach{})
		}
	case *messages.Register:
		d.handleRegister(ctx, msg)
	case *messages.ApplyRound:
		ctx.Forward(d.player(ctx, msg.Uid))
	case *messages.PlayerStopping:
		d.handlePlayerStopping(ctx, msg)
	case *messages.GetOnline:
		ctx.Respond(&messages.Online{Sessions: int32(len(d.sessions)), Players: int32(len(d.players))})
	case *actor.Terminated:
		d.handleTerminated(msg)
	}
}

func (d *directory) handleRegister(ctx actor.Context, msg *messages.Register) {
	session := ctx.Sender()
	if session == nil {
		return
	}
	if _, ok := d.sessions[session.Id]; !ok {
		d.sessions[session.Id] = session
		ctx.Watch(session)
	}
	ctx.Send(d.player(ctx, msg.Uid), &messages.Attach{
		Session: session,
		Online:  int32(len(d.sessions)),
		Uname:   msg.Uname,
		Uavatar: msg.Uavatar,
	})
}

func (d *directory) player(ctx actor.Context, uid string) *actor.PID {
	if pid, ok := d.players[uid]; ok {
		return pid
	}
	pid := ctx.Spawn(playerProps(d.d, uid, d.store))
	d.players[uid] = pid
	d.byPID[pid.Id] = uid
	return pid
}

// handlePlayerStopping makes a new player at once for a session that was
// attached to one that stopped, so that session keeps its one player.
func (d *directory) handlePlayerStopping(ctx actor.Context, msg *messages.PlayerStopping) {
	if pid := d.players[msg.Uid]; pid != nil && pid.Equal(ctx.Sender()) {
		delete(d.players, msg.Uid)
	}
	if msg.Session != nil {
		ctx.Send(d.player(ctx, msg.Uid), &messages.Attach{Session: msg.Session, Online: int32(len(d.sessions))})
	}
}

func (d *directory) handleTerminated(msg *actor.Terminated) {
	if uid, ok := d.byPID[msg.Who.Id]; ok {
		delete(d.byPID, msg.Who.Id)
		if pid := d.players[uid]; pid != nil && pid.Equal(msg.Who) {
			delete(d.players, uid)
		}
		return
	}
	delete(d.sessions, msg.Who.Id)
}
