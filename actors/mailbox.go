package actors

import (
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// gatedMailbox holds messages back until its actor has started.
//
// protoactor registers a named PID before it gives the mailbox its
// dispatcher (actor/props.go: ProcessRegistry.Add, then RegisterHandlers),
// and the default mailbox dereferences that dispatcher on every post. A
// message sent by name in that window (a session's join to a lobby being
// remade, NewServer's readiness probe) panics in the sender. The gate
// queues such messages and delivers them after the Started message.
type gatedMailbox struct {
	inner      actor.Mailbox
	open       atomic.Bool
	mu         sync.Mutex
	registered bool
	system     []any
	user       []any
}

func newGatedMailbox(inner actor.Mailbox) *gatedMailbox {
	return &gatedMailbox{inner: inner}
}

func (m *gatedMailbox) PostUserMessage(msg any) {
	if m.open.Load() {
		m.inner.PostUserMessage(msg)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.open.Load() {
		m.inner.PostUserMessage(msg)
		return
	}
	m.user = append(m.user, msg)
}

// PostSystemMessage opens the gate on the first system message after
// RegisterHandlers, which is the spawner's Started: it goes first, then
// whatever waited, so the actor never sees a message before Started.
func (m *gatedMailbox) PostSystemMessage(msg any) {
	if m.open.Load() {
		m.inner.PostSystemMessage(msg)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.open.Load():
		m.inner.PostSystemMessage(msg)
	case !m.registered:
		m.system = append(m.system, msg)
	default:
		m.inner.PostSystemMessage(msg)
		for _, s := range m.system {
			m.inner.PostSystemMessage(s)
		}
		for _, u := range m.user {
			m.inner.PostUserMessage(u)
		}
		m.system, m.user = nil, nil
		m.open.Store(true)
	}
}

func (m *gatedMailbox) RegisterHandlers(invoker actor.MessageInvoker, dispatcher actor.Dispatcher) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inner.RegisterHandlers(invoker, dispatcher)
	m.registered = true
}

func (m *gatedMailbox) Start()                { m.inner.Start() }
func (m *gatedMailbox) UserMessageCount() int { return m.inner.UserMessageCount() }
