package actors

import (
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/metrics"
)

// echoActor answers every string with itself, and counts what it sends itself.
type echoActor struct{ self chan string }

func (e *echoActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case string:
		if ctx.Sender() != nil {
			ctx.Respond(msg)
		} else {
			e.self <- msg
		}
	}
}

// TestDelayHoldsBackOneKind: with a delay on rooms, a request to a room is
// answered no sooner than the delay, to the original sender; a room's own
// messages (no sender) and other kinds are not held back; a delay ends
// after its span, and by 0 ends it at once.
func TestDelayHoldsBackOneKind(t *testing.T) {
	system := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	})))
	t.Cleanup(system.Shutdown)
	inv := NewInventory(metrics.New())
	self := make(chan string, 4)
	room := system.Root.Spawn(inv.props(KindRoom, "r1", func() actor.Actor { return &echoActor{self: self} }))
	lobby := system.Root.Spawn(inv.props(KindLobby, "lobby", func() actor.Actor { return &echoActor{self: self} }))
	ask := func(pid *actor.PID) time.Duration {
		t.Helper()
		start := time.Now()
		res, err := system.Root.RequestFuture(pid, "ping", 5*time.Second).Result()
		if err != nil || res != "ping" {
			t.Fatalf("answer %v, %v", res, err)
		}
		return time.Since(start)
	}
	if d := ask(room); d > 100*time.Millisecond {
		t.Fatalf("an answer without delay took %v", d)
	}
	if err := inv.SetDelay(KindRoom, 300*time.Millisecond, time.Minute); err != nil {
		t.Fatal(err)
	}
	if d := ask(room); d < 300*time.Millisecond {
		t.Errorf("a room answered in %v under a 300 ms delay", d)
	}
	if d := ask(lobby); d > 100*time.Millisecond {
		t.Errorf("the lobby answered in %v; only rooms are delayed", d)
	}
	start := time.Now()
	system.Root.Send(room, "tick") // no sender: a timer's way
	select {
	case <-self:
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("a message without a sender waited %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the room never got its own message")
	}
	if err := inv.SetDelay(KindRoom, 0, 0); err != nil {
		t.Fatal(err)
	}
	if d := ask(room); d > 100*time.Millisecond {
		t.Errorf("after by 0 a room answered in %v", d)
	}
	if err := inv.SetDelay(KindRoom, 300*time.Millisecond, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); len(inv.Delays()) > 0 && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
	}
	if d := ask(room); d > 100*time.Millisecond {
		t.Errorf("after the delay's span a room answered in %v", d)
	}
	for _, bad := range []struct {
		kind     string
		by, for_ time.Duration
	}{{"castle", time.Second, time.Second}, {KindRoom, -time.Second, time.Second}, {KindRoom, time.Minute, time.Second}, {KindRoom, time.Second, 0}, {KindRoom, time.Second, 2 * time.Hour}} {
		if err := inv.SetDelay(bad.kind, bad.by, bad.for_); err == nil {
			t.Errorf("SetDelay(%q, %v, %v) was accepted", bad.kind, bad.by, bad.for_)
		}
	}
}
