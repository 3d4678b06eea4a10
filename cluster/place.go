package cluster

import (
	"hash/fnv"
	"slices"
	"time"
)

// Where the game's shared actors run. Node implements actors.Placement:
// the lobby and each uid's player are placed by rendezvous hashing over the
// member addresses, so every member that sees the same member list places
// them alike, and a member that joins or leaves moves only what it takes
// or held. Rooms are not placed here: the lobby spreads them over
// RoomHosts and they stay where they started.

// LobbyKey is the placement key of the one lobby.
const LobbyKey = "lobby"

// Place is the address of the member that key belongs to, as this member's
// member list has it; this member's own address before it has a list.
func (n *Node) Place(key string) string {
	addrs := n.addrs()
	if len(addrs) == 0 {
		return n.self
	}
	return PlaceAmong(key, addrs)
}

// Lobby is the member whose lobby seats players.
func (n *Node) Lobby() string { return n.Place(LobbyKey) }

// Player is the member that keeps uid's player actor.
func (n *Node) Player(uid string) string { return n.Place("player/" + uid) }

// RoomHosts are the members, sorted by address.
func (n *Node) RoomHosts() []string {
	addrs := n.addrs()
	if len(addrs) == 0 {
		return []string{n.self}
	}
	return addrs
}

// MaySeat reports whether this member's lobby may seat players now: it is
// the lobby's member, it is not fenced, and it has not just woken from a
// stall that the pause watch has yet to judge (a lobby's timer may fire
// before the watch's after SIGCONT).
func (n *Node) MaySeat() bool {
	return n.Live() && n.Lobby() == n.self
}

// Live reports whether this member is neither fenced nor just woken from
// a stall that the pause watch has yet to judge. A room on a member that is
// not Live voids its round instead of settling it: the others may have
// moved its players on.
func (n *Node) Live() bool {
	return !n.isFenced.Load() && n.awake()
}

// awake reports whether the pause watch has ticked within the pause limit.
func (n *Node) awake() bool {
	last := n.lastTick.Load()
	return last != 0 && time.Since(time.Unix(0, last)) < n.cfg.pauseLimit()
}

// OnChange sets f to be called after every change of the member list. f
// must not block: it runs inside the library's topology update.
func (n *Node) OnChange(f func()) { n.onChange.Store(&f) }

func (n *Node) addrs() []string {
	if p := n.addrList.Load(); p != nil {
		return *p
	}
	return nil
}

func (n *Node) setAddrs(addrs []string) {
	slices.Sort(addrs)
	n.addrList.Store(&addrs)
	if f := n.onChange.Load(); f != nil {
		(*f)()
	}
}

// PlaceAmong is Place over the given member addresses: what every member
// with that member list answers. Tests use it to know where the lobby is.
func PlaceAmong(key string, addrs []string) string {
	best, bestScore := "", uint64(0)
	for _, a := range addrs {
		h := fnv.New64a()
		h.Write([]byte(key))
		h.Write([]byte{0})
		h.Write([]byte(a))
		if s := h.Sum64(); best == "" || s > bestScore {
			best, bestScore = a, s
		}
	}
	return best
}
