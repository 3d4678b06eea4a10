package actors

import "github.com/asynkron/protoactor-go/actor"

// Placement says which member of a cluster runs the actors that are shared
// by all members: the one lobby that seats players, the room hosts, and the
// directory that keeps each uid's player actor. Members are named by their
// actor system address. A nil Placement is a single node: everything here.
//
// Rooms are not grains: a room lives where the lobby opened it until its
// round ends, so a member joining or leaving never moves (or aborts) a
// round in progress. Lobby and players may move when the member list
// changes; their state is soft (the lobby's queue is repeated by every
// waiting session) or in the store (a player's record).
type Placement interface {
	// Lobby is the address of the member whose lobby seats players.
	Lobby() string
	// MaySeat reports whether this member's lobby may seat players now: it
	// is the lobby's member and it is Live.
	MaySeat() bool
	// Live reports whether this member may settle rounds: it is not cut off
	// from the cluster, and has not just woken from a stall that may have
	// made it so.
	Live() bool
	// RoomHosts are the members that may host rooms, in a stable order.
	RoomHosts() []string
	// Player is the address of the member that keeps uid's player actor.
	Player(uid string) string
}

// localPlacement is a single node.
type localPlacement struct{ self string }

func (p localPlacement) Lobby() string        { return p.self }
func (p localPlacement) MaySeat() bool        { return true }
func (p localPlacement) Live() bool           { return true }
func (p localPlacement) RoomHosts() []string  { return []string{p.self} }
func (p localPlacement) Player(string) string { return p.self }

// lobbyAt, roomsAt and playersAt name a member's long-lived actors.
func lobbyAt(addr string) *actor.PID   { return actor.NewPID(addr, nodeName+"/"+lobbyName) }
func roomsAt(addr string) *actor.PID   { return actor.NewPID(addr, nodeName+"/"+roomsName) }
func playersAt(addr string) *actor.PID { return actor.NewPID(addr, nodeName+"/"+playersName) }

// lobbyPID is where joins go now.
func (d *deps) lobbyPID() *actor.PID {
	if a := d.place.Lobby(); a != "" && a != d.self {
		return lobbyAt(a)
	}
	return d.lobby
}

// playersOf is the directory that keeps uid's player now.
func (d *deps) playersOf(uid string) *actor.PID {
	if a := d.place.Player(uid); a != "" && a != d.self {
		return playersAt(a)
	}
	return d.players
}

// ownsPlayer reports whether uid's player belongs on this member.
func (d *deps) ownsPlayer(uid string) bool {
	a := d.place.Player(uid)
	return a == "" || a == d.self
}

// remote tells whether pid lives on another member. A lobby watches its
// sessions, and a session its room, only across members: on their own
// member a session that stops leaves its queue itself, and a room that
// stops publishes or voids its round itself, and a watch costs a system
// message each way. (A room watches all its sessions: one that dies before
// it takes its seat says nothing.)
func remote(ctx actor.Context, pid *actor.PID) bool {
	return pid.Address != ctx.Self().Address
}
