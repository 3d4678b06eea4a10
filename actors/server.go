package actors

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/metrics"
	"google.golang.org/protobuf/types/known/emptypb"
)

// askTimeout bounds the server's own questions to its actors.
const askTimeout = 2 * time.Second

// Server is one node's actors: the node actor with the lobby, the room host
// and the player directory under it, and a session per connection. It
// implements Opener for the gateway.
type Server struct {
	system *actor.ActorSystem
	d      *deps
	node   *actor.PID
	// sessions spawns session actors under a guardian that stops them on
	// failure: a failed session closes its socket instead of restarting.
	sessions *actor.RootContext
}

// NewServer starts the node's long-lived actors on system.
func NewServer(system *actor.ActorSystem, s Settings, store caiquan.Store, m *metrics.Metrics) (*Server, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	if m == nil {
		m = metrics.New()
	}
	d := newDeps(system, s, NewInventory(m), m)
	d.store, d.system = store, system
	top := actor.NewRootContext(system, nil).WithGuardian(restartOnFailure)
	node, err := top.SpawnNamed(nodeProps(d, store), nodeName)
	if err != nil {
		return nil, fmt.Errorf("actors: spawn node: %w", err)
	}
	srv := &Server{
		system:   system,
		d:        d,
		node:     node,
		sessions: actor.NewRootContext(system, nil).WithGuardian(stopOnFailure),
	}
	return srv, srv.waitReady()
}

// waitReady returns once the node's actors answer: the node spawns them
// when it starts, which is after NewServer's spawn returns.
func (s *Server) waitReady() error {
	asks := map[*actor.PID]any{s.d.lobby: &messages.GetDrainStatus{}, s.d.rooms: &messages.GetRoomCount{}, s.d.players: &messages.GetOnline{}}
	for pid, msg := range asks {
		var err error
		for try := 0; try < 100; try++ {
			if _, err = s.system.Root.RequestFuture(pid, msg, 50*time.Millisecond).Result(); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("actors: %s did not start: %w", pid.Id, err)
		}
	}
	return nil
}

// Inventory lists the node's live actors.
func (s *Server) Inventory() *Inventory { return s.d.inv }

// SetDelay delays or drops the messages other actors send to this node's
// actors of a kind (see Inventory.SetDelay).
func (s *Server) SetDelay(spec DelaySpec) error { return s.d.inv.SetDelay(spec) }

// Delays lists this node's delays in force.
func (s *Server) Delays() []Delay { return s.d.inv.Delays() }

// OpenSession spawns the session actor of a new connection.
func (s *Server) OpenSession(conn Conn) Session {
	h := &sessionHandle{root: s.system.Root}
	h.pid.Store(spawnSession(s.sessions, s.d, conn, h))
	return h
}

var _ AckSession = (*sessionHandle)(nil)

// ackedEnvelope is a client message whose sender waits for the verdict;
// local to the node, like the session.
type ackedEnvelope struct {
	env *messages.Envelope
	ack func(code, message string)
	at  int64 // when the gateway handed it on (Unix nanoseconds), as stampedMove's
}

// Kill modes of the admin API.
const (
	KillStop   = "stop"   // stop at once; the mailbox is dropped
	KillPoison = "poison" // stop after the messages already queued
	KillPanic  = "panic"  // fail inside Receive; supervision decides
)

// KillModes lists every kill mode.
var KillModes = []string{KillStop, KillPoison, KillPanic}

// ErrNotFound is returned by Kill for an actor that is not (or no longer) live.
var ErrNotFound = errors.New("actors: no such live actor")

// Kill kills the live actor with the given PID id, or of the given kind and
// id, in the given mode, and says which actor it was. node is the member
// the actor lives on (ActorInfo.Node); "" means this one, and in a cluster
// then every member in turn for an actor named by kind and id.
func (s *Server) Kill(node, pid, kind, id, mode string) (ActorInfo, error) {
	switch mode {
	case KillStop, KillPoison, KillPanic:
	default:
		return ActorInfo{}, fmt.Errorf("actors: unknown kill mode %q (stop, poison or panic)", mode)
	}
	if node == "" || node == s.d.self {
		info, err := killLocal(s.system.Root, s.d, pid, kind, id, mode)
		if err == nil || node != "" || pid != "" {
			return info, err
		}
	}
	for _, member := range s.members() {
		if member == s.d.self || (node != "" && member != node) {
			continue
		}
		res, err := s.system.Root.RequestFuture(adminAt(member), &messages.AdminKill{Pid: pid, Kind: kind, Id: id, Mode: mode}, askTimeout).Result()
		if err != nil {
			return ActorInfo{}, fmt.Errorf("actors: member %s did not answer: %w", member, err)
		}
		if k, ok := res.(*messages.AdminKilled); ok && !k.NotFound {
			return fromAdminActor(k.Actor), nil
		}
	}
	return ActorInfo{}, ErrNotFound
}

