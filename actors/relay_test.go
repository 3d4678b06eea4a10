package actors

import (
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// Moves, and only moves, are stamped on their way to the session.
func TestStamped(t *testing.T) {
	now := time.Unix(1700000000, 5)
	for _, tc := range []struct {
		name  string
		env   *messages.Envelope
		stamp bool
	}{
		{"choice", &messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 1}}}, true},
		{"face", &messages.Envelope{Body: &messages.Envelope_Face{Face: &messages.Face{Face: 2}}}, true},
		{"join", &messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}, false},
	} {
		got := stamped(tc.env, now)
		sm, ok := got.(*stampedMove)
		switch {
		case ok != tc.stamp:
			t.Errorf("%s: stamped gives %T", tc.name, got)
		case ok && (sm.env != tc.env || sm.at != now.UnixNano()):
			t.Errorf("%s: %+v", tc.name, sm)
		case !ok && got != tc.env:
			t.Errorf("%s: the envelope was changed", tc.name)
		}
	}
}

// The stamp is read safely whatever way a message came: without an
// envelope (the root context's Send), with Request's, or with a stamp.
func TestSinceOf(t *testing.T) {
	msg := &messages.Movement{Uid: "a"}
	with := &actor.MessageEnvelope{Message: msg}
	with.SetHeader(relaySince, "17")
	for _, tc := range []struct {
		name string
		msg  any
		want string
	}{
		{"plain", msg, ""},
		{"request", &actor.MessageEnvelope{Message: msg}, ""},
		{"stamped", with, "17"},
	} {
		if got := sinceOf(actor.UnwrapEnvelopeHeader(tc.msg)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A forwarded move keeps the headers it came with, in the same map: if a
// protoactor upgrade changes its header type, this says so (forwardHeader
// then makes a new map, which costs allocations).
func TestForwardHeaderReusesTheMap(t *testing.T) {
	in := &actor.MessageEnvelope{Message: &messages.SubmitChoice{}}
	in.SetHeader(relaySince, "42")
	h := actor.UnwrapEnvelopeHeader(in)
	mv := &messages.Movement{Uid: "a"}
	out := forwardHeader(h, mv, nil, "42")
	if out.Message != mv || sinceOf(actor.UnwrapEnvelopeHeader(out)) != "42" {
		t.Fatalf("forwarded %+v", out)
	}
	out.Header.Set("probe", "x")
	if h.Get("probe") != "x" {
		t.Error("the forwarded envelope has a new header map: protoactor's header type changed")
	}
	if n := testing.AllocsPerRun(100, func() { forwardHeader(h, mv, nil, "42") }); n > 1 {
		t.Errorf("forwarding allocates %v times, want 1 (the envelope)", n)
	}
}

// A room reads when a move reached its session from the move itself, or,
// from a session of an older release, from the header; 0 when neither
// says.
func TestMoveSinceReadsTheFieldThenTheHeader(t *testing.T) {
	system := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	})))
	t.Cleanup(system.Shutdown)
	got := make(chan int64, 1)
	probe := system.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*messages.SubmitChoice); ok {
			got <- moveSince(ctx, m.RelaySince)
		}
	}))
	headed := func(field int64, header string) any {
		e := &actor.MessageEnvelope{Message: &messages.SubmitChoice{RelaySince: field}}
		e.SetHeader(relaySince, header)
		return e
	}
	for _, tc := range []struct {
		name string
		msg  any
		want int64
	}{
		{"field", &messages.SubmitChoice{RelaySince: 5}, 5},
		{"header of an older session", headed(0, "7"), 7},
		{"field over header", headed(9, "7"), 9},
		{"neither", &messages.SubmitChoice{}, 0},
		{"a header that is no number", headed(0, "x"), 0},
	} {
		system.Root.Send(probe, tc.msg)
		select {
		case since := <-got:
			if since != tc.want {
				t.Errorf("%s: %d, want %d", tc.name, since, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the probe never read it", tc.name)
		}
	}
}
