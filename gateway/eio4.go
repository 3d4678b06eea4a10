package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/messages"
)

// eio4Wire is Engine.IO 4 carrying Socket.IO 5 (socket.io-client v3 and
// v4), read as socketio/engine.io-protocol and socketio/socket.io-protocol
// specify it. The server pings (2) and the client answers (3); the client
// connects to the default namespace (40) before it may send events. Only
// the default namespace is served: a CONNECT to another one gets
// CONNECT_ERROR. A packet the protocols do not allow closes the connection
// (CloseProtocol); an event the game does not know, or whose payload is
// wrong, is answered in band (an error event, or the ack when the event
// asked for one).
//
// The same wire serves a session over WebSocket, over long-polling, and
// over the WebSocket a polling session upgrades to: decode runs on one
// goroutine at a time (the reader, or the POST in progress), and encode
// may run on any, so the namespace state is atomic.
type eio4Wire struct {
	sid       string
	open      string      // the open packet, fixed per session
	connected atomic.Bool // the default namespace is joined: 40 answered, no 41 since
}

// errNotConnected: the client is not in the default namespace, so a server
// event has nowhere to go; the connection drops it.
var errNotConnected = errors.New("gateway: the Socket.IO client left the namespace")

// newEIO4Wire makes a session's wire. A polling session offers the upgrade
// to WebSocket; a WebSocket session has nothing to upgrade to.
func newEIO4Wire(sid string, polling bool, pingInterval, pingTimeout time.Duration, maxPayload int) *eio4Wire {
	upgrades := "[]"
	if polling {
		upgrades = `["websocket"]`
	}
	open := fmt.Sprintf(`0{"sid":%q,"upgrades":%s,"pingInterval":%d,"pingTimeout":%d,"maxPayload":%d}`,
		sid, upgrades, pingInterval.Milliseconds(), pingTimeout.Milliseconds(), maxPayload)
	return &eio4Wire{sid: sid, open: open}
}

func (w *eio4Wire) name() string { return ProtocolEIO4 }

func (w *eio4Wire) inNamespace() bool { return w.connected.Load() }

func (w *eio4Wire) greeting() []frame { return []frame{textFrame(w.open)} }

func (w *eio4Wire) heartbeat() (frame, bool) { return textFrame("2"), true }

func (w *eio4Wire) encode(env *messages.Envelope) (frame, error) {
	if !w.connected.Load() {
		return frame{}, errNotConnected
	}
	return encodeEventFrame(env)
}

// violation closes the connection for a packet the protocol forbids.
func violation(format string, args ...any) inbound {
	return inbound{close: true, closeCode: messages.CloseProtocol, closeReason: fmt.Sprintf(format, args...)}
}

// decode reads one Engine.IO packet.
func (w *eio4Wire) decode(kind int, data []byte) inbound {
	if kind != websocket.TextMessage {
		return violation("binary packets are not supported")
	}
	if len(data) == 0 {
		return violation("empty Engine.IO packet")
	}
	switch data[0] {
	case '1': // close
		// Engine.IO's close is a transport's end (socket.io recovers a
		// session after it); leaving is the namespace's DISCONNECT.
		in := hangUp(clientDisconnected)
		in.lost = w.connected.Load()
		return in
	case '2': // ping; "2probe" during an upgrade. The pong echoes the payload.
		if len(data) > 1 && string(data) != "2probe" {
			return violation("ping with payload %s", preview(data))
		}
		return reply(textFrame("3" + string(data[1:])))
	case '3', '5', '6': // pong (any packet counts as liveness), upgrade, noop
		return inbound{}
	case '4':
		return w.decodeSocketIO(data[1:])
	}
	return violation("unknown Engine.IO packet %s", preview(data))
}

// maxAckIDDigits keeps ack ids within what a JavaScript number holds exactly.
const maxAckIDDigits = 15

