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
}

type tracked struct {
	kind, id string
	pid      *actor.PID
	started  time.Time
	restarts int
	mailbox  actor.Mailbox
}

// NewInventory makes an empty inventory that counts restarts in m.
func NewInventory(m *metrics.Metrics) *Inventory {
	return &Inventory{metrics: m, live: make(map[string]*tracked), dispatcher: newWorkerDispatcher(mailboxThroughput)}
}

// props wraps a producer so the actor is listed while it lives, counts its
// restarts, and panics on a Crash message (the admin API's "panic" kill).
func (inv *Inventory) props(kind, id string, producer actor.Producer, opts ...actor.PropsOption) *actor.Props {
	opts = append(opts, actor.WithDispatcher(inv.dispatcher))
	t := &tracked{kind: kind, id: id}
	opts = append(opts,
		actor.WithMailbox(func() actor.Mailbox {
			t.mailbox = newMailbox()
			return t.mailbox
		}),
		actor.WithReceiverMiddleware(func(next actor.ReceiverFunc) actor.ReceiverFunc {
			return func(ctx actor.ReceiverContext, env *actor.MessageEnvelope) {
				switch msg := env.Message.(type) {
				case *actor.Started:
					inv.started(t, ctx.Self())
				case *actor.Stopped:
					inv.stopped(ctx.Self())
				case *messages.Crash:
					panic(fmt.Sprintf("%s %s: crash requested: %s", kind, id, msg.Reason))
				}
				next(ctx, env)
			}
		}),
	)
	return actor.PropsFromProducer(producer, opts...)
}

func (inv *Inventory) started(t *tracked, self *actor.PID) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if _, ok := inv.live[self.Id]; ok {
		t.restarts++
		inv.metrics.ActorRestarts.WithLabelValues(t.kind).Inc()
		return
	}
	t.pid, t.started = self, time.Now()
	inv.live[self.Id] = t
}

func (inv *Inventory) stopped(self *actor.PID) {
	inv.mu.Lock()
	delete(inv.live, self.Id)
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
		if len(want) > 0 && !want[t.kind] {
			continue
		}
		out = append(out, ActorInfo{
			Kind: t.kind, ID: t.id, PID: t.pid.Id, Node: t.pid.Address,
			Started: t.started, Restarts: t.restarts, Mailbox: t.mailbox.UserMessageCount(),
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
		if (pid != "" && t.pid.Id == pid) || (pid == "" && t.kind == kind && t.id == id) {
			return ActorInfo{Kind: t.kind, ID: t.id, PID: t.pid.Id, Node: t.pid.Address, Started: t.started, Restarts: t.restarts}, t.pid, true
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
