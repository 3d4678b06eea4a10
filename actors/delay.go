package actors

import (
	"fmt"
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

// Delay is one kind's delay as the admin API shows it.
type Delay struct {
	Kind  string        `json:"kind"`
	By    time.Duration `json:"by"`
	Until time.Time     `json:"until"`
}

// delays are the admin API's faults of the network inside a node: the
// messages other actors send to actors of a kind reach them late, as over
// a slow link. Only messages with a sender other than the actor itself
// wait (a request, a reply, a Request-sent notice); its own timers and
// protoactor's system messages do not. The shell applies them.
type delays struct {
	on     atomic.Bool // some delay is set: the shell's one check otherwise
	mu     sync.Mutex
	byKind map[string]Delay
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

// SetDelay delays messages to this node's actors of kind by `by` for
// span; by 0 removes the kind's delay.
func (inv *Inventory) SetDelay(kind string, by, span time.Duration) error {
	if !slices.Contains(Kinds, kind) {
		return fmt.Errorf("actors: unknown kind %q", kind)
	}
	if by < 0 || by > maxDelay {
		return fmt.Errorf("actors: a delay must be between 0 and %v, got %v", maxDelay, by)
	}
	if by > 0 && (span <= 0 || span > maxDelayFor) {
		return fmt.Errorf("actors: a delay lasts more than 0 and at most %v, got %v", maxDelayFor, span)
	}
	d := &inv.delays
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byKind == nil {
		d.byKind = map[string]Delay{}
	}
	if by == 0 {
		delete(d.byKind, kind)
	} else {
		d.byKind[kind] = Delay{Kind: kind, By: by, Until: time.Now().Add(span)}
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
			out = append(out, v)
		} else {
			delete(d.byKind, k)
		}
	}
	d.on.Store(len(d.byKind) > 0)
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// delayOf is the delay of kind now; an expired one is removed.
func (inv *Inventory) delayOf(kind string) time.Duration {
	d := &inv.delays
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.byKind[kind]
	if !ok {
		return 0
	}
	if !time.Now().Before(v.Until) {
		delete(d.byKind, kind)
		d.on.Store(len(d.byKind) > 0)
		return 0
	}
	return v.By
}

// holdBack sends msg to the actor again after the kind's delay, with its
// sender, and reports whether it did.
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
	by := s.inv.delayOf(s.t.kind)
	if by == 0 {
		return false
	}
	system, self := ctx.ActorSystem(), ctx.Self()
	time.AfterFunc(by, func() { system.Root.RequestWithCustomSender(self, &delayed{msg: msg}, sender) })
	return true
}
