package actors

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// maxDelay and maxDelayFor bound an operator's delay: a fault to test
// with, not a way to stall a node for good.
const (
	maxDelay    = 10 * time.Second
	maxDelayFor = time.Hour
)

// DelaySpec is what an operator sets for one kind: messages wait By, a
// Drop fraction of them is lost, for For. Seed repeats the sequence of
// drop decisions (0: one is picked, and shown by Delays).
type DelaySpec struct {
	Kind string
	By   time.Duration
	Drop float64
	Seed uint64
	For  time.Duration
}

// Delay is one kind's delay as the admin API shows it.
type Delay struct {
	Kind    string        `json:"kind"`
	By      time.Duration `json:"by"`
	Drop    float64       `json:"drop,omitempty"`
	Seed    uint64        `json:"seed,omitempty"`
	Dropped int64         `json:"dropped,omitempty"` // messages dropped so far
	Until   time.Time     `json:"until"`
}

// delays are the admin API's faults of the network inside a node: the
// messages other actors send to actors of a kind reach them late, or not
// at all, as over a slow or lossy link. Only messages with a sender other
// than the actor itself wait or drop (a request, a reply, a Request-sent
// notice); its own timers and protoactor's system messages do not, so a
// room's deadline still fires and ends its round. The shell applies them.
type delays struct {
	on     atomic.Bool // some delay is set: the shell's one check otherwise
	mu     sync.Mutex
	byKind map[string]*kindDelay
}

type kindDelay struct {
	Delay
	rng *rand.Rand // the drop decisions, from Seed
}

// delayed is a message held back, delivered to the shell again.
type delayed struct{ msg any }

// delayedContext hands the held-back message to the game's actor as its
// own: the envelope's sender is the original one, so Respond answers it.
type delayedContext struct {
	actor.Context
	msg any
}

func (c delayedContext) Message() any { return c.msg }

// CheckDelay says what is wrong with spec, naming the field; nil if
// SetDelay takes it.
func CheckDelay(spec DelaySpec) error {
	if !slices.Contains(Kinds, spec.Kind) {
		return fmt.Errorf("kind: unknown actor kind %q", spec.Kind)
	}
	if spec.By < 0 || spec.By > maxDelay {
		return fmt.Errorf("by: a delay must be between 0 and %v, got %v", maxDelay, spec.By)
	}
	if math.IsNaN(spec.Drop) || spec.Drop < 0 || spec.Drop > 1 {
		return fmt.Errorf("drop: the fraction of messages dropped must be between 0 and 1, got %v", spec.Drop)
	}
	if (spec.By > 0 || spec.Drop > 0) && (spec.For <= 0 || spec.For > maxDelayFor) {
		return fmt.Errorf("for: a delay lasts more than 0 and at most %v, got %v", maxDelayFor, spec.For)
	}
	return nil
}

// SetDelay delays messages to this node's actors of spec.Kind by spec.By
// and drops the fraction spec.Drop of them, for spec.For; by 0 with drop
// 0 removes the kind's delay.
func (inv *Inventory) SetDelay(spec DelaySpec) error {
	if err := CheckDelay(spec); err != nil {
		return fmt.Errorf("actors: %w", err)
	}
	d := &inv.delays
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byKind == nil {
		d.byKind = map[string]*kindDelay{}
	}
	if spec.By == 0 && spec.Drop == 0 {
		delete(d.byKind, spec.Kind)
	} else {
		seed := spec.Seed
		if seed == 0 {
			seed = rand.Uint64N(1<<53-1) + 1 // exact in a JavaScript number
		}
		d.byKind[spec.Kind] = &kindDelay{
			Delay: Delay{Kind: spec.Kind, By: spec.By, Drop: spec.Drop, Seed: seed, Until: time.Now().Add(spec.For)},
			rng:   rand.New(rand.NewPCG(seed, 0xd80b)),
		}
	}
	d.on.Store(len(d.byKind) > 0)
	return nil
}

// Delays lists the delays in force, by kind.
func (inv *Inventory) Delays() []Delay {
	d := &inv.delays
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	out := []Delay{}
	for k, v := range d.byKind {
		if now.Before(v.Until) {
			out = append(out, v.Delay)
		} else {
			delete(d.byKind, k)
		}
	}
	d.on.Store(len(d.byKind) > 0)
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// faultOf is what happens now to a message to an actor of kind: dropped,
// or held back by `by`. An expired delay is removed.
func (inv *Inventory) faultOf(kind string) (by time.Duration, drop bool) {
	d := &inv.delays
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.byKind[kind]
	if !ok {
		return 0, false
	}
	if !time.Now().Before(v.Until) {
		delete(d.byKind, kind)
		d.on.Store(len(d.byKind) > 0)
		return 0, false
	}
	if v.Drop > 0 && v.rng.Float64() < v.Drop {
		v.Dropped++
		return 0, true
	}
	return v.By, false
}

// holdBack drops msg, or sends it to the actor again after the kind's
// delay with its sender, and reports whether it did either.
func (s *shell) holdBack(ctx actor.Context, msg any) bool {
	if !s.inv.delays.on.Load() || s.t == nil {
		return false
	}
	switch msg.(type) {
	case actor.SystemMessage, actor.AutoReceiveMessage:
		return false
	}
	sender := ctx.Sender()
	if sender == nil || sender.Equal(ctx.Self()) {
		return false
	}
	by, drop := s.inv.faultOf(s.t.kind)
	if drop {
		return true
	}
	if by == 0 {
		return false
	}
	system, self := ctx.ActorSystem(), ctx.Self()
	time.AfterFunc(by, func() { system.Root.RequestWithCustomSender(self, &delayed{msg: msg}, sender) })
	return true
}
