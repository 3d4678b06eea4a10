package main

import (
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/messages"
)

// crossCheckEvery: of the frames of each kind that the fast path reads,
// the first and then one in this many are read by the gateway's decoder
// too, and a difference counts as malformed. The fast path is only worth
// having if it stays right as the server changes; a run finds out.
const crossCheckEvery = 64

// textDecoder reads the server's frames on the text wires: the fast path
// first, the gateway's decoder for what it declines, and both on a sample.
type textDecoder struct {
	fast func(data []byte, event bool) (*messages.Envelope, fastKind)
	seen [numFastKinds]atomic.Uint64
}

// serverText is the tool's one text decoder; its counters are shared by
// every player, which is what sampling per kind needs.
var serverText = textDecoder{fast: fastDecode}

// decode reads a /ws JSON frame, or with event a Socket.IO event packet.
func (d *textDecoder) decode(data []byte, event bool) packet {
	env, kind := d.fast(data, event)
	if env == nil {
		return gatewayDecode(data, event)
	}
	if d.seen[kind].Add(1)%crossCheckEvery != 1 {
		return packet{env: env}
	}
	full := gatewayDecode(data, event)
	switch {
	case full.bad != "":
		return packet{bad: "the fast decoder read a " + fastKindNames[kind] + " frame that the gateway's refuses", detail: string(data)}
	case !proto.Equal(env, full.env):
		// The gateway's reading is the one the game goes on with.
		return packet{env: full.env, bad: "the fast decoder and the gateway's differ on a " + fastKindNames[kind] + " frame",
			detail: string(data) + " read as " + env.String()}
	}
	return packet{env: env}
}
