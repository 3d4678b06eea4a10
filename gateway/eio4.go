package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/messages"
)

// eio4Wire is Engine.IO 4, as socket.io-client v3/v4 speaks it with
// transports: ['websocket']. The server pings (2) and the client answers (3);
// the client connects to the namespace (40) before it may send events.
type eio4Wire struct {
	open      string // the open packet, fixed per connection
	connected bool   // the client's 40 was answered; reader goroutine only
}

func newEIO4Wire(pingInterval, pingTimeout time.Duration, maxPayload int) *eio4Wire {
	open := fmt.Sprintf(`0{"sid":%q,"upgrades":[],"pingInterval":%d,"pingTimeout":%d,"maxPayload":%d}`,
		newSID(), pingInterval.Milliseconds(), pingTimeout.Milliseconds(), maxPayload)
	return &eio4Wire{open: open}
}

func (w *eio4Wire) name() string { return "eio4" }

func (w *eio4Wire) greeting() []frame { return []frame{textFrame(w.open)} }

func (w *eio4Wire) heartbeat() (frame, bool) { return textFrame("2"), true }

func (w *eio4Wire) encode(env *messages.Envelope) (frame, error) { return encodeEventFrame(env) }

func (w *eio4Wire) decode(kind int, data []byte) inbound {
	if kind != websocket.TextMessage {
		return inbound{err: badBinary}
	}
	switch string(data) {
	case "2":
		return reply(textFrame("3"))
	case "2probe":
		return reply(textFrame("3probe"))
	case "3", "6": // pong (the connection notes any frame as liveness), noop
		return inbound{}
	case "1", "41":
		return hangUp("client disconnected")
	}
	if rest, ok := bytes.CutPrefix(data, []byte("40")); ok {
		return w.connect(rest)
	}
	if bytes.HasPrefix(data, []byte(eventPrefix)) {
		if !w.connected {
			return refuse(decodeErr(messages.CodeBadFrame, "event before the Socket.IO connect packet 40"))
		}
		return decodeEventFrame(data)
	}
	return refuse(decodeErr(messages.CodeBadFrame, "unknown Engine.IO packet %s", preview(data)))
}

// connect answers 40 or 40{auth}; other namespaces are refused. A string
// "token" in the auth is the session token (socket.io-client's
// `auth: {token}`); anything else in it is ignored.
func (w *eio4Wire) connect(rest []byte) inbound {
	if len(rest) > 0 && rest[0] != '{' {
		return refuse(decodeErr(messages.CodeBadFrame, "only the default namespace is served"))
	}
	if w.connected {
		return inbound{}
	}
	w.connected = true
	in := reply(textFrame(`40{"sid":"` + newSID() + `"}`))
	var auth struct {
		Token any `json:"token"`
	}
	if json.Unmarshal(rest, &auth) == nil {
		in.token, _ = auth.Token.(string)
	}
	return in
}
