package actors

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/metrics"
)

// Kinds of actor, as the admin API names them.
const (
	KindNode      = "node"
	KindSession   = "session"
	KindLobby     = "lobby"
	KindRoomHost  = "roomhost"
	KindRoom      = "room"
	KindBot       = "bot"
	KindDirectory = "directory"
	KindPlayer    = "player"
)

// Kinds lists every kind, for validation and help.
var Kinds = []string{KindNode, KindSession, KindLobby, KindRoomHost, KindRoom, KindBot, KindDirectory, KindPlayer}

// ActorInfo is one live actor as the admin API shows it.
type ActorInfo struct {
	Kind     string    `json:"kind"`
	ID       string    `json:"id"` // the game's name for it: uid, round id, ...
	PID      string    `json:"pid"`
	Node     string    `json:"node"`
	Started  time.Time `json:"started"`
	Restarts int       `json:"restarts"`
	Mailbox  int       `json:"mailbox"`
}

// Inventory knows every live actor of the game on this node. It is the one
// piece of state outside the actors, written only by a receiver middleware
// on lifecycle messages and read by the admin API.
type Inventory struct {
	metrics *metrics.Metrics
	// dispatcher runs every game actor's mailbox (see workerDispatcher).
	dispatcher actor.Dispatcher
	mu         sync.Mutex
	live       map[string]*tracked // by PID id
	delays     delays
}

type tracked struct {
	kind, id string
	pid      *actor.PID // set when it first starts; until then List and Find skip it
	started  int64      // Unix nanoseconds
	restarts int
	mailbox  actor.Mailbox
	produce  func() actor.Actor // makes the actor, at start and at each restart
}

// NewInventory makes an empty inventory that counts restarts in m.
func NewInventory(m *metrics.Metrics) *Inventory {
	// Every kind's series exists from the start, at zero: a rate over a
	// series born with its first event misses that event.
	for _, kind := range Kinds {
		m.ActorRestarts.WithLabelValues(kind)
		for _, mode := range KillModes {
			m.ActorKills.WithLabelValues(kind, mode)
		}
	}
	return &Inventory{metrics: m, live: make(map[string]*tracked), dispatcher: newWorkerDispatcher(mailboxThroughput)}
}

// props makes the Props of one actor: it is listed while it lives, its
// restarts are counted, and a Crash message panics in it (the admin API's
// "panic" kill). For the actors of which there are many, sharedProps and
// spawn do the same with one Props for all.
func (inv *Inventory) props(kind, id string, producer actor.Producer, opts ...actor.PropsOption) *actor.Props {
	t := &tracked{kind: kind, id: id, produce: producer}
	return actor.PropsFromProducer(func() actor.Actor { return &shell{inv: inv, t: t} }, inv.options(opts)...)
}

// sharedProps makes the one Props of a kind of actor spawned with spawn.
func (inv *Inventory) sharedProps(opts ...actor.PropsOption) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &shell{inv: inv} }, inv.options(opts)...)
}

func (inv *Inventory) options(opts []actor.PropsOption) []actor.PropsOption {
	return append(opts, actor.WithDispatcher(inv.dispatcher), actor.WithMailbox(newMailbox))
}

// spawn starts an actor of a kind whose Props come from sharedProps, under
// parent and with a generated name. What is the actor's own (a session's
// connection, a player's uid) travels in produce: the inventory keeps it
// under the PID's id, where the actor's shell finds it when it starts, and
// again at each restart.
func (inv *Inventory) spawn(parent actor.SpawnerContext, props *actor.Props, kind, id string, produce func() actor.Actor) *actor.PID {
	pid, err := inv.spawnNamed(parent, props, kind, id, "", produce)
	if err != nil {
		panic(fmt.Sprintf("actors: spawn %s %s: %v", kind, id, err))
	}
	return pid
}

// spawnNamed is spawn with the name given (a generated one for ""); a name
// in use is refused with protoactor's ErrNameExists.
func (inv *Inventory) spawnNamed(parent actor.SpawnerContext, props *actor.Props, kind, id, name string, produce func() actor.Actor) (*actor.PID, error) {
	if name == "" {
		name = parent.ActorSystem().ProcessRegistry.NextId()
	}
	full := name // protoactor's ids: the name at the root, parent/name below
	if _, root := parent.(*actor.RootContext); !root {
		full = parent.Self().Id + "/" + name
	}
	t := &tracked{kind: kind, id: id, produce: produce}
	inv.mu.Lock()
	if inv.live[full] != nil {
		inv.mu.Unlock()
		return nil, actor.ErrNameExists
	}
	inv.live[full] = t
	inv.mu.Unlock()
	pid, err := parent.SpawnNamed(props, name)
	if err != nil || pid.Id != full {
		inv.stopped(full)
		if err == nil {
			err = fmt.Errorf("got the id %s, want %s", pid.Id, full)
		}
		return nil, err
	}
	return pid, nil
}

