package main

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/gateway"
	"github.com/caiquan/caiquan/messages"
)

// On the JSON wire a join and a choice go out as the npm SDK writes them
// (sdk/caiquan.js, JSON.stringify), and mean to the server what the
// envelope means. (The gateway's encoder once added "seq":0, which no
// client sends, and the server read those on its slow general path.)
func TestJSONJoinAndChoiceAsTheSDKWritesThem(t *testing.T) {
	for _, tc := range []struct {
		env  *messages.Envelope
		want string
	}{
		{&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}, `{"join":{}}`},
		{&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 3}}}, `{"choice":{"choice":3}}`},
		{&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 12}}}, `{"choice":{"choice":12}}`},
	} {
		kind, data, err := protoJSON.encode(tc.env)
		if err != nil || string(data) != tc.want {
			t.Errorf("%v: %s, %v; want %s", tc.env, data, err, tc.want)
			continue
		}
		back, err := gateway.DecodeEnvelope(data, false)
		if err != nil || !proto.Equal(back, tc.env) {
			t.Errorf("%s reads back as %v, %v", data, back, err)
		}
		if kind != 1 { // websocket.TextMessage
			t.Errorf("%s: frame kind %d", data, kind)
		}
	}
	// Anything else still goes through the gateway's encoder.
	hello := &messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: "u"}}}}
	_, data, err := protoJSON.encode(hello)
	want, _ := gateway.EncodeEnvelope(hello, false)
	if err != nil || string(data) != string(want) {
		t.Errorf("hello: %s, %v; want %s", data, err, want)
	}
}
