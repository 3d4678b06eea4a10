package gateway

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/messages"
)

// everyBody has one envelope per body, with the Socket.IO packet the spec
// wants for it: compact, every field present, lowerCamelCase names.
var everyBody = []struct {
	env    *messages.Envelope
	packet string
}{
	{helloEnv("u1"), `42["hello",{"user":{"uid":"u1","uname":"A","uavatar":""},"token":"","resume":null,"protocol":0}]`},
	{&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}, `42["join",{}]`},
	{&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 2}}}, `42["choice",{"choice":2}]`},
	{&messages.Envelope{Body: &messages.Envelope_Face{Face: &messages.Face{Face: 4}}}, `42["face",{"face":4}]`},
	{&messages.Envelope{Body: &messages.Envelope_Leave{Leave: &messages.Leave{Uid: "u2"}}}, `42["leave",{"uid":"u2"}]`},
	{&messages.Envelope{Body: &messages.Envelope_Hi{Hi: &messages.Hi{Message: "welcome", Nearby: 10}}},
		`42["hi",{"message":"welcome","nearby":10,"totalScore":0,"winStreak":0}]`},
	{&messages.Envelope{Body: &messages.Envelope_Queued{Queued: &messages.Queued{Waiting: 3}}}, `42["queued",{"waiting":3}]`},
	{&messages.Envelope{Body: &messages.Envelope_Start{Start: &messages.Start{GameTime: 3, RoundId: "r1",
		RoomUsers: []*messages.RoomUser{{Uid: "a", Uname: "A b", Uavatar: "http://x/a.png"}, {Uid: "b", TotalScore: 6, WinStreak: 3}}}}},
		`42["start",{"gameTime":3,"roomUsers":[` +
			`{"uid":"a","uname":"A b","uavatar":"http://x/a.png","choice":0,"roundScore":0,"totalScore":0,"winStreak":0},` +
			`{"uid":"b","uname":"","uavatar":"","choice":0,"roundScore":0,"totalScore":6,"winStreak":3}],"roundId":"r1","gameTimeMs":0}]`},
	{&messages.Envelope{Body: &messages.Envelope_Movement{Movement: &messages.Movement{Uid: "a", Movement: "choice"}}},
		`42["movement",{"uid":"a","movement":"choice","face":0}]`},
	{&messages.Envelope{Body: &messages.Envelope_Result{Result: &messages.Result{RoundId: "r1", Result: []*messages.PlayerResult{
		{Uid: "a", RoundScore: 2, TotalScore: 3, WinStreak: 2, Choice: 1}, {Uid: "b"}}}}},
		`42["result",{"result":[{"uid":"a","roundScore":2,"totalScore":3,"winStreak":2,"choice":1},` +
			`{"uid":"b","roundScore":0,"totalScore":0,"winStreak":0,"choice":0}],"roundId":"r1"}]`},
	{&messages.Envelope{Body: &messages.Envelope_Result{Result: &messages.Result{}}}, `42["result",{"result":[],"roundId":""}]`},
	{&messages.Envelope{Body: &messages.Envelope_Void{Void: &messages.Void{RoundId: "r1", Reason: "room failed"}}},
		`42["void",{"roundId":"r1","reason":"room failed"}]`},
	{errorEnvelope(messages.CodeHelloFirst, "say hello first"), `42["error",{"code":"hello_first","message":"say hello first"}]`},
}

func TestEncodeEventEveryBody(t *testing.T) {
	for _, tc := range everyBody {
		got, err := EncodeEvent(tc.env)
		if err != nil {
			t.Fatalf("EncodeEvent(%v): %v", tc.env, err)
		}
		if string(got) != tc.packet {
			t.Errorf("EncodeEvent:\n got %s\nwant %s", got, tc.packet)
		}
		back, err := DecodeEvent(got)
		if err != nil {
			t.Fatalf("DecodeEvent(%s): %v", got, err)
		}
		if !proto.Equal(back, tc.env) {
			t.Errorf("round trip of %s gave %v", got, back)
		}
	}
}

func TestEncodeEventRefusesEmptyEnvelope(t *testing.T) {
	if _, err := EncodeEvent(&messages.Envelope{}); err == nil {
		t.Fatal("EncodeEvent of an empty envelope succeeded")
	}
}

