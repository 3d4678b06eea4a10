package actors

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/metrics"
)

// deps is what the actors of one node share: settings, the inventory, the
// metrics, and the names of the node's long-lived actors. It is read-only
// after start; the PIDs are names, so they stay valid when an actor is made
// again.
type deps struct {
	settings Settings
	log      *slog.Logger
	inv      *Inventory
	metrics  *metrics.Metrics
	// lobby, rooms and players are this member's own; where the shared
	// ones are is place's answer (see lobbyPID, playersOf).
	lobby   *actor.PID
	rooms   *actor.PID
	players *actor.PID
	self    string // this member's address
	place   Placement
	// The Props of all sessions, of all players and of all rooms
	// (Inventory.spawn).
	sessionProps, playerProps, roomProps *actor.Props
	playerIdle                           time.Duration // playerIdle, but for tests
	// handovers park a resuming connection for the session it resumes.
	handovers handovers
	// hold, when set, is why the lobby seats no new rounds (the store's
	// disk is nearly full); nil seats as usual. Server.HoldSeating sets it.
	hold atomic.Pointer[string]
	// store and system: a session that cannot reach its player reads a
	// lost round's fate from the store itself, in a goroutine.
	store  caiquan.Store
	system *actor.ActorSystem
}

// Names of the node's long-lived actors, children of the node actor.
const (
	nodeName    = "node"
	lobbyName   = "lobby"
	roomsName   = "rooms"
	playersName = "players"
)

func newDeps(system *actor.ActorSystem, s Settings, inv *Inventory, m *metrics.Metrics) *deps {
	child := func(name string) *actor.PID { return actor.NewPID(system.Address(), nodeName+"/"+name) }
	place := s.Placement
	if place == nil {
		place = localPlacement{self: system.Address()}
	}
	log := s.Log
	if log == nil {
		log = system.Logger()
	}
	return &deps{settings: s, log: log, inv: inv, metrics: m, lobby: child(lobbyName), rooms: child(roomsName), players: child(playersName),
		self: system.Address(), place: place,
		sessionProps: inv.sharedProps(), playerProps: inv.sharedProps(),
		roomProps: inv.sharedProps(actor.WithSupervisor(stopOnFailure)), playerIdle: playerIdle}
}

// longLived are the node's children, in the order they start.
var longLived = []string{playersName, roomsName, lobbyName, adminName}

// node keeps the node's long-lived actors alive: a failure restarts them,
// and one that is stopped or poisoned is made again under the same name.
type node struct {
	d        *deps
	store    caiquan.Store
	stopping bool
}

func nodeProps(d *deps, store caiquan.Store) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &node{d: d, store: store}
	}, actor.WithSupervisor(restartOnFailure))
}

func (n *node) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		for _, name := range longLived {
			n.spawn(ctx, name)
		}
	case *actor.Stopping:
		n.stopping = true
	case *actor.Terminated:
		if n.stopping {
			return
		}
		for _, name := range longLived {
			if msg.Who.Id == ctx.Self().Id+"/"+name {
				n.d.log.Warn("node: remaking a stopped actor", "name", name)
				n.spawn(ctx, name)
			}
		}
	}
}

func (n *node) spawn(ctx actor.Context, name string) {
	var props *actor.Props
	switch name {
	case playersName:
		props = directoryProps(n.d, n.store)
	case roomsName:
		props = roomHostProps(n.d)
	case lobbyName:
		props = lobbyProps(n.d)
	case adminName:
		props = adminProps(n.d)
	}
	if _, err := ctx.SpawnNamed(props, name); err != nil {
		n.d.log.Error("node: spawn", "name", name, "err", err)
	}
}
