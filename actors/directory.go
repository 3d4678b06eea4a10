package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/messages"
	"google.golang.org/protobuf/proto"
)

// directory finds or makes the player actor of a uid and counts the sessions
// online. Players are its children under generated names, so a new player
// for a uid never waits for the old one's name to be free.
type directory struct {
	d        *deps
	store    caiquan.Store
	players  map[string]*actor.PID // uid -> the current player
	byPID    map[string]string     // player PID id -> uid
	sessions map[string]*actor.PID // session PID id -> session
	// keeps holds what a uid's player actor keeps across its lives on this
	// member (playerKeep), while it has a live player: one made again at
	// once (it was killed, or it failed) keeps the rounds the old one
	// refused.
	keeps map[string]*playerKeep
	made  uint64
}

func directoryProps(d *deps, store caiquan.Store) *actor.Props {
	return d.inv.props(KindDirectory, playersName, func() actor.Actor {
		return &directory{d: d, store: store}
	}, actor.WithSupervisor(restartPlayers(d.log)))
}

func (d *directory) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		d.players = make(map[string]*actor.PID)
		d.byPID = make(map[string]string)
		d.sessions = make(map[string]*actor.PID)
		d.keeps = make(map[string]*playerKeep)
	case *actor.Restarting, *actor.Stopping:
		// The players go with this instance; every session registers again.
		for _, s := range d.sessions {
			ctx.Send(s, &messages.Reattach{})
		}
	case *messages.Register:
		if !d.d.ownsPlayer(msg.Uid) && !msg.Forwarded {
			fwd := proto.Clone(msg).(*messages.Register)
			fwd.Forwarded = true
			d.passOn(ctx, msg.Uid, fwd)
			return
		}
		d.handleRegister(ctx, msg)
	case *messages.ApplyRound:
		if !d.d.ownsPlayer(msg.Uid) && !msg.Forwarded {
			fwd := proto.Clone(msg).(*messages.ApplyRound)
			fwd.Forwarded = true
			d.passOn(ctx, msg.Uid, fwd)
			return
		}
		ctx.Forward(d.player(ctx, msg.Uid))
	case *messages.PlayerOp:
		if !d.d.ownsPlayer(msg.Uid) && !msg.Forwarded {
			fwd := proto.Clone(msg).(*messages.PlayerOp)
			fwd.Forwarded = true
			d.passOn(ctx, msg.Uid, fwd)
			return
		}
		ctx.Forward(d.player(ctx, msg.Uid))
	case *messages.AbortRound:
		if !d.d.ownsPlayer(msg.Uid) && !msg.Forwarded {
			fwd := proto.Clone(msg).(*messages.AbortRound)
			fwd.Forwarded = true
			d.passOn(ctx, msg.Uid, fwd)
			return
		}
		ctx.Forward(d.player(ctx, msg.Uid))
	case *messages.ResultQuery:
		if !d.d.ownsPlayer(msg.Uid) && !msg.Forwarded {
			fwd := proto.Clone(msg).(*messages.ResultQuery)
			fwd.Forwarded = true
			d.passOn(ctx, msg.Uid, fwd)
			return
		}
		if pid, ok := d.players[msg.Uid]; ok {
			ctx.Forward(pid) // a player made for this would hold nothing
		}
	case *messages.Free:
		if pid, ok := d.players[msg.Uid]; ok {
			ctx.Forward(pid) // a player made since has no session waiting on it
		}
	case *messages.TopologyChanged:
		d.handleTopology(ctx)
	case *messages.PlayerStopping:
		d.handlePlayerStopping(ctx, msg)
	case *messages.GetOnline:
		ctx.Respond(&messages.Online{Sessions: int32(len(d.sessions)), Players: int32(len(d.players))})
	case *messages.SessionEnded:
		if s, ok := d.sessions[msg.Session.GetId()]; ok && s.Equal(msg.Session) {
			delete(d.sessions, msg.Session.Id)
		}
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
		// Another member's session cannot tell this directory it ended
		// (its member may die), and a forwarded Register may arrive after
		// the session's SessionEnded: those are watched.
		if msg.Forwarded || session.Address != ctx.Self().Address {
			ctx.Watch(session)
		}
	}
	ctx.Send(d.player(ctx, msg.Uid), &messages.Attach{
		Session:       session,
		Online:        int32(len(d.sessions)),
		Uname:         msg.Uname,
		Uavatar:       msg.Uavatar,
		SinceUnixNano: msg.SinceUnixNano,
		Reload:        msg.Reload,
	})
}

func (d *directory) player(ctx actor.Context, uid string) *actor.PID {
	if pid, ok := d.players[uid]; ok {
		return pid
	}
	keep := d.keeps[uid]
	if keep == nil {
		keep = &playerKeep{}
		d.keeps[uid] = keep
	}
	pid := spawnPlayer(ctx, d.d, uid, d.store, keep)
	d.players[uid] = pid
	d.byPID[pid.Id] = uid
	return pid
}

// handlePlayerStopping makes a new player at once for a session that was
// attached to one that stopped, so that session keeps its one player. Every
// stopping player says so, attached or not.
func (d *directory) handlePlayerStopping(ctx actor.Context, msg *messages.PlayerStopping) {
	if pid := d.players[msg.Uid]; pid != nil && pid.Equal(ctx.Sender()) {
		delete(d.players, msg.Uid)
	}
	switch {
	case msg.Session == nil:
	case d.d.ownsPlayer(msg.Uid):
		ctx.Send(d.player(ctx, msg.Uid), &messages.Attach{Session: msg.Session, Online: int32(len(d.sessions)), SinceUnixNano: msg.SessionSinceUnixNano})
	default:
		// The uid moved to another member: the session registers there.
		ctx.Send(msg.Session, &messages.Reattach{})
	}
	// Here, not at Terminated, which overtakes this and would drop the
	// keep of a player about to be made again.
	if d.players[msg.Uid] == nil {
		delete(d.keeps, msg.Uid)
	}
}

// passOn sends a message about uid to the directory that keeps uid's
// player, keeping its sender (the session or room that waits for the
// answer). A forwarded message is not passed on again, so two members that
// disagree about the owner cannot bounce it between them.
func (d *directory) passOn(ctx actor.Context, uid string, msg proto.Message) {
	ctx.RequestWithCustomSender(d.d.playersOf(uid), msg, ctx.Sender())
}

// handleTopology stops the players whose uid another member keeps now. Each
// stopping player tells this directory (PlayerStopping), which sends its
// session to register with the new owner. Their records are in the store.
func (d *directory) handleTopology(ctx actor.Context) {
	for uid, pid := range d.players {
		if !d.d.ownsPlayer(uid) {
			ctx.Stop(pid)
		}
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
