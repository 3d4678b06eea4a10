package actors

import (
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
