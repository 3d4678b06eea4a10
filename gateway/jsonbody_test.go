package gateway

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/caiquan/caiquan/messages"
)

// trickyStrings are what a player's name may hold that JSON must escape.
var trickyStrings = []string{
	"", "a", `quo"te`, `back\slash`, "tab\tnew\nline\r", "\x00\x01\x1f\x7f", "小明😀",
	"line\u2028para\u2029", "</script>", "&<>", "é\u00a0\ufeff",
}

// fillRandom sets every field of m, recursively, to random values: lists of
// zero to three, ints of either sign, strings from trickyStrings.
func fillRandom(m protoreflect.Message, rng *rand.Rand) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		switch {
		case fd.IsList():
			list := m.Mutable(fd).List()
			for n := rng.IntN(4); n > 0; n-- {
				if fd.Kind() == protoreflect.MessageKind {
					v := list.NewElement()
					fillRandom(v.Message(), rng)
					list.Append(v)
				} else {
					list.Append(scalar(fd, rng))
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			fillRandom(m.Mutable(fd).Message(), rng)
		default:
			m.Set(fd, scalar(fd, rng))
		}
	}
}

func scalar(fd protoreflect.FieldDescriptor, rng *rand.Rand) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(trickyStrings[rng.IntN(len(trickyStrings))])
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(rng.IntN(2) == 0)
	case protoreflect.Int32Kind:
		if rng.IntN(4) == 0 {
			return protoreflect.ValueOfInt32(0)
		}
		return protoreflect.ValueOfInt32(rng.Int32() - 1<<30)
	}
	panic("fillRandom: add kind " + fd.Kind().String())
}

// The hand-written JSON of every server message says what protojson says,
// for every field: a field added to a server message fails this test until
// appendBodyJSON writes it.
func TestJSONBodiesMatchProtojson(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fields := envelopeBody.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if clientBodies[fd.Name()] && fd.Name() != "leave" {
			continue
		}
		for n := 0; n < 200; n++ {
			env := &messages.Envelope{}
			body := env.ProtoReflect().NewField(fd)
			if n > 0 { // the first is the empty body
				fillRandom(body.Message(), rng)
			}
			env.ProtoReflect().Set(fd, body)

			got, ok := appendBodyJSON(nil, env)
			if !ok {
				t.Fatalf("%s: no hand-written JSON", fd.Name())
			}
			want, err := marshalCompact(body.Message().Interface())
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("%s: invalid JSON %s: %v", fd.Name(), got, err)
			}
			json.Unmarshal(want, &w)
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("%s:\n got %s\nwant %s", fd.Name(), got, want)
			}
			if bytes.Contains(got, []byte("\u2028")) || bytes.Contains(got, []byte("\u2029")) {
				t.Fatalf("%s: raw line separator in %s", fd.Name(), got)
			}
		}
	}
}

// Invalid UTF-8 never reaches a client as such.
func TestJSONStringInvalidUTF8(t *testing.T) {
	got := appendJSONString(nil, "a\xffb")
	if string(got) != `"a\ufffdb"` {
		t.Fatalf("%s", got)
	}
}

// The quick read of a choice says what the general path says, and leaves
// every other spelling to it.
func TestFastChoiceMatchesGeneralDecode(t *testing.T) {
	for _, frame := range []string{
		`{"choice":{"choice":2}}`, `{"choice":{"choice":0}}`, `{"choice":{"choice":999}}`, `{"choice":{"choice":007}}`,
		`{"choice":{"choice":1000}}`, `{"choice":{"choice":-1}}`, `{"choice":{"choice":}}`, `{"choice":{"choice":2} }`,
		`{"choice":{"choice":"2"}}`, `{"choice":{"choice":2}}x`,
	} {
		fast, ok := fastChoice([]byte(frame), jsonChoicePrefix, jsonChoiceSuffix)
		if !ok {
			continue
		}
		var general messages.Choice
		if err := payloadUnmarshal.Unmarshal([]byte(frame[len(`{"choice":`):len(frame)-1]), &general); err != nil {
			t.Errorf("%s: fast read %v, general refused: %v", frame, fast, err)
			continue
		}
		if fast.GetChoice().GetChoice() != general.GetChoice() {
			t.Errorf("%s: fast %d, general %d", frame, fast.GetChoice().GetChoice(), general.GetChoice())
		}
	}
	if _, ok := fastChoice([]byte(`42["choice",{"choice":3}]`), eventChoicePrefix, eventChoiceSuffix); !ok {
		t.Fatal("the Socket.IO choice was not read quickly")
	}
	for _, frame := range []string{`{"choice":{"choice":1000}}`, `{"choice":{"choice":-1}}`, `{"choice":{"choice":"2"}}`, `{"choice":{"choice":007}}`} {
		if _, ok := fastChoice([]byte(frame), jsonChoicePrefix, jsonChoiceSuffix); ok {
			t.Errorf("%s read quickly", frame)
		}
	}
}