func TestEncodeEnvelopeEveryBody(t *testing.T) {
	for _, tc := range everyBody {
		for _, binary := range []bool{true, false} {
			data, err := EncodeEnvelope(tc.env, binary)
			if err != nil {
				t.Fatalf("EncodeEnvelope(%v, %v): %v", tc.env, binary, err)
			}
			if !binary && strings.ContainsAny(string(data), "\n\t") {
				t.Errorf("JSON not compact: %s", data)
			}
			back, err := DecodeEnvelope(data, binary)
			if err != nil {
				t.Fatalf("DecodeEnvelope(%q, %v): %v", data, binary, err)
			}
			if !proto.Equal(back, tc.env) {
				t.Errorf("round trip (binary=%v) of %v gave %v", binary, tc.env, back)
			}
		}
	}
}

func TestEncodeEnvelopeJSONShape(t *testing.T) {
	got, err := EncodeEnvelope(&messages.Envelope{Body: &messages.Envelope_Hi{Hi: &messages.Hi{Message: "a b", Nearby: 2}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"hi":{"message":"a b","nearby":2,"totalScore":0,"winStreak":0}}`
	if string(got) != want {
		t.Fatalf("got %s; want %s", got, want)
	}
}

func TestDecodeEventAccepts(t *testing.T) {
	choice := func(n int32) *messages.Envelope {
		return &messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: n}}}
	}
	join := &messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}
	tests := []struct {
		packet string
		want   *messages.Envelope
	}{
		{`42["join"]`, join},
		{`42["join",null]`, join},
		{`42["join",{}]`, join},
		{`4217["choice",{"choice":2}]`, choice(2)}, // ack id ignored
		{`42["choice",{"choice":"3"}]`, choice(3)}, // protojson takes quoted numbers
		{`42["choice",{"choice":9}]`, choice(9)},   // range checks are the session's
		{`42["choice",{"choice":1},"extra"]`, choice(1)},
		{`42[ "choice" , { "choice" : 1 } ]`, choice(1)},
		// The old client's extra keys are dropped.
		{`42["hello",{"user":{"uid":"u1","uname":"A","uavatar":"","x":1},"cordinate":{"lat":1,"lng":2}}]`, helloEnv("u1")},
	}
	for _, tc := range tests {
		got, err := decodeEvent([]byte(tc.packet), true)
		if err != nil {
			t.Errorf("decode %s: %v", tc.packet, err)
			continue
		}
		if !proto.Equal(got, tc.want) {
			t.Errorf("decode %s = %v; want %v", tc.packet, got, tc.want)
		}
	}
}

func TestDecodeEventRefuses(t *testing.T) {
	tests := []struct {
		packet string
		code   string
	}{
		{``, messages.CodeBadFrame},
		{`hello`, messages.CodeBadFrame},
		{`41`, messages.CodeBadFrame},
		{`42`, messages.CodeBadFrame},
		{`42{"a":1}`, messages.CodeBadFrame},
		{`42/chat,["hello",{}]`, messages.CodeBadFrame},
		{`42["hello"`, messages.CodeBadFrame},
		{`42[]`, messages.CodeBadFrame},
		{`42[1,{}]`, messages.CodeBadFrame},
		{`42["nope",{}]`, messages.CodeUnknownEvent},
		{`42["Hello",{}]`, messages.CodeUnknownEvent},
		{`42["hi",{}]`, messages.CodeNotClientEvent},
		{`42["result",{"result":"x"}]`, messages.CodeNotClientEvent}, // direction first
		{`42["error",{}]`, messages.CodeNotClientEvent},
		{`42["choice","x"]`, messages.CodeBadPayload},
		{`42["choice",2]`, messages.CodeBadPayload},
		{`42["choice",[2]]`, messages.CodeBadPayload},
		{`42["choice",{"choice":"x"}]`, messages.CodeBadPayload},
		{`42["choice",{"choice":1.5}]`, messages.CodeBadPayload},
		{`42["hello",{"user":"u1"}]`, messages.CodeBadPayload},
	}
	for _, tc := range tests {
		_, err := decodeEvent([]byte(tc.packet), true)
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Errorf("decode %q: err = %v; want a DecodeError %s", tc.packet, err, tc.code)
			continue
		}
		if de.Code != tc.code || de.Message == "" {
			t.Errorf("decode %q: %s %q; want code %s with a message", tc.packet, de.Code, de.Message, tc.code)
		}
	}
}

func TestDecodeEnvelopeRefuses(t *testing.T) {
	hiBinary, _ := proto.Marshal(&messages.Envelope{Body: &messages.Envelope_Hi{Hi: &messages.Hi{}}})
	tests := []struct {
		name   string
		data   []byte
		binary bool
		code   string
	}{
		{"garbage protobuf", []byte{0xff, 0xff, 0xff, 0xff, 0xff}, true, messages.CodeBadFrame},
		{"truncated protobuf", []byte{0x0a, 0x10, 0x0a}, true, messages.CodeBadFrame},
		{"empty protobuf", nil, true, messages.CodeUnknownEvent},
		{"unknown protobuf field", []byte{0xf8, 0x07, 0x01}, true, messages.CodeUnknownEvent}, // field 127, varint
		{"server body in protobuf", hiBinary, true, messages.CodeNotClientEvent},
		{"not JSON", []byte("hello"), false, messages.CodeBadFrame},
		{"JSON array", []byte(`["hello",{}]`), false, messages.CodeBadFrame},
		{"two bodies", []byte(`{"join":{},"leave":{}}`), false, messages.CodeBadFrame},
		{"empty object", []byte(`{}`), false, messages.CodeUnknownEvent},
		{"unknown key", []byte(`{"nope":{}}`), false, messages.CodeUnknownEvent},
		{"server body", []byte(`{"start":{}}`), false, messages.CodeNotClientEvent},
		{"payload not an object", []byte(`{"choice":"x"}`), false, messages.CodeBadPayload},
		{"wrong field type", []byte(`{"choice":{"choice":"x"}}`), false, messages.CodeBadPayload},
		{"wrong nested type", []byte(`{"hello":{"user":7}}`), false, messages.CodeBadPayload},
	}
	for _, tc := range tests {
		_, err := decodeEnvelope(tc.data, tc.binary, true)
		var de *DecodeError
		if !errors.As(err, &de) || de.Code != tc.code || de.Message == "" {
			t.Errorf("%s: err = %v; want code %s with a message", tc.name, err, tc.code)
		}
	}
}

func TestDecodeEnvelopeJSONAccepts(t *testing.T) {
	tests := []struct {
		text string
		want *messages.Envelope
	}{
		{`{"hello":{"user":{"uid":"u1","uname":"A","uavatar":""}}}`, helloEnv("u1")},
		{`{"hello":{"user":{"uid":"u1","uname":"A"},"extra":1},"other":2}`, helloEnv("u1")},
		{`{"join":{}}`, &messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}},
		{`{"join":null}`, &messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}},
		{`{"choice":{"choice":2}}`, &messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 2}}}},
	}
	for _, tc := range tests {
		got, err := decodeEnvelope([]byte(tc.text), false, true)
		if err != nil {
			t.Errorf("decode %s: %v", tc.text, err)
			continue
		}
		if !proto.Equal(got, tc.want) {
			t.Errorf("decode %s = %v; want %v", tc.text, got, tc.want)
		}
	}
}

func TestCloseFrameText(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	got := closeFrameText(long)
	if len(got) > 123 || !strings.HasPrefix(long, got) || len(got)%2 != 0 {
		t.Fatalf("closeFrameText cut badly: %d bytes", len(got))
	}
	if closeFrameText("short") != "short" {
		t.Fatal("short reasons must stay")
	}
}

func BenchmarkEncodeEventStart(b *testing.B) {
	env := everyBody[7].env
	for b.Loop() {
		if _, err := EncodeEvent(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEventChoice(b *testing.B) {
	packet := []byte(`42["choice",{"choice":2}]`)
	for b.Loop() {
		if _, err := decodeEvent(packet, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEnvelopeBinary(b *testing.B) {
	data, _ := proto.Marshal(helloEnv("u1"))
	for b.Loop() {
		if _, err := decodeEnvelope(data, true, true); err != nil {
			b.Fatal(err)
		}
	}
}

// A nickname with U+2028 or U+2029 must not break the 2016 client's frame
// pattern: JavaScript's '.' does not match them, so they go out escaped.
func TestEncodeEventEscapesLineSeparators(t *testing.T) {
	env := &messages.Envelope{Body: &messages.Envelope_Start{Start: &messages.Start{
		RoomUsers: []*messages.RoomUser{{Uid: "u", Uname: "a\u2028b\u2029c"}},
	}}}
	out, err := EncodeEvent(env)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(out, '\u2028') || bytes.ContainsRune(out, '\u2029') {
		t.Fatalf("raw line separator in %q", out)
	}
	back, err := DecodeEvent(out)
	if err != nil || back.GetStart().RoomUsers[0].Uname != "a\u2028b\u2029c" {
		t.Fatalf("round trip: %v %v", back, err)
	}
}
