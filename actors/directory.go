package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// directory finds or makes the player actor of a uid and counts the sessions
// online. Players are its children; a player that stops is made again, from
// the store, the next time someone needs it.
type directory struct {
	store    Store
	players  map[string]*actor.PID
	byPID    map[string]string // player PID id -> uid
	sessions map[string]bool   // session PID id -> online
}

func directoryProps(store Store) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &directory{store: store}
	}, actor.WithSupervisor(restartOnFailure))
}

func (d *directory) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		d.players = make(map[string]*actor.PID)
		d.byPID = make(map[string]string)
		d.sessions = make(map[string]bool)
		// After a restart the children are gone with the old instance; the
		// sessions re-register when they next need a player.
	case *messages.Register:
		d.handleRegister(ctx, msg)
	case *messages.ApplyRound:
		ctx.Forward(d.player(ctx, msg.Uid))
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
	if !d.sessions[session.Id] {
		d.sessions[session.Id] = true
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
	pid, err := ctx.SpawnNamed(playerProps(uid, d.store), uid)
	if err != nil {
		// The name is still registered by a player that is stopping;
		// its PID is the one to talk to, and it will be re-made after.
		ctx.Logger().Warn("directory: spawn player", "uid", uid, "err", err)
	}
	d.players[uid] = pid
	d.byPID[pid.Id] = uid
	return pid
}

func (d *directory) handleTerminated(msg *actor.Terminated) {
	if uid, ok := d.byPID[msg.Who.Id]; ok {
		delete(d.byPID, msg.Who.Id)
		if pid := d.players[uid]; pid != nil && pid.Id == msg.Who.Id {
			delete(d.players, uid)
		}
		return
	}
	delete(d.sessions, msg.Who.Id)
}