// shell is the actor protoactor knows: it makes the game's actor when it
// starts, keeps the inventory up to date, and hands every message on. It
// is what a receiver middleware would be, without the context extras
// protoactor gives every actor with one.
type shell struct {
	inv   *Inventory
	t     *tracked // nil until Started for a shared kind
	inner actor.Actor
}

func (s *shell) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		s.t = s.inv.started(s.t, ctx.Self())
		s.inner = s.t.produce()
	case *actor.Stopped:
		s.inv.stopped(ctx.Self().Id)
	case *messages.Crash:
		panic(fmt.Sprintf("%s %s: crash requested: %s", s.t.kind, s.t.id, msg.Reason))
	case *delayed:
		s.inner.Receive(delayedContext{Context: ctx, msg: msg.msg})
		return
	default:
		if s.holdBack(ctx, msg) {
			return
		}
	}
	s.inner.Receive(ctx)
}

// useMailbox is called by the mailbox when protoactor hands it the actor,
// once, before the actor starts.
func (s *shell) useMailbox(self *actor.PID, m actor.Mailbox) {
	s.inv.mu.Lock()
	defer s.inv.mu.Unlock()
	t := s.t
	if t == nil {
		t = s.inv.live[self.Id]
	}
	if t != nil {
		t.mailbox = m
	}
}

// started notes that the actor started, or restarted; t is nil for a
// shared kind, which spawn registered.
func (inv *Inventory) started(t *tracked, self *actor.PID) *tracked {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if t == nil {
		t = inv.live[self.Id]
		if t == nil {
			panic(fmt.Sprintf("actors: %s started but was not spawned by the inventory", self.Id))
		}
	}
	if t.pid != nil {
		t.restarts++
		inv.metrics.ActorRestarts.WithLabelValues(t.kind).Inc()
		return t
	}
	t.pid, t.started = self, time.Now().UnixNano()
	inv.live[self.Id] = t
	return t
}

func (inv *Inventory) stopped(id string) {
	inv.mu.Lock()
	delete(inv.live, id)
	inv.mu.Unlock()
}

// List returns the live actors of the given kinds (all when none), sorted
// by kind and id.
func (inv *Inventory) List(kinds ...string) []ActorInfo {
	want := make(map[string]bool, len(kinds))
	for _, k := range kinds {
		want[k] = true
	}
	inv.mu.Lock()
	out := make([]ActorInfo, 0, len(inv.live))
	for _, t := range inv.live {
		if t.pid == nil || (len(want) > 0 && !want[t.kind]) {
			continue
		}
		out = append(out, ActorInfo{
			Kind: t.kind, ID: t.id, PID: t.pid.Id, Node: t.pid.Address,
			Started: time.Unix(0, t.started), Restarts: t.restarts, Mailbox: mailboxLength(t.mailbox),
		})
	}
	inv.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Find returns the live actor with the given PID id, or of the given kind
// and id.
func (inv *Inventory) Find(pid, kind, id string) (ActorInfo, *actor.PID, bool) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	for _, t := range inv.live {
		if t.pid == nil {
			continue
		}
		if (pid != "" && t.pid.Id == pid) || (pid == "" && t.kind == kind && t.id == id) {
			return ActorInfo{Kind: t.kind, ID: t.id, PID: t.pid.Id, Node: t.pid.Address, Started: time.Unix(0, t.started), Restarts: t.restarts}, t.pid, true
		}
	}
	return ActorInfo{}, nil, false
}

// name sets the game's name of a live actor whose name was not known when it
// was spawned (a session learns its uid at hello).
func (inv *Inventory) name(self *actor.PID, id string) {
	inv.mu.Lock()
	if t, ok := inv.live[self.Id]; ok {
		t.id = id
	}
	inv.mu.Unlock()
}

func mailboxLength(m actor.Mailbox) int {
	if m == nil {
		return 0
	}
	return m.UserMessageCount()
}
