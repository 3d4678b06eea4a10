package gateway

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/messages"
)

// Each wire's encode of the server's messages and decode of the client's,
// on the envelopes of everyBody. BenchmarkEncodeEventStart,
// BenchmarkDecodeEventChoice and BenchmarkDecodeEnvelopeBinary (hello) in
// codec_test.go cover the rest.

var (
	benchHello    = everyBody[0].env
	benchChoice   = everyBody[2].env
	benchStart    = everyBody[7].env
	benchMovement = everyBody[8].env
	benchResult   = everyBody[9].env
)

func BenchmarkEncode(b *testing.B) {
	wires := []struct {
		name   string
		encode func(*messages.Envelope) ([]byte, error)
	}{
		{"binary", func(env *messages.Envelope) ([]byte, error) { return EncodeEnvelope(env, true) }},
		{"json", func(env *messages.Envelope) ([]byte, error) { return EncodeEnvelope(env, false) }},
		{"event", EncodeEvent},
	}
	bodies := []struct {
		name string
		env  *messages.Envelope
	}{{"start", benchStart}, {"movement", benchMovement}, {"result", benchResult}}
	for _, w := range wires {
		for _, body := range bodies {
			if w.name == "event" && body.name == "start" {
				continue // BenchmarkEncodeEventStart
			}
			b.Run(w.name+"/"+body.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := w.encode(body.env); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	frames := []struct {
		name   string
		data   []byte
		decode func([]byte) (*messages.Envelope, error)
	}{
		{"binary/choice", benchProto(benchChoice), func(d []byte) (*messages.Envelope, error) { return decodeEnvelope(d, true, true) }},
		{"json/choice", benchJSON(benchChoice), func(d []byte) (*messages.Envelope, error) { return decodeEnvelope(d, false, true) }},
		{"json/hello", benchJSON(benchHello), func(d []byte) (*messages.Envelope, error) { return decodeEnvelope(d, false, true) }},
		{"event/hello", []byte(everyBody[0].packet), func(d []byte) (*messages.Envelope, error) { return decodeEvent(d, true) }},
		// What a client decodes most: results, in each wire.
		{"binary/result", benchProto(benchResult), func(d []byte) (*messages.Envelope, error) { return DecodeEnvelope(d, true) }},
		{"json/result", benchJSON(benchResult), func(d []byte) (*messages.Envelope, error) { return DecodeEnvelope(d, false) }},
		{"event/result", []byte(everyBody[9].packet), DecodeEvent},
	}
	for _, f := range frames {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.decode(f.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchProto(env *messages.Envelope) []byte {
	data, err := proto.Marshal(env)
	if err != nil {
		panic(err)
	}
	return data
}

func benchJSON(env *messages.Envelope) []byte {
	data, err := EncodeEnvelope(env, false)
	if err != nil {
		panic(err)
	}
	return data
}
