package main

import (
	"testing"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/gateway"
	"github.com/caiquan/caiquan/messages"
)

// The messages a playing client receives most, as a room of a load player
// and a bot looks: a start, a movement of the other seat, a result.
func benchStart() *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_Start{Start: &messages.Start{
		GameTime: 3, GameTimeMs: 3000, RoundId: "r5f3a9c1e-1042",
		RoomUsers: []*messages.RoomUser{
			{Uid: "ldt3m9kq0b2-17", Uname: "load 17", TotalScore: 12, WinStreak: 2},
			{Uid: "bot-r5f3a9c1e-1042-2", Uname: "小明 (bot)"},
		},
	}}}
}

func benchMovement() *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_Movement{Movement: &messages.Movement{
		Uid: "bot-r5f3a9c1e-1042-2", Movement: "choice",
	}}}
}

func benchResult() *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_Result{Result: &messages.Result{
		RoundId: "r5f3a9c1e-1042",
		Result: []*messages.PlayerResult{
			{Uid: "ldt3m9kq0b2-17", RoundScore: 1, TotalScore: 13, WinStreak: 3, Choice: 2},
			{Uid: "bot-r5f3a9c1e-1042-2", RoundScore: -1, TotalScore: -1, Choice: 1},
		},
	}}}
}

// serverFrame is env as the server writes it on wire p: the gateway's own
// encoders, which its connections use for server messages.
func serverFrame(tb testing.TB, p protocol, env *messages.Envelope) (kind int, data []byte) {
	tb.Helper()
	var err error
	switch p {
	case protoBinary:
		kind = websocket.BinaryMessage
		data, err = gateway.EncodeEnvelope(env, true)
	case protoJSON:
		kind = websocket.TextMessage
		data, err = gateway.EncodeEnvelope(env, false)
	default:
		kind = websocket.TextMessage
		data, err = gateway.EncodeEvent(env)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return kind, data
}

// BenchmarkToolDecode is what the tool spends on each frame it reads of
// the frequent kinds, on each wire: its own decode (tool: on the text
// wires the fast path, and the gateway's decoder too on one frame in
// crossCheckEvery), the fast path alone (fast), and the gateway's general
// decoder alone (gateway), to compare with.
func BenchmarkToolDecode(b *testing.B) {
	bodies := []struct {
		name string
		env  *messages.Envelope
	}{{"start", benchStart()}, {"movement", benchMovement()}, {"result", benchResult()}}
	for _, p := range []protocol{protoBinary, protoJSON, protoEIO3, protoEIO4} {
		for _, body := range bodies {
			kind, data := serverFrame(b, p, body.env)
			b.Run(p.String()+"/"+body.name+"/tool", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if pk := p.decode(kind, data); pk.env == nil || pk.bad != "" {
						b.Fatalf("%s: %+v", data, pk)
					}
				}
			})
			if p != protoBinary {
				b.Run(p.String()+"/"+body.name+"/fast", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if env, _ := fastDecode(data, p != protoJSON); env == nil {
							b.Fatalf("declined %s", data)
						}
					}
				})
			}
			b.Run(p.String()+"/"+body.name+"/gateway", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if p == protoBinary || p == protoJSON {
						_, err = gateway.DecodeEnvelope(data, p == protoBinary)
					} else {
						_, err = gateway.DecodeEvent(data)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
