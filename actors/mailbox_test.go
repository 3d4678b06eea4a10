package actors

import (
	"reflect"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
)

// recordingInvoker notes the order the mailbox hands messages over.
type recordingInvoker struct {
	got    []any
	failed []any
	panics map[any]bool // messages whose handling panics
}

func (r *recordingInvoker) InvokeSystemMessage(m any) { r.invoke(m) }
func (r *recordingInvoker) InvokeUserMessage(m any)   { r.invoke(m) }
func (r *recordingInvoker) EscalateFailure(_, m any)  { r.failed = append(r.failed, m) }

func (r *recordingInvoker) invoke(m any) {
	r.got = append(r.got, m)
	if r.panics[m] {
		panic(m)
	}
}

// inlineDispatcher runs the mailbox on the caller's goroutine.
type inlineDispatcher struct{}

func (inlineDispatcher) Schedule(fn func()) { fn() }
func (inlineDispatcher) Throughput() int    { return 300 }

func TestMailboxHoldsMessagesUntilStarted(t *testing.T) {
	m := newMailbox()
	// Posts in the window between the PID's registration and its handlers:
	// the default mailbox would dereference a nil dispatcher here.
	m.PostUserMessage("early join")
	m.PostSystemMessage("early watch")

	inv := &recordingInvoker{}
	m.RegisterHandlers(inv, inlineDispatcher{})
	if len(inv.got) != 0 {
		t.Fatalf("delivered before Started: %v", inv.got)
	}
	m.PostSystemMessage("started")
	m.PostUserMessage("late")

	want := []any{"started", "early watch", "early join", "late"}
	if !reflect.DeepEqual(inv.got, want) {
		t.Fatalf("order %v, want %v", inv.got, want)
	}
	if n := m.UserMessageCount(); n != 0 {
		t.Fatalf("%d user messages left", n)
	}
}

// A failure is escalated with its message; the supervisor's suspend holds
// user messages back (system ones still run) until its resume.
func TestMailboxSuspendsAfterAFailure(t *testing.T) {
	m := newMailbox()
	inv := &recordingInvoker{panics: map[any]bool{"bad": true}}
	m.RegisterHandlers(inv, manualDispatcher{})
	m.PostSystemMessage("started")
	m.PostUserMessage("bad")
	m.PostUserMessage("next")
	m.(*mailbox).process()
	if want := []any{"started", "bad", "next"}; !reflect.DeepEqual(inv.got, want) {
		t.Fatalf("got %v, want %v", inv.got, want)
	}

	inv.got = nil
	m.PostUserMessage("bad")
	m.PostSystemMessage(&actor.SuspendMailbox{}) // as EscalateFailure does
	m.PostUserMessage("waits")
	m.PostSystemMessage("restart")
	m.(*mailbox).process()
	if want := []any{"restart"}; !reflect.DeepEqual(inv.got, want) {
		t.Fatalf("got %v, want %v", inv.got, want)
	}
	if n := m.UserMessageCount(); n != 2 {
		t.Fatalf("%d user messages waiting, want 2", n)
	}
	m.PostSystemMessage(&actor.ResumeMailbox{})
	m.(*mailbox).process()
	if want := []any{"restart", "bad", "waits"}; !reflect.DeepEqual(inv.got, want) {
		t.Fatalf("got %v, want %v", inv.got, want)
	}
	if want := []any{"bad", "bad"}; !reflect.DeepEqual(inv.failed, want) {
		t.Fatalf("escalated %v, want %v", inv.failed, want)
	}
}

// manualDispatcher runs nothing: the test calls process itself.
type manualDispatcher struct{}

func (manualDispatcher) Schedule(func()) {}
func (manualDispatcher) Throughput() int { return 300 }

// The queue keeps its order across growth, compaction and emptying, and an
// empty queue keeps no buffer.
func TestFifo(t *testing.T) {
	var q fifo
	next, want := 0, 0
	for round := range 50 {
		for range round % 7 * 3 {
			q.push(next)
			next++
		}
		for range round % 5 * 2 {
			if q.len() == 0 {
				break
			}
			if v := q.pop(); v != want {
				t.Fatalf("popped %v, want %d", v, want)
			}
			want++
		}
	}
	for q.len() > 0 {
		if v := q.pop(); v != want {
			t.Fatalf("popped %v, want %d", v, want)
		}
		want++
	}
	if want != next || q.buf != nil {
		t.Fatalf("popped %d of %d; %d slots kept", want, next, cap(q.buf))
	}
	q.push("b")
	q.pushFront("a")
	if a, b := q.pop(), q.pop(); a != "a" || b != "b" {
		t.Fatalf("got %v %v", a, b)
	}
	// pushFront over a slot and a buffer, and over a buffer alone.
	q.push("c")
	q.push("d")
	q.pushFront("b")
	q.pushFront("a")
	if got := []any{q.pop(), q.pop()}; got[0] != "a" || got[1] != "b" {
		t.Fatalf("got %v", got)
	}
	q.pushFront("c2")
	for _, want := range []any{"c2", "c", "d"} {
		if v := q.pop(); v != want {
			t.Fatalf("popped %v, want %v", v, want)
		}
	}
	if q.len() != 0 || q.one != nil || q.buf != nil {
		t.Fatalf("an emptied queue holds %v and %d slots", q.one, cap(q.buf))
	}
}

// A post to an empty mailbox allocates nothing of the queue's, the run
// function included.
func TestMailboxPostAllocatesNothing(t *testing.T) {
	m := newMailbox().(*mailbox)
	m.RegisterHandlers(nil, manualDispatcher{})
	m.open = true
	msg := &struct{ n int }{}
	allocs := testing.AllocsPerRun(100, func() {
		m.PostUserMessage(msg)
		m.mu.Lock()
		m.user.pop()
		m.users.Add(-1)
		m.scheduled = false
		m.mu.Unlock()
	})
	if allocs != 0 {
		t.Fatalf("a post allocated %v times", allocs)
	}
}
