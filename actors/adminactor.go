package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
	"google.golang.org/protobuf/types/known/emptypb"
)

// adminName is the node's admin actor: it answers other members' admin
// APIs, so that any node's admin API lists and kills actors on every node.
const adminName = "admin"

func adminAt(addr string) *actor.PID { return actor.NewPID(addr, nodeName+"/"+adminName) }

// adminActor reads this node's inventory and kills its actors for another
// member's admin API. It is not in the inventory itself: it is plumbing,
// not part of the game.
type adminActor struct{ d *deps }

func adminProps(d *deps) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &adminActor{d: d} },
		actor.WithMailbox(newMailbox))
}

func (a *adminActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *emptypb.Empty:
		ctx.Respond(msg) // another member's probe (Server.PingMembers)
	case *messages.AdminList:
		out := &messages.AdminActors{}
		for _, info := range a.d.inv.List(msg.Kinds...) {
			out.Actors = append(out.Actors, toAdminActor(info))
		}
		ctx.Respond(out)
	case *messages.AdminKill:
		info, err := killLocal(ctx, a.d, msg.Pid, msg.Kind, msg.Id, msg.Mode)
		if err != nil {
			ctx.Respond(&messages.AdminKilled{NotFound: true})
			return
		}
		ctx.Respond(&messages.AdminKilled{Actor: toAdminActor(info)})
	}
}

// killer is what both an actor's context and the root context can do.
type killer interface {
	Stop(pid *actor.PID)
	Poison(pid *actor.PID)
	Send(pid *actor.PID, msg any)
}

// killLocal kills one of this node's actors; mode is already checked.
func killLocal(k killer, d *deps, pid, kind, id, mode string) (ActorInfo, error) {
	info, target, ok := d.inv.Find(pid, kind, id)
	if !ok {
		return ActorInfo{}, ErrNotFound
	}
	switch mode {
	case KillStop:
		k.Stop(target)
	case KillPoison:
		k.Poison(target)
	case KillPanic:
		k.Send(target, &messages.Crash{Reason: "killed by an operator"})
	}
	d.metrics.ActorKills.WithLabelValues(info.Kind, mode).Inc()
	return info, nil
}

func toAdminActor(i ActorInfo) *messages.AdminActor {
	return &messages.AdminActor{Kind: i.Kind, Id: i.ID, Pid: i.PID, Node: i.Node,
		StartedUnixMs: i.Started.UnixMilli(), Restarts: int32(i.Restarts), Mailbox: int32(i.Mailbox)}
}

func fromAdminActor(a *messages.AdminActor) ActorInfo {
	return ActorInfo{Kind: a.Kind, ID: a.Id, PID: a.Pid, Node: a.Node,
		Started: time.UnixMilli(a.StartedUnixMs), Restarts: int(a.Restarts), Mailbox: int(a.Mailbox)}
}
