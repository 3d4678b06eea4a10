package gateway

import (
	"encoding/json"
	"strconv"
	"sync/atomic"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/caiquan/caiquan/messages"
)

// EncodeEnvelope renders env for /ws: protobuf when binary, else compact
// protojson with every field present.
func EncodeEnvelope(env *messages.Envelope, binary bool) ([]byte, error) {
	if binary {
		if data, ok := appendProtoEnvelope(make([]byte, 0, 256), env); ok {
			return data, nil
		}
		return proto.Marshal(env)
	}
	return appendJSONEnvelope(nil, env)
}

// appendJSONEnvelope appends env as /ws JSON, {"name":{…}}, to b.
func appendJSONEnvelope(b []byte, env *messages.Envelope) ([]byte, error) {
	fd := setBody(env)
	if fd == nil {
		return marshalCompact(env) // {}: what protojson says of an empty envelope
	}
	b = append(b, `{"`...)
	b = append(b, fd.JSONName()...)
	b = append(b, `":`...)
	out, ok := appendBodyJSON(b, env)
	if !ok {
		// Bodies without an appender (the clients' own, mostly) through
		// protojson, the body alone: the envelope's "seq":0 is no field a
		// client writes, and the server reads a join or a choice quickly
		// only in the form clients write it.
		payload, err := marshalCompact(env.ProtoReflect().Get(fd).Message().Interface())
		if err != nil {
			return nil, err
		}
		out = append(b, payload...)
	}
	if seq := env.GetSeq(); seq > 0 {
		out = append(out, `,"seq":`...)
		out = strconv.AppendUint(out, uint64(seq), 10)
	}
	return append(out, '}'), nil
}

// pooledTextFrame encodes env with appendTo into a buffer of framePool.
func pooledTextFrame(env *messages.Envelope, appendTo func([]byte, *messages.Envelope) ([]byte, error)) (frame, error) {
	buf := framePool.Get().(*[]byte)
	data, err := appendTo((*buf)[:0], env)
	if err != nil {
		framePool.Put(buf)
		return frame{}, err
	}
	*buf = data
	return frame{kind: websocket.TextMessage, data: data, pooled: buf}, nil
}

// DecodeEnvelope parses one /ws frame (protobuf when binary, else protojson)
// in either direction. Errors are *DecodeError.
func DecodeEnvelope(data []byte, binary bool) (*messages.Envelope, error) {
	return decodeEnvelope(data, binary, false)
}

func decodeEnvelope(data []byte, binary, clientOnly bool) (*messages.Envelope, error) {
	if binary {
		if env, ok := fastBinary(data); ok {
			return env, nil
		}
		env := &messages.Envelope{}
		if err := proto.Unmarshal(data, env); err != nil {
			return nil, decodeErr(messages.CodeBadFrame, "invalid protobuf: %v", err)
		}
		if setBody(env) == nil {
			return nil, decodeErr(messages.CodeUnknownEvent, "empty envelope or unknown body")
		}
		if clientOnly {
			if err := checkClientBody(env); err != nil {
				return nil, err
			}
		}
		return env, nil
	}
	if env, ok := fastChoice(data, jsonChoicePrefix, jsonChoiceSuffix); ok {
		return env, nil
	}
	if env, ok := fastJoin(data, jsonJoin); ok {
		return env, nil
	}
	// Split the object first so that a wrong payload (bad_payload) is told
	// apart from an unknown key (unknown_event) and from garbage (bad_frame).
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, decodeErr(messages.CodeBadFrame, "invalid JSON envelope: %v", err)
	}
	var unknown string
	var body []byte
	found := 0
	var fd protoreflect.FieldDescriptor
	for key, raw := range fields {
		if f := bodyField(key); f != nil {
			fd, body = f, raw
			found++
		} else {
			unknown = key
		}
	}
	switch {
	case found > 1:
		return nil, decodeErr(messages.CodeBadFrame, "an envelope carries one body, got %d", found)
	case found == 0 && unknown != "":
		return nil, decodeErr(messages.CodeUnknownEvent, "unknown event %q", unknown)
	case found == 0:
		return nil, decodeErr(messages.CodeUnknownEvent, "empty envelope")
	}
	return decodeBody(fd, body, clientOnly)
}

// oursWire is the /ws protocol. Replies use the kind of the client's last
// frame, so a JSON client is answered in JSON even if it starts that way.
type oursWire struct {
	binaryOut atomic.Bool
}

func newOursWire(binaryFirst bool) *oursWire {
	w := &oursWire{}
	w.binaryOut.Store(binaryFirst)
	return w
}

func (w *oursWire) name() string      { return ProtocolWS }
func (w *oursWire) greeting() []frame { return nil }

func (w *oursWire) heartbeat() (frame, bool) { return frame{}, false }

func (w *oursWire) decode(kind int, data []byte) inbound {
	binary := kind == websocket.BinaryMessage
	w.binaryOut.Store(binary)
	env, err := decodeEnvelope(data, binary, true)
	if err != nil {
		return refuse(err)
	}
	return deliver(env)
}

func (w *oursWire) encode(env *messages.Envelope) (frame, error) {
	binary := w.binaryOut.Load()
	if binary {
		// Into a pooled buffer: a new one per frame was a twentieth of
		// what the server allocated in play.
		buf := framePool.Get().(*[]byte)
		data, ok := appendProtoEnvelope((*buf)[:0], env)
		var err error
		if !ok {
			data, err = proto.MarshalOptions{}.MarshalAppend((*buf)[:0], env)
		}
		if err != nil {
			framePool.Put(buf)
			return frame{}, err
		}
		*buf = data
		return frame{kind: websocket.BinaryMessage, data: data, pooled: buf}, nil
	}
	return pooledTextFrame(env, appendJSONEnvelope)
}
