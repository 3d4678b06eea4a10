package actors

import (
	"log/slog"
	"math"
	"slices"
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
	if err := inv.SetDelay(DelaySpec{Kind: KindRoom, By: 300 * time.Millisecond, For: time.Minute}); err != nil {
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
	if err := inv.SetDelay(DelaySpec{Kind: KindRoom}); err != nil {
		t.Fatal(err)
	}
	if d := ask(room); d > 100*time.Millisecond {
		t.Errorf("after by 0 a room answered in %v", d)
	}
	if err := inv.SetDelay(DelaySpec{Kind: KindRoom, By: 300 * time.Millisecond, For: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); len(inv.Delays()) > 0 && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
	}
	if d := ask(room); d > 100*time.Millisecond {
		t.Errorf("after the delay's span a room answered in %v", d)
	}
	for _, bad := range []DelaySpec{
		{Kind: "castle", By: time.Second, For: time.Second},
		{Kind: KindRoom, By: -time.Second, For: time.Second},
		{Kind: KindRoom, By: time.Minute, For: time.Second},
		{Kind: KindRoom, By: time.Second},
		{Kind: KindRoom, By: time.Second, For: 2 * time.Hour},
		{Kind: KindRoom, Drop: -0.1, For: time.Second},
		{Kind: KindRoom, Drop: 1.5, For: time.Second},
		{Kind: KindRoom, Drop: math.NaN(), For: time.Second},
		{Kind: KindRoom, Drop: 0.5},
	} {
		if err := inv.SetDelay(bad); err == nil {
			t.Errorf("SetDelay(%+v) was accepted", bad)
		}
	}
}

// TestDelayDrops: with drop 0.5 on rooms, about half the requests to a room
// go unanswered and the inventory counts them; messages without a sender
// (a timer's way) and other kinds are never dropped; the same seed drops
// the same requests; drop 1 drops every one, and drop 0 ends it.
func TestDelayDrops(t *testing.T) {
	system := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	})))
	t.Cleanup(system.Shutdown)
	inv := NewInventory(metrics.New())
	self := make(chan string, 200)
	room := system.Root.Spawn(inv.props(KindRoom, "r1", func() actor.Actor { return &echoActor{self: self} }))
	lobby := system.Root.Spawn(inv.props(KindLobby, "lobby", func() actor.Actor { return &echoActor{self: self} }))
	// pattern sends n requests at once and says which were answered.
	pattern := func(pid *actor.PID, n int) []bool {
		t.Helper()
		fs := make([]*actor.Future, n)
		for i := range fs {
			fs[i] = system.Root.RequestFuture(pid, "ping", 300*time.Millisecond)
		}
		out := make([]bool, n)
		for i, f := range fs {
			res, err := f.Result()
			out[i] = err == nil && res == "ping"
		}
		return out
	}
	answered := func(p []bool) int {
		n := 0
		for _, ok := range p {
			if ok {
				n++
			}
		}
		return n
	}
	if err := inv.SetDelay(DelaySpec{Kind: KindRoom, Drop: 0.5, Seed: 7, For: time.Minute}); err != nil {
		t.Fatal(err)
	}
	first := pattern(room, 200)
	if n := answered(first); n < 60 || n > 140 {
		t.Errorf("drop 0.5: %d of 200 requests answered", n)
	}
	ds := inv.Delays()
	if len(ds) != 1 || ds[0].Drop != 0.5 || ds[0].Seed != 7 || ds[0].Dropped != int64(200-answered(first)) {
		t.Errorf("Delays() = %+v, want drop 0.5, seed 7 and %d dropped", ds, 200-answered(first))
	}
	if n := answered(pattern(lobby, 50)); n != 50 {
		t.Errorf("the lobby answered %d of 50; only rooms drop", n)
	}
	for range 50 {
		system.Root.Send(room, "tick")
	}
	for i := range 50 {
		select {
		case <-self:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of 50 messages without a sender arrived", i)
		}
	}
	if err := inv.SetDelay(DelaySpec{Kind: KindRoom, Drop: 0.5, Seed: 7, For: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if again := pattern(room, 200); !slices.Equal(again, first) {
		t.Error("the same seed dropped other requests")
	}
	if err := inv.SetDelay(DelaySpec{Kind: KindRoom, Drop: 1, For: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if n := answered(pattern(room, 20)); n != 0 {
		t.Errorf("drop 1: %d of 20 answered", n)
	}
	if err := inv.SetDelay(DelaySpec{Kind: KindRoom}); err != nil {
		t.Fatal(err)
	}
	if n := answered(pattern(room, 20)); n != 20 {
		t.Errorf("after drop 0: %d of 20 answered", n)
	}
}
