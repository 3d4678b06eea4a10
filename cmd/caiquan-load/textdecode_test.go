package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/messages"
)

// A fast path that misreads is caught on the first frame of each kind and
// then on one in crossCheckEvery; the game goes on with the gateway's
// reading, and the frame counts as malformed with the frame as its case.
func TestCrossCheckCatchesAMisreading(t *testing.T) {
	misread := func(data []byte, event bool) (*messages.Envelope, fastKind) {
		env, kind := fastDecode(data, event)
		if r := env.GetResult(); r != nil {
			r.Result[0].TotalScore++
		}
		return env, kind
	}
	for _, p := range textWires {
		d := &textDecoder{fast: misread}
		_, result := serverFrame(t, p, benchResult())
		_, movement := serverFrame(t, p, benchMovement())
		want := gatewayDecode(result, isEvent(p)).env
		for i := 1; i <= 2*crossCheckEvery+1; i++ {
			checked := i%crossCheckEvery == 1
			pk := d.decode(result, isEvent(p))
			switch {
			case checked && (!strings.Contains(pk.bad, "differ on a result frame") || pk.detail == "" || !proto.Equal(pk.env, want)):
				t.Fatalf("%s: result %d, checked: %+v", p, i, pk)
			case !checked && (pk.bad != "" || proto.Equal(pk.env, want)):
				t.Fatalf("%s: result %d, not checked, should be the misreading: %+v", p, i, pk)
			}
			// Movements are counted apart, and read right.
			if pk := d.decode(movement, isEvent(p)); pk.bad != "" {
				t.Fatalf("%s: movement %d: %s", p, i, pk.bad)
			}
		}
	}
}

// A fast path that reads a frame the gateway refuses is caught, and the
// frame is malformed with no message.
func TestCrossCheckCatchesAFrameTheGatewayRefuses(t *testing.T) {
	lenient := func(data []byte, event bool) (*messages.Envelope, fastKind) {
		return benchMovement(), kindMovement
	}
	for _, p := range textWires {
		d := &textDecoder{fast: lenient}
		pk := d.decode([]byte(`{"movement":{"uid":"a","movement":"choice","face":01}}`), isEvent(p))
		if !strings.Contains(pk.bad, "that the gateway's refuses") || pk.env != nil {
			t.Errorf("%s: %+v", p, pk)
		}
	}
}

// What the fast path declines is the gateway's to read, and its verdict.
func TestDeclinedFramesGoToTheGateway(t *testing.T) {
	declines := func([]byte, bool) (*messages.Envelope, fastKind) { return nil, 0 }
	d := &textDecoder{fast: declines}
	_, start := serverFrame(t, protoJSON, benchStart())
	if pk := d.decode(start, false); pk.bad != "" || !proto.Equal(pk.env, benchStart()) {
		t.Errorf("a start: %+v", pk)
	}
	if pk := d.decode([]byte(`{"start":7}`), false); pk.bad != "undecodable: bad_payload" || pk.env != nil {
		t.Errorf("a bad start: %+v", pk)
	}
}
