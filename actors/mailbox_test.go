package actors

import (
	"reflect"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
)

// recordingInvoker notes the order the mailbox hands messages over.
type recordingInvoker struct{ got []any }

func (r *recordingInvoker) InvokeSystemMessage(m any) { r.got = append(r.got, m) }
func (r *recordingInvoker) InvokeUserMessage(m any)   { r.got = append(r.got, m) }
func (r *recordingInvoker) EscalateFailure(any, any)  {}

// inlineDispatcher runs the mailbox on the caller's goroutine.
type inlineDispatcher struct{}

func (inlineDispatcher) Schedule(fn func()) { fn() }
func (inlineDispatcher) Throughput() int    { return 300 }

func TestGatedMailboxHoldsMessagesUntilStarted(t *testing.T) {
	m := newGatedMailbox(actor.Unbounded()())
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
