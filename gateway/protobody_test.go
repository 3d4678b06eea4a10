package gateway

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/messages"
)

// randomRoundEnvelope is a start, movement or result with fields each
// zero or not, negative or not, and strings of any length and script.
func randomRoundEnvelope(r *rand.Rand) *messages.Envelope {
	str := func() string {
		words := []string{"", "a", "p1", "玩家", "ünï", "\u2028", `"<&>"`, string(make([]byte, 130)), "round-0123456789abcdef"}
		return words[r.IntN(len(words))]
	}
	num := func() int32 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return -r.Int32N(1 << 20)
		default:
			return r.Int32()
		}
	}
	env := &messages.Envelope{}
	if r.IntN(2) == 0 {
		env.Seq = r.Uint32N(1 << 30)
	}
	switch r.IntN(3) {
	case 0:
		s := &messages.Start{GameTime: num(), RoundId: str(), GameTimeMs: num()}
		for range r.IntN(17) {
			s.RoomUsers = append(s.RoomUsers, &messages.RoomUser{Uid: str(), Uname: str(), Uavatar: str(),
				Choice: num(), RoundScore: num(), TotalScore: num(), WinStreak: num()})
		}
		env.Body = &messages.Envelope_Start{Start: s}
	case 1:
		env.Body = &messages.Envelope_Movement{Movement: &messages.Movement{Uid: str(), Movement: str(), Face: num()}}
	default:
		res := &messages.Result{RoundId: str()}
		for range r.IntN(17) {
			res.Result = append(res.Result, &messages.PlayerResult{Uid: str(), RoundScore: num(), TotalScore: num(),
				WinStreak: num(), Choice: num()})
		}
		env.Body = &messages.Envelope_Result{Result: res}
	}
	return env
}

// The round's bodies are written byte for byte as proto.Marshal writes
// them.
func TestProtoEnvelopeMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		env := randomRoundEnvelope(r)
		want, err := proto.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendProtoEnvelope([]byte("prefix"), env)
		if !ok {
			t.Fatalf("%d: %v not written here", i, env)
		}
		if !bytes.Equal(got[len("prefix"):], want) || string(got[:len("prefix")]) != "prefix" {
			t.Fatalf("%d: %v\n got % x\nwant % x", i, env, got, want)
		}
	}
}

// Everything else is left to proto.Marshal: other bodies, a missing body,
// unknown fields at any depth, and strings proto.Marshal refuses.
func TestProtoEnvelopeLeavesTheRestToMarshal(t *testing.T) {
	withUnknown := func(m proto.Message) {
		m.ProtoReflect().SetUnknown([]byte{0xf8, 0x06, 0x01}) // field 111, varint 1
	}
	start := func() *messages.Start {
		return &messages.Start{RoundId: "r", RoomUsers: []*messages.RoomUser{{Uid: "a"}}}
	}
	cases := map[string]func() *messages.Envelope{
		"hi":         func() *messages.Envelope { return &messages.Envelope{Body: &messages.Envelope_Hi{Hi: &messages.Hi{}}} },
		"no body":    func() *messages.Envelope { return &messages.Envelope{Seq: 3} },
		"nil start":  func() *messages.Envelope { return &messages.Envelope{Body: &messages.Envelope_Start{}} },
		"nil result": func() *messages.Envelope { return &messages.Envelope{Body: &messages.Envelope_Result{}} },
		"unknown in the envelope": func() *messages.Envelope {
			env := &messages.Envelope{Body: &messages.Envelope_Start{Start: start()}}
			withUnknown(env)
			return env
		},
		"unknown in a room user": func() *messages.Envelope {
			s := start()
			withUnknown(s.RoomUsers[0])
			return &messages.Envelope{Body: &messages.Envelope_Start{Start: s}}
		},
		"unknown in a line": func() *messages.Envelope {
			res := &messages.Result{Result: []*messages.PlayerResult{{Uid: "a"}}}
			withUnknown(res.Result[0])
			return &messages.Envelope{Body: &messages.Envelope_Result{Result: res}}
		},
		"not UTF-8": func() *messages.Envelope {
			return &messages.Envelope{Body: &messages.Envelope_Movement{Movement: &messages.Movement{Uid: "a\xff"}}}
		},
		"not UTF-8 in a room user": func() *messages.Envelope {
			s := start()
			s.RoomUsers[0].Uname = "\xc3"
			return &messages.Envelope{Body: &messages.Envelope_Start{Start: s}}
		},
	}
	for name, env := range cases {
		if got, ok := appendProtoEnvelope([]byte("x"), env()); ok || string(got) != "x" {
			t.Errorf("%s: written here (%v, % x)", name, ok, got)
		}
	}
	// And EncodeEnvelope still says what proto.Marshal says of them.
	if _, err := EncodeEnvelope(cases["not UTF-8"](), true); err == nil {
		t.Error("a movement that is not UTF-8 was encoded")
	}
	data, err := EncodeEnvelope(cases["unknown in a room user"](), true)
	want, _ := proto.Marshal(cases["unknown in a room user"]())
	if err != nil || !bytes.Equal(data, want) {
		t.Errorf("unknown field: % x, %v; want % x", data, err, want)
	}
}
