package chaos

import (
	"encoding/json"
	"strings"

	"github.com/caiquan/caiquan/messages"
	"google.golang.org/protobuf/encoding/protojson"
)

// Wires a Player can speak.
const (
	WireWS   = "ws"   // /ws, protobuf JSON envelopes (the default)
	WireEIO3 = "eio3" // Socket.IO over Engine.IO 3, as the 2016 mini-program speaks it
)

// eio3Path is the exact path the 2016 mini-program dials, double slash
// included.
const eio3Path = "/applet/websocket/socket.io//?EIO=3&transport=websocket"

// path is where a player of wire w connects.
func wirePath(w string) string {
	if w == WireEIO3 {
		return eio3Path
	}
	return "/ws"
}

// encodeFor renders env as wire w's text frame: an envelope on /ws,
// 42["name",payload] on Engine.IO 3 (42["join"] without one, as the 2016
// page sends it).
func encodeFor(w string, env *messages.Envelope) ([]byte, error) {
	if w != WireEIO3 {
		return protojson.Marshal(env)
	}
	m := env.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("body"))
	name := string(fd.Name())
	if name == "join" || name == "leave" {
		return []byte(`42["` + name + `"]`), nil
	}
	payload, err := protojson.Marshal(m.Get(fd).Message().Interface())
	if err != nil {
		return nil, err
	}
	return []byte(`42["` + name + `",` + string(payload) + `]`), nil
}

// decodeFor reads one text frame of wire w as an envelope; nil for what
// carries none (Engine.IO's open and connect packets, pongs).
func decodeFor(w string, data []byte) *messages.Envelope {
	env := &messages.Envelope{}
	if w != WireEIO3 {
		if protojson.Unmarshal(data, env) != nil {
			return nil
		}
		return env
	}
	rest, ok := strings.CutPrefix(string(data), "42")
	if !ok {
		return nil
	}
	var args []json.RawMessage
	if json.Unmarshal([]byte(rest), &args) != nil || len(args) == 0 {
		return nil
	}
	var name string
	if json.Unmarshal(args[0], &name) != nil {
		return nil
	}
	payload := json.RawMessage("{}")
	if len(args) > 1 {
		payload = args[1]
	}
	wrapped := append(append([]byte(`{"`+name+`":`), payload...), '}')
	if (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(wrapped, env) != nil {
		return nil
	}
	if r := env.GetResult(); r != nil && noChoices(r) {
		// The 2016 page knows no void: a voided round reaches it as a
		// result in which nobody chose (a real choice is 1 to 3).
		return &messages.Envelope{Body: &messages.Envelope_Void{Void: &messages.Void{RoundId: r.RoundId, Reason: "eio3: a result of no choices"}}}
	}
	return env
}

func noChoices(r *messages.Result) bool {
	for _, s := range r.Result {
		if s.Choice != 0 {
			return false
		}
	}
	return len(r.Result) > 0
}