// The quick read of a join takes only the exact frames clients send, and
// every spelling, quick or not, decodes to the same join.
func TestFastJoinMatchesGeneralDecode(t *testing.T) {
	for _, c := range []struct {
		frame string
		event bool
		quick bool
	}{
		{`{"join":{}}`, false, true}, {`{"join": {}}`, false, false}, {`{ "join":{}}`, false, false},
		{`42["join"]`, true, true}, {`42["join",{}]`, true, true}, {`42["join",null]`, true, false},
		{`42["join", {}]`, true, false}, {`421["join"]`, true, false},
	} {
		var env *messages.Envelope
		var err error
		if c.event {
			env, err = decodeEvent([]byte(c.frame), true)
			_, quick := fastJoin([]byte(c.frame), eventJoin, eventJoinEmpty)
			if quick != c.quick {
				t.Errorf("%s: read quickly %v, want %v", c.frame, quick, c.quick)
			}
		} else {
			env, err = decodeEnvelope([]byte(c.frame), false, true)
			_, quick := fastJoin([]byte(c.frame), jsonJoin)
			if quick != c.quick {
				t.Errorf("%s: read quickly %v, want %v", c.frame, quick, c.quick)
			}
		}
		if err != nil || env.GetJoin() == nil {
			t.Errorf("%s: %v, %v; want a join", c.frame, env, err)
		}
	}
	for _, frame := range []string{`{"join":{}}x`, `{"join":{},"choice":{}}`} {
		if env, err := decodeEnvelope([]byte(frame), false, true); err == nil {
			t.Errorf("%s: decoded %v, want an error", frame, env)
		}
	}
}

// The quick read of a binary join or choice gives what proto.Unmarshal
// gives, and leaves every other frame to it.
func TestFastBinaryMatchesProtobuf(t *testing.T) {
	quick := 0
	check := func(data []byte) {
		fast, ok := fastBinary(data)
		if !ok {
			return
		}
		quick++
		var general messages.Envelope
		if err := proto.Unmarshal(data, &general); err != nil {
			t.Errorf("% x: fast read %v, protobuf refused: %v", data, fast, err)
			return
		}
		if !proto.Equal(fast, &general) {
			t.Errorf("% x: fast %v, protobuf %v", data, fast, &general)
		}
	}
	// Every frame of two and four bytes that starts like a join or a
	// choice with a short length.
	for _, first := range []byte{binaryJoin[0], binaryChoiceTag} {
		for n := 0; n < 8<<16; n++ {
			check([]byte{first, byte(n >> 16), byte(n >> 8), byte(n)})
		}
		for n := 0; n < 256; n++ {
			check([]byte{first, byte(n)})
		}
	}
	for c := int32(0); c < 300; c++ {
		check(benchProto(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: c}}}))
	}
	check(benchProto(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}))
	if quick < 128 {
		t.Fatalf("%d frames read quickly, want the join and 127 choices", quick)
	}
	for _, data := range [][]byte{
		{binaryChoiceTag, 2, binaryChoiceField, 0},    // choice 0: protobuf leaves it out
		{binaryChoiceTag, 2, binaryChoiceField, 0x80}, // a varint that goes on
		{binaryChoiceTag, 3, binaryChoiceField, 1, 0}, // a longer body
		{binaryJoin[0], 0, 0},                         // trailing garbage
	} {
		if _, ok := fastBinary(data); ok {
			t.Errorf("% x read quickly", data)
		}
	}
}