// decodeSocketIO reads one Socket.IO packet:
// <type>[<namespace>,][<ack id>][JSON payload].
func (w *eio4Wire) decodeSocketIO(p []byte) inbound {
	if len(p) == 0 {
		return violation("empty Socket.IO packet")
	}
	typ, rest := p[0], p[1:]
	if typ == '5' || typ == '6' {
		return violation("binary attachments are not supported")
	}
	if typ < '0' || typ > '4' {
		return violation("unknown Socket.IO packet type %q", typ)
	}
	nsp := "/"
	if len(rest) > 0 && rest[0] == '/' {
		end := bytes.IndexByte(rest, ',')
		if end < 0 {
			end = len(rest)
		}
		nsp = string(rest[:end])
		rest = rest[min(end+1, len(rest)):]
		if !utf8.ValidString(nsp) {
			return violation("namespace is not UTF-8")
		}
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	ackID := ""
	if n > 0 {
		if n > maxAckIDDigits || typ == '0' || typ == '1' {
			return violation("bad ack id in %s", preview(p))
		}
		ackID, rest = string(rest[:n]), rest[n:]
	}
	switch typ {
	case '0':
		return w.connect(nsp, rest)
	case '1':
		if len(rest) > 0 {
			return violation("DISCONNECT with a payload")
		}
		if nsp != "/" || !w.connected.Load() {
			return violation("DISCONNECT from %s, which the client is not in", nsp)
		}
		w.connected.Store(false) // the Engine.IO session stays
		return inbound{}
	case '2':
		if nsp != "/" || !w.connected.Load() {
			return violation("EVENT to %s before CONNECT", nsp)
		}
		return w.event(ackID, rest)
	case '3':
		// The server asks for no acks, so there is nothing to match one to.
		var args []json.RawMessage
		if ackID == "" || json.Unmarshal(rest, &args) != nil {
			return violation("ACK without an id or an array")
		}
		return inbound{}
	}
	return violation("CONNECT_ERROR is sent by servers only")
}

// connect takes CONNECT: CONNECT_ERROR for a namespace other than the
// default one. A string "token" in the auth object is the session token
// (socket.io-client's `auth: {token}`); strings "pid" and "offset" ask to
// recover a session (connection state recovery); anything else in it is
// ignored. The session answers (connectFrame), or for a session that does
// not, reply holds 40{"sid"}. A second CONNECT makes a new Socket.IO
// socket, as the protocol has it: a new sid.
//
// The namespace counts as joined at once, so events the client sends
// right behind its CONNECT reach the session, after the CONNECT.
func (w *eio4Wire) connect(nsp string, payload []byte) inbound {
	var auth map[string]json.RawMessage
	if len(payload) > 0 && (payload[0] != '{' || json.Unmarshal(payload, &auth) != nil) {
		return violation("CONNECT payload is not a JSON object")
	}
	if nsp != "/" {
		return reply(textFrame("44" + nsp + `,{"message":"Invalid namespace"}`))
	}
	w.connected.Store(true)
	in := reply(w.connectFrame(""))
	in.token = authString(auth, "token")
	in.connect = &actors.SocketIOConnect{Token: in.token, PID: authString(auth, "pid"), Offset: authString(auth, "offset")}
	return in
}

// authString is a string of a CONNECT's auth; "" if absent or not a string.
func authString(auth map[string]json.RawMessage, key string) string {
	var s string
	if raw, ok := auth[key]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// connectFrame answers CONNECT: 40{"sid"}, and the pid when the server
// offers recovery (socket.io-client keeps it, and sends it back with the
// offset of the last event it saw when it reconnects).
func (w *eio4Wire) connectFrame(pid string) frame {
	if pid == "" {
		return textFrame(`40{"sid":"` + newSID() + `"}`)
	}
	b, _ := json.Marshal(struct {
		SID string `json:"sid"`
		PID string `json:"pid"`
	}{newSID(), pid})
	return frame{kind: websocket.TextMessage, data: append([]byte("40"), b...)}
}

// event decodes an EVENT; with an ack id, the answer is an ACK: [] once the
// event is handed to the session, [{"code","message"}] when it is refused.
func (w *eio4Wire) event(ackID string, payload []byte) inbound {
	if env, ok := fastChoice(payload, eventChoiceArgs, eventChoiceSuffix); ok {
		in := deliver(env)
		in.ackID = ackID
		return in
	}
	if env, ok := fastJoin(payload, eventJoinArgs, eventJoinArgs2); ok {
		in := deliver(env)
		in.ackID = ackID
		return in
	}
	var args []json.RawMessage
	if len(payload) == 0 || payload[0] != '[' || json.Unmarshal(payload, &args) != nil {
		return violation("EVENT payload is not a JSON array")
	}
	if len(args) == 0 {
		return violation("EVENT payload is an empty array")
	}
	env, err := decodeEventArgs(args, true)
	in := deliver(env)
	if err != nil {
		in = refuse(err)
	}
	in.ackID = ackID
	return in
}

// ackFrame is 43<id>[] for a message taken, 43<id>[{"code","message"}]
// for one refused.
func ackFrame(id, code, message string) frame {
	if code == "" {
		return textFrame("43" + id + "[]")
	}
	body, _ := json.Marshal([]engineIOAckError{{Code: code, Message: message}})
	return frame{kind: websocket.TextMessage, data: append([]byte("43"+id), body...)}
}

// deliverWithAck hands env to s and sends the ACK with id through send:
// with the session's verdict when it can give one, else at once as taken.
func deliverWithAck(s actors.Session, env *messages.Envelope, id string, send func(frame) bool) {
	if as, ok := s.(actors.AckSession); ok {
		as.DeliverAck(env, func(code, message string) { send(ackFrame(id, code, message)) })
		return
	}
	s.Deliver(env)
	send(ackFrame(id, "", ""))
}

// engineIOAckError is the one argument of an ACK that refuses an event; the
// codes are the error event's.
type engineIOAckError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
