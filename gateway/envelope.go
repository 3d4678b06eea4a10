package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/caiquan/caiquan/messages"
)

// DecodeError says why a client frame was refused. Code is one of the
// messages.Code* words and goes to the client in an Error envelope.
type DecodeError struct {
	Code    string
	Message string
}

func (e *DecodeError) Error() string { return e.Code + ": " + e.Message }

func decodeErr(code, format string, args ...any) *DecodeError {
	return &DecodeError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// envelopeBody is the Envelope's oneof; its field names are also the
// Socket.IO event names, so the schema is the one list of events.
var envelopeBody = (&messages.Envelope{}).ProtoReflect().Descriptor().Oneofs().ByName("body")

// clientBodies are the bodies a client may send. leave goes both ways.
var clientBodies = map[protoreflect.Name]bool{
	"hello": true, "join": true, "choice": true, "face": true, "leave": true,
}

// bodyField finds the oneof field for an event or JSON key, or nil.
func bodyField(name string) protoreflect.FieldDescriptor {
	fd := envelopeBody.Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		// protojson also accepts the JSON name; for one-word fields it is the same.
		fd = envelopeBody.Fields().ByJSONName(name)
	}
	return fd
}

// setBody returns the field that is set in env, or nil for an empty envelope.
func setBody(env *messages.Envelope) protoreflect.FieldDescriptor {
	if env == nil {
		return nil
	}
	return env.ProtoReflect().WhichOneof(envelopeBody)
}

var (
	// Unknown keys are dropped: the 2016 client may send extras such as cordinate.
	payloadUnmarshal = protojson.UnmarshalOptions{DiscardUnknown: true}
	// Every field present (choice: 0, roomUsers: []), as the demo's clients expect.
	payloadMarshal = protojson.MarshalOptions{EmitUnpopulated: true}
)

// decodeBody builds an Envelope whose body is field fd, filled from the JSON
// payload raw (absent or null means an empty body). With clientOnly, bodies
// that only the server sends are refused before their payload is looked at.
func decodeBody(fd protoreflect.FieldDescriptor, raw []byte, clientOnly bool) (*messages.Envelope, error) {
	if clientOnly && !clientBodies[fd.Name()] {
		return nil, decodeErr(messages.CodeNotClientEvent, "%s is sent by the server only", fd.Name())
	}
	env := &messages.Envelope{}
	m := env.ProtoReflect()
	body := m.NewField(fd).Message()
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if raw[0] != '{' {
			return nil, decodeErr(messages.CodeBadPayload, "%s payload must be an object", fd.Name())
		}
		if err := payloadUnmarshal.Unmarshal(raw, body.Interface()); err != nil {
			return nil, decodeErr(messages.CodeBadPayload, "%s payload: %v", fd.Name(), err)
		}
	}
	m.Set(fd, protoreflect.ValueOfMessage(body))
	return env, nil
}

// checkClientBody refuses empty envelopes and server-only bodies.
func checkClientBody(env *messages.Envelope) error {
	fd := setBody(env)
	if fd == nil {
		return decodeErr(messages.CodeUnknownEvent, "empty envelope or unknown body")
	}
	if !clientBodies[fd.Name()] {
		return decodeErr(messages.CodeNotClientEvent, "%s is sent by the server only", fd.Name())
	}
	return nil
}

// marshalCompact renders m as protojson with every field, on one line.
// protojson adds random whitespace on purpose; Compact removes it.
func marshalCompact(m proto.Message) ([]byte, error) {
	raw, err := payloadMarshal.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(raw))
	if err := json.Compact(&out, raw); err != nil {
		return nil, err
	}
	return escapeLineSeparators(out.Bytes()), nil
}

// escapeLineSeparators writes U+2028 and U+2029 as \u escapes. JSON allows
// them raw, but in JavaScript '.' does not match them, so the 2016 client's
// frame pattern ^(\d)(\d?)(.*)$ would fail on a nickname holding one.
func escapeLineSeparators(b []byte) []byte {
	if !bytes.Contains(b, lineSep) && !bytes.Contains(b, paraSep) {
		return b
	}
	b = bytes.ReplaceAll(b, lineSep, []byte(`\u2028`))
	return bytes.ReplaceAll(b, paraSep, []byte(`\u2029`))
}

var (
	lineSep = []byte("\u2028")
	paraSep = []byte("\u2029")
)

func errorEnvelope(code, message string) *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_Error{Error: &messages.Error{Code: code, Message: message}}}
}
