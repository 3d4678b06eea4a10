package gateway

import (
	"bytes"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/messages"
)

// eio3Wire is Engine.IO 3, as the 2016 mini-program speaks it. That client
// never pings and ignores server pings, parses every frame with
// ^(\d)(\d?)(.*)$ and would misread ack ids, so the server sends it only the
// open packet, 40, bare 3 pongs and 42[...] events; liveness rests on
// WebSocket-level pings alone.
type eio3Wire struct {
	sid string
}

// The demo's values; the client ignores them.
const eio3OpenTail = `","upgrades":[],"pingInterval":25000,"pingTimeout":60000}`

func newEIO3Wire() *eio3Wire { return &eio3Wire{sid: newSID()} }

func (w *eio3Wire) name() string { return "eio3" }

func (w *eio3Wire) greeting() []frame {
	return []frame{textFrame(`0{"sid":"` + w.sid + eio3OpenTail), textFrame("40")}
}

func (w *eio3Wire) heartbeat() (frame, bool) { return frame{}, false }

func (w *eio3Wire) encode(env *messages.Envelope) (frame, error) { return encodeEventFrame(env) }

func (w *eio3Wire) decode(kind int, data []byte) inbound {
	if kind != websocket.TextMessage {
		return inbound{err: badBinary}
	}
	switch string(data) {
	case "2", "2probe":
		return reply(textFrame("3")) // the demo answered both with a bare 3
	case "3", "6", "40": // pong, noop, connect to the default namespace
		return inbound{}
	case "1", "41":
		return hangUp("client disconnected")
	}
	if bytes.HasPrefix(data, []byte(eventPrefix)) {
		return decodeEventFrame(data)
	}
	return refuse(decodeErr(messages.CodeBadFrame, "unknown Engine.IO packet %s", preview(data)))
}
