package actors

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// mailbox is the mailbox of the game's actors: protoactor's default mailbox
// (system messages first, suspend and resume, a yield every throughput
// messages, a failure escalated to the actor) in one small struct whose
// queues give their memory back when they empty, so an idle actor holds
// little. protoactor's Unbounded holds a ring of ten slots and a queue node
// for each actor for good.
//
// It also holds messages back until its actor has started. protoactor
// registers a named PID before it gives the mailbox its dispatcher
// (actor/props.go: ProcessRegistry.Add, then RegisterHandlers), and the
// default mailbox dereferences that dispatcher on every post: a message
// sent by name in that window (a session's join to a lobby being remade,
// NewServer's readiness probe) would panic in the sender. Here such
// messages wait, and run after the Started message.
//
// Written against protoactor-go at protoactorVersion (actor/mailbox.go's
// defaultMailbox and actor/props.go's spawn order); TestProtoactorPinned
// fails on any other version, so an upgrade re-reads both first.
type mailbox struct {
	mu         sync.Mutex
	registered bool // RegisterHandlers ran
	open       bool // Started was posted: messages may run
	scheduled  bool // a run is scheduled or running
	suspended  bool // the actor failed; user messages wait for its supervisor
	users      atomic.Int32
	system     fifo
	user       fifo
	invoker    actor.MessageInvoker
	dispatcher actor.Dispatcher
	runs       func() // process, made once: a method value made per post is an allocation per post
}

// protoactorVersion is the protoactor-go release that mailbox.go and
// dispatcher.go were written against: both replace parts of its actor
// package and depend on its internal order of calls.
const protoactorVersion = "v0.0.0-20240822202345-3c0e61ca19c9"

var _ actor.Mailbox = (*mailbox)(nil)

func newMailbox() actor.Mailbox { return &mailbox{} }

func (m *mailbox) PostUserMessage(msg any) {
	m.mu.Lock()
	m.user.push(msg)
	m.users.Add(1)
	start := m.claimLocked()
	m.mu.Unlock()
	if start {
		m.dispatcher.Schedule(m.runs)
	}
}

// PostSystemMessage opens the gate on the first system message after
// RegisterHandlers, which is the spawner's Started: it goes first, then
// whatever waited, so the actor never sees a message before Started.
func (m *mailbox) PostSystemMessage(msg any) {
	m.mu.Lock()
	if m.registered && !m.open {
		m.system.pushFront(msg)
		m.open = true
	} else {
		m.system.push(msg)
	}
	start := m.claimLocked()
	m.mu.Unlock()
	if start {
		m.dispatcher.Schedule(m.runs)
	}
}

// claimLocked says whether the caller must schedule a run. m.mu held.
func (m *mailbox) claimLocked() bool {
	if !m.open || m.scheduled || !m.runnableLocked() {
		return false
	}
	m.scheduled = true
	return true
}

func (m *mailbox) runnableLocked() bool {
	return m.system.len() > 0 || (!m.suspended && m.user.len() > 0)
}

func (m *mailbox) RegisterHandlers(invoker actor.MessageInvoker, dispatcher actor.Dispatcher) {
	m.mu.Lock()
	m.invoker, m.dispatcher = invoker, dispatcher
	m.runs = m.process
	m.registered = true
	m.mu.Unlock()
	// protoactor made the actor before it calls this, once per actor: the
	// inventory's shell learns its mailbox here (the admin API shows its
	// length).
	if ctx, ok := invoker.(actor.Context); ok {
		if u, ok := ctx.Actor().(mailboxUser); ok {
			u.useMailbox(ctx.Self(), m)
		}
	}
}

// mailboxUser is an actor that wants to know its mailbox.
type mailboxUser interface {
	useMailbox(self *actor.PID, m actor.Mailbox)
}

func (m *mailbox) Start()                {}
func (m *mailbox) UserMessageCount() int { return int(m.users.Load()) }

// process runs messages until none is runnable.
func (m *mailbox) process() {
	for m.run() {
	}
}

// run delivers messages, system ones first, until none is runnable
// (false) or one fails (true: the failure is escalated and the run goes on
// with the suspend message it posted).
func (m *mailbox) run() (failed bool) {
	var msg any
	defer func() {
		if r := recover(); r != nil {
			m.invoker.EscalateFailure(r, msg)
			failed = true
		}
	}()
	throughput := m.dispatcher.Throughput()
	for i := 0; ; i++ {
		if i > throughput {
			i = 0
			runtime.Gosched()
		}
		var system bool
		msg, system = m.next()
		switch {
		case msg == nil:
			return false
		case system:
			m.invoker.InvokeSystemMessage(msg)
		default:
			m.invoker.InvokeUserMessage(msg)
		}
	}
}

// next takes the next runnable message; nil when there is none, and then
// the run is over. Suspend and resume are the mailbox's own.
func (m *mailbox) next() (any, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for m.system.len() > 0 {
		msg := m.system.pop()
		switch msg.(type) {
		case *actor.SuspendMailbox:
			m.suspended = true
		case *actor.ResumeMailbox:
			m.suspended = false
		default:
			return msg, true
		}
	}
	if !m.suspended && m.user.len() > 0 {
		m.users.Add(-1)
		return m.user.pop(), false
	}
	m.scheduled = false
	return nil, false
}

// fifo is a queue on a slice, with its head in a slot of its own while the
// slice is empty: most mailboxes hold one message at a time, and the slot
// spares each post an allocation. It lets its buffer go when it empties:
// most actors are idle most of the time. Messages are never nil.
type fifo struct {
	one  any // the first message, or nil
	buf  []any
	head int
}

func (q *fifo) len() int {
	n := len(q.buf) - q.head
	if q.one != nil {
		n++
	}
	return n
}

func (q *fifo) push(v any) {
	if q.len() == 0 {
		q.one = v
		return
	}
	if q.head > 0 && len(q.buf) == cap(q.buf) && q.head >= len(q.buf)/2 {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, v)
}

func (q *fifo) pushFront(v any) {
	if q.one != nil {
		q.pushFrontBuf(q.one)
	}
	q.one = v
}

func (q *fifo) pushFrontBuf(v any) {
	switch {
	case q.head > 0:
		q.head--
		q.buf[q.head] = v
	case len(q.buf) == 0:
		q.buf = append(q.buf, v)
	default:
		q.buf = append([]any{v}, q.buf...)
	}
}

func (q *fifo) pop() any {
	if v := q.one; v != nil {
		q.one = nil
		return v
	}
	v := q.buf[q.head]
	q.buf[q.head] = nil
	q.head++
	if q.head == len(q.buf) {
		q.buf, q.head = nil, 0
	}
	return v
}
