package gateway

import (
	"bytes"
	"sync/atomic"

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
	// started is the round this connection was last told had started, so
	// that a void of it can reach the 2016 client as a result (voidAsResult).
	started atomic.Pointer[messages.Start]
}

// The demo's values; the client ignores them.
const eio3OpenTail = `","upgrades":[],"pingInterval":25000,"pingTimeout":60000}`

func newEIO3Wire() *eio3Wire { return &eio3Wire{sid: newSID()} }

func (w *eio3Wire) name() string { return ProtocolEIO3 }

func (w *eio3Wire) greeting() []frame {
	return []frame{textFrame(`0{"sid":"` + w.sid + eio3OpenTail), textFrame("40")}
}

func (w *eio3Wire) heartbeat() (frame, bool) { return frame{}, false }

// encode sends a void of the round in play as a result: the 2016 page knows
// no void event, and would wait at its countdown's 0 for good.
func (w *eio3Wire) encode(env *messages.Envelope) (frame, error) {
	switch body := env.GetBody().(type) {
	case *messages.Envelope_Start:
		w.started.Store(body.Start)
	case *messages.Envelope_Result:
		w.started.Store(nil)
	case *messages.Envelope_Void:
		if start := w.started.Swap(nil); start != nil && start.GetRoundId() == body.Void.GetRoundId() {
			env = voidAsResult(start)
		}
	}
	return encodeEventFrame(env)
}

// voidAsResult is a voided round as the rules would score it had nobody
// chosen: every seat's choice 0 and round score 0, every standing as it was
// at the start. It changes no score, and ends the round for a client that
// only knows results.
func voidAsResult(start *messages.Start) *messages.Envelope {
	res := &messages.Result{RoundId: start.GetRoundId()}
	for _, u := range start.GetRoomUsers() {
		res.Result = append(res.Result, &messages.PlayerResult{
			Uid: u.GetUid(), TotalScore: u.GetTotalScore(), WinStreak: u.GetWinStreak(),
		})
	}
	return &messages.Envelope{Body: &messages.Envelope_Result{Result: res}}
}

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