// List returns the live actors of the given kinds (all when none) on every
// member, sorted by node, kind and id. A member that does not answer within
// askTimeout is left out.
func (s *Server) List(kinds ...string) []ActorInfo {
	out := s.d.inv.List(kinds...)
	members := s.members()
	if len(members) < 2 {
		return out
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, member := range members {
		if member == s.d.self {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.system.Root.RequestFuture(adminAt(member), &messages.AdminList{Kinds: kinds}, askTimeout).Result()
			list, ok := res.(*messages.AdminActors)
			if err != nil || !ok {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, a := range list.Actors {
				out = append(out, fromAdminActor(a))
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b ActorInfo) int {
		return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.Kind, b.Kind), strings.Compare(a.ID, b.ID))
	})
	return out
}

// members are the cluster's members (this node alone when not clustered).
func (s *Server) members() []string { return s.d.place.RoomHosts() }

// PingMembers sends every other member's node a probe over the remote
// connection the game's messages take, and reports each round trip, or
// the error of a probe unanswered within timeout, to f. It returns when
// every probe has.
func (s *Server) PingMembers(timeout time.Duration, f func(member string, rtt time.Duration, err error)) {
	var wg sync.WaitGroup
	for _, member := range s.members() {
		if member == s.d.self {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			_, err := s.system.Root.RequestFuture(adminAt(member), &emptypb.Empty{}, timeout).Result()
			f(member, time.Since(start), err)
		}()
	}
	wg.Wait()
}

// Drain stops the lobby from seating anyone and waits until every room in
// progress has finished, or ctx ends.
func (s *Server) Drain(ctx context.Context) error {
	if _, err := s.system.Root.RequestFuture(s.d.lobby, &messages.Drain{}, askTimeout).Result(); err != nil {
		return fmt.Errorf("actors: drain lobby: %w", err)
	}
	return s.waitNoRooms(ctx)
}

// HoldSeating stops the lobby from seating new rounds, for reason (told to
// the players who join, with server_busy); rounds in progress go on.
// ResumeSeating undoes it.
func (s *Server) HoldSeating(reason string) {
	s.d.hold.Store(&reason)
	s.system.Root.Send(s.d.lobby, &messages.MatchTick{})
}

// ResumeSeating seats again after HoldSeating.
func (s *Server) ResumeSeating() { s.d.hold.Store(nil) }

// GoAway asks every session of this node to close its socket with
// going-away once it has passed on what its mailbox already holds (the
// results of the rounds a drain let finish). It does not wait.
func (s *Server) GoAway(reason string) {
	for _, info := range s.d.inv.List(KindSession) {
		s.system.Root.Send(actor.NewPID(info.Node, info.PID), &messages.GoAway{Reason: reason})
	}
}

// StopRooms stops every room in progress, each ending its round with a void
// notice (or its result, if it was settling), and waits until they are gone
// or ctx ends. Drain's last resort.
func (s *Server) StopRooms(ctx context.Context) error {
	s.system.Root.Send(s.d.rooms, &messages.StopRooms{})
	return s.waitNoRooms(ctx)
}

// waitNoRooms polls the room count until it is zero or ctx ends.
func (s *Server) waitNoRooms(ctx context.Context) error {
	for {
		n, err := s.Rooms()
		if err == nil && n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("actors: %d rooms still in progress: %w", n, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Rooms is the number of rooms in progress on this node.
func (s *Server) Rooms() (int, error) {
	res, err := s.system.Root.RequestFuture(s.d.rooms, &messages.GetRoomCount{}, askTimeout).Result()
	if err != nil {
		return 0, err
	}
	return int(res.(*messages.RoomCount).Rooms), nil
}

// Online is the number of sessions that said hello.
func (s *Server) Online() (int, error) {
	res, err := s.system.Root.RequestFuture(s.d.players, &messages.GetOnline{}, askTimeout).Result()
	if err != nil {
		return 0, err
	}
	return int(res.(*messages.Online).Sessions), nil
}

// TopologyChanged tells the node's lobby and directory that the cluster's
// member list changed: a lobby that no longer seats gives its queue up, a
// directory stops the players another member keeps now. It does not block.
func (s *Server) TopologyChanged() {
	s.system.Root.Send(s.d.lobby, &messages.TopologyChanged{})
	s.system.Root.Send(s.d.players, &messages.TopologyChanged{})
}

// PlayerOp asks uid's player actor, on whichever member keeps it, to
// rename (with uname), reset, ban, unban or delete the player (the Op*
// constants), and waits for it.
func (s *Server) PlayerOp(uid, op, uname string) (kicked bool, err error) {
	switch op {
	case OpRename, OpReset, OpBan, OpUnban, OpDelete:
	default:
		return false, fmt.Errorf("actors: unknown player operation %q", op)
	}
	res, err := s.system.Root.RequestFuture(s.d.playersOf(uid), &messages.PlayerOp{Uid: uid, Op: op, Uname: uname}, 2*askTimeout).Result()
	if err != nil {
		return false, fmt.Errorf("actors: the player did not answer: %w", err)
	}
	done, ok := res.(*messages.PlayerOpDone)
	if !ok {
		return false, fmt.Errorf("actors: unexpected answer %T", res)
	}
	if done.Error != "" {
		return false, errors.New(done.Error)
	}
	return done.Kicked, nil
}
