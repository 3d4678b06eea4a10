package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// askTimeout bounds the server's own questions to its actors.
const askTimeout = 2 * time.Second

// Server is one node's actors: the lobby, the room host and the player
// directory, and a session per connection. It implements Opener for the
// gateway.
type Server struct {
	system   *actor.ActorSystem
	settings Settings
	lobby    *actor.PID
	rooms    *actor.PID
	players  *actor.PID
	// sessions spawns session actors under a guardian that stops them on
	// failure: a failed session closes its socket instead of restarting.
	sessions *actor.RootContext
}

// NewServer starts the node's long-lived actors on system.
func NewServer(system *actor.ActorSystem, s Settings, store Store) (*Server, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	top := actor.NewRootContext(system, nil).WithGuardian(restartOnFailure)
	srv := &Server{
		system:   system,
		settings: s,
		sessions: actor.NewRootContext(system, nil).WithGuardian(stopOnFailure),
	}
	var err error
	if srv.players, err = top.SpawnNamed(directoryProps(store), "players"); err != nil {
		return nil, fmt.Errorf("actors: spawn players: %w", err)
	}
	if srv.rooms, err = top.SpawnNamed(roomHostProps(s, srv.players), "rooms"); err != nil {
		return nil, fmt.Errorf("actors: spawn rooms: %w", err)
	}
	if srv.lobby, err = top.SpawnNamed(lobbyProps(s, srv.rooms), "lobby"); err != nil {
		return nil, fmt.Errorf("actors: spawn lobby: %w", err)
	}
	return srv, nil
}

// OpenSession spawns the session actor of a new connection.
func (s *Server) OpenSession(conn Conn) Session {
	pid := s.sessions.Spawn(sessionProps(s.settings, conn, s.lobby, s.players))
	return sessionHandle{root: s.system.Root, pid: pid}
}

type sessionHandle struct {
	root *actor.RootContext
	pid  *actor.PID
}

func (h sessionHandle) Deliver(env *messages.Envelope) { h.root.Send(h.pid, env) }
func (h sessionHandle) Closed(reason string) {
	h.root.Send(h.pid, &messages.ConnClosed{Reason: reason})
}

// Drain stops the lobby from seating anyone and waits until every room in
// progress has finished, or ctx ends.
func (s *Server) Drain(ctx context.Context) error {
	if _, err := s.system.Root.RequestFuture(s.lobby, &messages.Drain{}, askTimeout).Result(); err != nil {
		return fmt.Errorf("actors: drain lobby: %w", err)
	}
	for {
		n, err := s.Rooms()
		if err == nil && n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("actors: %d rooms still in progress: %w", n, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// StopRooms stops every room in progress, each ending its round with a void
// notice (or its result, if it was settling), and waits until they are gone
// or ctx ends. Drain's last resort.
func (s *Server) StopRooms(ctx context.Context) error {
	s.system.Root.Send(s.rooms, &messages.StopRooms{})
	for {
		n, err := s.Rooms()
		if err == nil && n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("actors: %d rooms did not stop: %w", n, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Rooms is the number of rooms in progress on this node.
func (s *Server) Rooms() (int, error) {
	res, err := s.system.Root.RequestFuture(s.rooms, &messages.GetRoomCount{}, askTimeout).Result()
	if err != nil {
		return 0, err
	}
	return int(res.(*messages.RoomCount).Rooms), nil
}

// Online is the number of sessions that said hello.
func (s *Server) Online() (int, error) {
	res, err := s.system.Root.RequestFuture(s.players, &messages.GetOnline{}, askTimeout).Result()
	if err != nil {
		return 0, err
	}
	return int(res.(*messages.Online).Sessions), nil
}
