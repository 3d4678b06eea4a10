package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/caiquan/caiquan/messages"
)

// Socket.IO over Engine.IO, websocket transport only: one packet per frame,
// events as `42["name",payload]` in the default namespace. The parts shared
// by Engine.IO 3 and 4 live here; eio3.go and eio4.go hold the differences.

// eventPrefix is an Engine.IO message (4) carrying a Socket.IO event (2).
const eventPrefix = "42"

// EncodeEvent renders env as a Socket.IO event packet, `42["name",{…}]`:
// the name is the Envelope body's field name and the payload the body in
// compact protojson with every field present. A numbered envelope (a
// session that offers recovery numbers what it sends) carries its seq as
// the offset, a string last argument, `42["name",{…},"7"]`, where
// socket.io-client looks for it; the body before it is the same for every
// player of a room. Never an ack id: the 2016 client would misread one.
func EncodeEvent(env *messages.Envelope) ([]byte, error) {
	return appendEvent(nil, env)
}

// appendEvent appends env's event packet to b.
func appendEvent(b []byte, env *messages.Envelope) ([]byte, error) {
	fd := setBody(env)
	if fd == nil {
		return nil, fmt.Errorf("gateway: cannot encode an empty envelope")
	}
	b = append(b, eventPrefix...)
	b = append(b, `["`...)
	b = append(b, fd.Name()...)
	b = append(b, `",`...)
	if out, ok := appendBodyJSON(b, env); ok {
		return appendOffset(out, env.GetSeq()), nil
	}
	payload, err := marshalCompact(env.ProtoReflect().Get(fd).Message().Interface())
	if err != nil {
		return nil, err
	}
	b = append(b, payload...)
	return appendOffset(b, env.GetSeq()), nil
}

// appendOffset ends an event's arguments, with the offset when seq is set.
func appendOffset(b []byte, seq uint32) []byte {
	if seq > 0 {
		b = append(b, `,"`...)
		b = strconv.AppendUint(b, uint64(seq), 10)
		b = append(b, '"')
	}
	return append(b, ']')
}

// DecodeEvent parses a whole event packet, `42["name",payload]` or
// `42<ackid>["name",payload]` (the ack id is ignored), in either direction.
// A missing or null payload gives an empty body (`42["join"]`); unknown
// payload keys are dropped. Errors are *DecodeError.
func DecodeEvent(packet []byte) (*messages.Envelope, error) {
	return decodeEvent(packet, false)
}

func decodeEvent(packet []byte, clientOnly bool) (*messages.Envelope, error) {
	if env, ok := fastChoice(packet, eventChoicePrefix, eventChoiceSuffix); ok {
		return env, nil
	}
	if env, ok := fastJoin(packet, eventJoin, eventJoinEmpty); ok {
		return env, nil
	}
	rest, ok := bytes.CutPrefix(packet, []byte(eventPrefix))
	if !ok {
		return nil, decodeErr(messages.CodeBadFrame, "not an event packet: %s", preview(packet))
	}
	rest = bytes.TrimLeft(rest, "0123456789") // ack id
	if len(rest) == 0 || rest[0] != '[' {
		return nil, decodeErr(messages.CodeBadFrame, "event packet without a JSON array: %s", preview(packet))
	}
	var args []json.RawMessage
	if err := json.Unmarshal(rest, &args); err != nil {
		return nil, decodeErr(messages.CodeBadFrame, "invalid event JSON: %v", err)
	}
	return decodeEventArgs(args, clientOnly)
}

// decodeEventArgs turns an event's JSON array, ["name",payload,…], into an
// Envelope.
func decodeEventArgs(args []json.RawMessage, clientOnly bool) (*messages.Envelope, error) {
	if len(args) == 0 {
		return nil, decodeErr(messages.CodeBadFrame, "event without a name")
	}
	var name string
	if err := json.Unmarshal(args[0], &name); err != nil {
		return nil, decodeErr(messages.CodeBadFrame, "event name must be a string")
	}
	fd := bodyField(name)
	if fd == nil {
		return nil, decodeErr(messages.CodeUnknownEvent, "unknown event %q", name)
	}
	var payload []byte
	if len(args) > 1 {
		payload = args[1] // further arguments are ignored
	}
	return decodeBody(fd, payload, clientOnly)
}

// decodeEventFrame is the part of inbound handling both Engine.IO versions share.
func decodeEventFrame(data []byte) inbound {
	env, err := decodeEvent(data, true)
	if err != nil {
		return refuse(err)
	}
	return deliver(env)
}

func encodeEventFrame(env *messages.Envelope) (frame, error) {
	return pooledTextFrame(env, appendEvent)
}

// newSID makes an Engine.IO session id: 20 URL-safe characters.
func newSID() string {
	var b [15]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// preview quotes the start of a bad frame for an error message.
func preview(data []byte) string {
	const max = 32
	if len(data) > max {
		return fmt.Sprintf("%q…", data[:max])
	}
	return fmt.Sprintf("%q", data)
}

var badBinary = &DecodeError{Code: messages.CodeBadFrame, Message: "Socket.IO frames are text; binary frames are not supported"}
