package gateway

import (
	"testing"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/messages"
)

func TestWSBinaryRoundTrip(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.dial(t, "/ws", nil)
	s := ts.session(t)

	if err := ws.WriteMessage(websocket.BinaryMessage, mustMarshal(t, helloEnv("u1"))); err != nil {
		t.Fatal(err)
	}
	if got := s.next(t); !proto.Equal(got, helloEnv("u1")) {
		t.Fatalf("delivered %v; want the hello", got)
	}
	env, kind := readEnvelope(t, ws)
	if kind != websocket.BinaryMessage || env.GetHi().GetMessage() != "welcome" {
		t.Fatalf("got %v (kind %d); want a binary hi", env, kind)
	}
}

func TestWSJSONRoundTrip(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.dial(t, "/ws", nil)
	s := ts.session(t)

	writeText(t, ws, `{"hello":{"user":{"uid":"abc","uname":"A","uavatar":""}}}`)
	if got := s.next(t); got.GetHello().GetUser().GetUid() != "abc" {
		t.Fatalf("delivered %v; want hello from abc", got)
	}
	if got, want := readText(t, ws), `{"hi":{"message":"welcome","nearby":1,"totalScore":0,"winStreak":0}}`; got != want {
		t.Fatalf("got %s; want %s", got, want)
	}
	writeText(t, ws, `{"choice":{"choice":2}}`)
	if got := s.next(t); got.GetChoice().GetChoice() != 2 {
		t.Fatalf("delivered %v; want choice 2", got)
	}
}

func TestWSFormatBeforeFirstFrame(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	queued := &messages.Envelope{Body: &messages.Envelope_Queued{Queued: &messages.Queued{Waiting: 1}}}
	for _, tc := range []struct {
		query string
		kind  int
	}{{"", websocket.BinaryMessage}, {"?format=json", websocket.TextMessage}, {"?format=proto", websocket.BinaryMessage}} {
		ws := ts.dial(t, "/ws"+tc.query, nil)
		s := ts.session(t)
		if !s.conn.Send(queued) {
			t.Fatal("Send refused on an open connection")
		}
		if env, kind := readEnvelope(t, ws); kind != tc.kind || !proto.Equal(env, queued) {
			t.Errorf("/ws%s: got %v in kind %d; want kind %d", tc.query, env, kind, tc.kind)
		}
	}
}

func TestWSFormatFollowsLastFrame(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.dial(t, "/ws?format=json", nil)
	s := ts.session(t)

	ws.WriteMessage(websocket.BinaryMessage, mustMarshal(t, helloEnv("u1")))
	s.next(t)
	if _, kind := readEnvelope(t, ws); kind != websocket.BinaryMessage {
		t.Fatal("a binary hello was not answered in binary")
	}
	writeText(t, ws, `{"join":{}}`)
	s.next(t)
	s.conn.Send(&messages.Envelope{Body: &messages.Envelope_Queued{Queued: &messages.Queued{}}})
	if _, kind := readEnvelope(t, ws); kind != websocket.TextMessage {
		t.Fatal("after a text frame the server still sends binary")
	}
}

// Every bad frame is answered with an error of the right code, reaches no
// session, and leaves the connection usable.
func TestWSBadInput(t *testing.T) {
	hi := mustMarshal(t, &messages.Envelope{Body: &messages.Envelope_Hi{Hi: &messages.Hi{}}})
	tests := []struct {
		name string
		kind int
		data string
		code string
	}{
		{"random bytes", websocket.BinaryMessage, "\xff\xff\xff\xff\xff\xff", messages.CodeBadFrame},
		{"random text", websocket.TextMessage, "\x01\x02garbage", messages.CodeBadFrame},
		{"empty binary envelope", websocket.BinaryMessage, "", messages.CodeUnknownEvent},
		{"empty JSON envelope", websocket.TextMessage, `{}`, messages.CodeUnknownEvent},
		{"unknown event", websocket.TextMessage, `{"dance":{}}`, messages.CodeUnknownEvent},
		{"server body in JSON", websocket.TextMessage, `{"hi":{}}`, messages.CodeNotClientEvent},
		{"server body in protobuf", websocket.BinaryMessage, string(hi), messages.CodeNotClientEvent},
		{"payload of the wrong shape", websocket.TextMessage, `{"choice":"x"}`, messages.CodeBadPayload},
		{"field of the wrong type", websocket.TextMessage, `{"choice":{"choice":"x"}}`, messages.CodeBadPayload},
	}
	ts := newTestServer(t, nil, nil)
	ws := ts.dial(t, "/ws", nil)
	s := ts.session(t)
	for _, tc := range tests {
		if err := ws.WriteMessage(tc.kind, []byte(tc.data)); err != nil {
			t.Fatalf("%s: write: %v", tc.name, err)
		}
		env, kind := readEnvelope(t, ws)
		if kind != tc.kind {
			t.Errorf("%s: error came as kind %d; want the frame's kind %d", tc.name, kind, tc.kind)
		}
		if e := env.GetError(); e == nil || e.Code != tc.code || e.Message == "" {
			t.Errorf("%s: got %v; want error %s with a message", tc.name, env, tc.code)
		}
	}
	s.expectNothingDelivered(t)
	writeText(t, ws, `{"join":{}}`)
	if got := s.next(t); got.GetJoin() == nil {
		t.Fatalf("after bad frames, delivered %v; want join", got)
	}
}
