package main

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/caiquan/caiquan/messages"
)

var textWires = []protocol{protoJSON, protoEIO3, protoEIO4}

func isEvent(p protocol) bool { return p == protoEIO3 || p == protoEIO4 }

func ptr[T any](v T) *T { return &v }

// serverMessages are the server's bodies as a load run sees them, the
// frequent ones in several shapes, every string one the gateway writes
// without escapes.
func serverMessages() []*messages.Envelope {
	bigStart := benchStart()
	for i := 3; i <= 16; i++ {
		bigStart.GetStart().RoomUsers = append(bigStart.GetStart().RoomUsers,
			&messages.RoomUser{Uid: "bot-r1-" + string(rune('a'+i)), Uname: "Tofu (bot)", Uavatar: "https://a.example/x.png?s=1&t=2",
				Choice: 3, RoundScore: -2, TotalScore: math.MinInt32, WinStreak: math.MaxInt32})
	}
	return []*messages.Envelope{
		{Body: &messages.Envelope_Hi{Hi: &messages.Hi{Message: "welcome", Nearby: 1042}}},
		{Body: &messages.Envelope_Hi{Hi: &messages.Hi{Message: "你好", Nearby: 1, TotalScore: -3, WinStreak: 0,
			ResumeToken: ptr("tok-abc_123"), ResumeWindowMs: ptr(int32(30000)), Resumed: ptr(false)}}},
		{Body: &messages.Envelope_Hi{Hi: &messages.Hi{Nearby: 2, ResumeToken: ptr(""), Resumed: ptr(true)}}},
		{Body: &messages.Envelope_Queued{Queued: &messages.Queued{Waiting: 7}}},
		benchStart(),
		bigStart,
		{Body: &messages.Envelope_Start{Start: &messages.Start{RoundId: "r0-1"}}}, // no seats: []
		benchMovement(),
		{Body: &messages.Envelope_Movement{Movement: &messages.Movement{Uid: "ldx-3", Movement: "face", Face: 4}}},
		benchResult(),
		{Body: &messages.Envelope_Result{Result: &messages.Result{}}},
		{Body: &messages.Envelope_Void{Void: &messages.Void{RoundId: "r9-2", Reason: "no choices"}}},
		{Body: &messages.Envelope_Leave{Leave: &messages.Leave{Uid: "ldt3m9kq0b2-18"}}},
		{Body: &messages.Envelope_Error{Error: &messages.Error{Code: messages.CodeServerBusy, Message: "the server is busy; try again"}}},
		{Body: &messages.Envelope_Error{Error: &messages.Error{Code: messages.CodeNotPlaying}}},
	}
}

// withSeq is env numbered as on a connection that may resume.
func withSeq(env *messages.Envelope, seq uint32) *messages.Envelope {
	env = proto.Clone(env).(*messages.Envelope)
	env.Seq = seq
	return env
}

// sameAsGateway fails unless the fast path and the gateway's decoder read
// data alike. It returns whether the fast path read it at all.
func sameAsGateway(t *testing.T, p protocol, data []byte) bool {
	t.Helper()
	env, kind := fastDecode(data, isEvent(p))
	want := gatewayDecode(data, isEvent(p))
	switch {
	case env == nil:
		return false
	case want.bad != "":
		t.Errorf("%s: the fast path read %s, which the gateway refuses (%s)", p, data, want.bad)
	case !proto.Equal(env, want.env):
		t.Errorf("%s: %s\nfast path: %v\ngateway:   %v", p, data, env, want.env)
	case string(env.ProtoReflect().WhichOneof(envelopeBody).Name()) != fastKindNames[kind]:
		t.Errorf("%s: %s read as kind %s", p, data, fastKindNames[kind])
	}
	return true
}

var envelopeBody = (&messages.Envelope{}).ProtoReflect().Descriptor().Oneofs().ByName("body")

// Every server message the gateway writes, on every text wire, numbered or
// not, is read by the fast path, and as the gateway's decoder reads it. A
// field added to a server message fails this until fastDecode reads it:
// until then every frame of that kind would take the slow path.
func TestFastDecodeReadsEveryServerMessage(t *testing.T) {
	for _, p := range textWires {
		for _, env := range serverMessages() {
			for _, seq := range []uint32{0, 1, 7, math.MaxUint32} {
				kind, data := serverFrame(t, p, withSeq(env, seq))
				if !sameAsGateway(t, p, data) {
					t.Errorf("%s: the fast path declined %s", p, data)
				}
				pk := p.decode(kind, data)
				if pk.bad != "" || !proto.Equal(pk.env, gatewayDecode(data, isEvent(p)).env) {
					t.Errorf("%s: the tool read %s as %+v", p, data, pk)
				}
			}
		}
	}
}

// Every body the server sends has a fast path: the oneof's server half
// (numbers from 20, see client.proto) and leave, which goes both ways.
func TestEveryServerBodyHasAFastPath(t *testing.T) {
	fields := envelopeBody.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Number() < 20 && fd.Name() != "leave" {
			continue
		}
		found := false
		for _, name := range fastKindNames {
			found = found || name == string(fd.Name())
		}
		if !found {
			t.Errorf("server body %s has no fast path", fd.Name())
		}
	}
}

// Strings the gateway escapes, or holds valid only in another form, and
// frames in forms the gateway accepts but never writes: the fast path
// declines them and the tool reads them as the gateway does.
func TestFastDecodeDeclinesOtherForms(t *testing.T) {
	var frames []struct {
		p    protocol
		data string
	}
	add := func(p protocol, data string) {
		frames = append(frames, struct {
			p    protocol
			data string
		}{p, data})
	}
	for _, s := range []string{`q"uote`, `back\slash`, "new\nline", "tab\t", "\x01", "line\u2028sep", "bad\xffbyte"} {
		for _, p := range textWires {
			_, data := serverFrame(t, p, &messages.Envelope{Body: &messages.Envelope_Movement{Movement: &messages.Movement{Uid: s, Movement: "choice"}}})
			add(p, string(data))
			_, data = serverFrame(t, p, &messages.Envelope{Body: &messages.Envelope_Error{Error: &messages.Error{Code: "x", Message: s}}})
			add(p, string(data))
		}
	}
	for _, data := range []string{
		`{"queued": {"waiting":1}}`,
		`{"queued":{"waiting":1} }`,
		`{"queued":{"waiting":"1"}}`,
		`{"queued":{"waiting":-0}}`,
		`{"queued":{"waiting":1e0}}`,
		`{"queued":{}}`,
		`{"queued":null}`,
		`{"queued":{"waiting":1,"extra":2}}`,
		`{"seq":3,"queued":{"waiting":1}}`,
		`{"queued":{"waiting":1},"seq":0}`,
		`{"queued":{"waiting":1},"seq":"3"}`,
		`{"movement":{"movement":"choice","uid":"a","face":0}}`,
		`{"leave":{"uid":"\u0061"}}`,
	} {
		add(protoJSON, data)
	}
	for _, data := range []string{
		`42["queued",{"waiting":1},"x"]`,
		`42["queued",{"waiting":1},7]`,
		`42["queued",{"waiting":1},"07"]`,
		`42["queued",{"waiting":1},"3",{}]`,
		`42["queued"]`,
		`42["queued",{"waiting":1} ]`,
		`4212["queued",{"waiting":1}]`,
		`42[ "queued",{"waiting":1}]`,
		`42["resumed",{}]`,
		`42["hi",{"message":"","nearby":1,"totalScore":0,"winStreak":0,"resumed":true,"resumeToken":"t"}]`,
		`42["result",{"result":[{"uid":"a","roundScore":0,"totalScore":0,"winStreak":0,"choice":0},],"roundId":"r"}]`,
	} {
		add(protoEIO3, data)
		add(protoEIO4, data)
	}
	for _, f := range frames {
		if env, _ := fastDecode([]byte(f.data), isEvent(f.p)); env != nil {
			t.Errorf("%s: the fast path read %q as %v", f.p, f.data, env)
		}
		kind, _ := serverFrame(t, f.p, benchMovement())
		got, want := f.p.decode(kind, []byte(f.data)), gatewayDecode([]byte(f.data), isEvent(f.p))
		if got.bad != want.bad || !proto.Equal(got.env, want.env) {
			t.Errorf("%s: %q: the tool read %+v, the gateway %+v", f.p, f.data, got, want)
		}
	}
}

// Frames the gateway's decoder refuses stay malformed for the tool.
func TestMalformedFramesStayMalformed(t *testing.T) {
	_, result := serverFrame(t, protoJSON, benchResult())
	_, event := serverFrame(t, protoEIO4, benchResult())
	cases := []struct {
		p    protocol
		data string
	}{
		{protoJSON, ""},
		{protoJSON, string(result[:len(result)-1])},
		{protoJSON, string(result) + "x"},
		{protoJSON, string(result) + "}"},
		{protoJSON, `{"queued":{"waiting":2147483648}}`},
		{protoJSON, `{"queued":{"waiting":-2147483649}}`},
		{protoJSON, `{"queued":{"waiting":01}}`},
		{protoJSON, `{"queued":{"waiting":1.5}}`},
		{protoJSON, `{"queued":{"waiting":}}`},
		{protoJSON, `{"queued":{"waiting":1}`},
		{protoJSON, `{"queued":[]}`},
		{protoJSON, `{"queued":{"waiting":1},"leave":{"uid":"a"}}`},
		{protoJSON, `{"nosuch":{}}`},
		{protoJSON, `{}`},
		{protoJSON, "{\"leave\":{\"uid\":\"a\xffb\"}}"},
		{protoJSON, "{\"leave\":{\"uid\":\"a\nb\"}}"},
		{protoJSON, `{"leave":{"uid":"a}}`},
		{protoJSON, `{"leave":{"uid":7}}`},
		{protoJSON, `{"hi":{"message":"","nearby":1,"totalScore":0,"winStreak":0,"resumed":"true"}}`},
		{protoJSON, `{"start":{"gameTime":3,"roomUsers":[{"uid":"a","uname":"","uavatar":"","choice":0,"roundScore":0,"totalScore":0,"winStreak":0}{"uid":"b","uname":"","uavatar":"","choice":0,"roundScore":0,"totalScore":0,"winStreak":0}],"roundId":"r","gameTimeMs":3000}}`},
		{protoEIO3, string(event[:len(event)-1])},
		{protoEIO3, string(event) + "]"},
		{protoEIO4, `42["queued",{"waiting":2147483648}]`},
		{protoEIO4, `42["queued",7]`},
		{protoEIO4, `42["nosuch",{}]`},
		{protoEIO4, `42[]`},
		{protoEIO4, `42{"queued":{"waiting":1}}`},
		{protoEIO4, "42[\"leave\",{\"uid\":\"\xc3\"}]"},
	}
	for _, c := range cases {
		if want := gatewayDecode([]byte(c.data), isEvent(c.p)); want.bad == "" {
			t.Errorf("%s: the gateway reads %q; the case is not malformed", c.p, c.data)
			continue
		}
		if env, _ := fastDecode([]byte(c.data), isEvent(c.p)); env != nil {
			t.Errorf("%s: the fast path read malformed %q as %v", c.p, c.data, env)
		}
		kind, _ := serverFrame(t, c.p, benchMovement())
		if pk := c.p.decode(kind, []byte(c.data)); pk.bad == "" || pk.env != nil {
			t.Errorf("%s: the tool read malformed %q as %+v", c.p, c.data, pk)
		}
	}
}

// mutationBytes are what a mutation puts into a frame: JSON's structure,
// digits, signs, and bytes that are not valid on their own. Inside a
// string, where most bytes change nothing but the value, only those that
// end it, escape, or are not allowed there (stringMutationBytes).
const (
	mutationBytes       = "\"\\09-.,:[]{} e\x7f\x80\xff"
	stringMutationBytes = "\"\\\x01\x80\xff"
)

// inString marks the bytes inside frame's strings; frame has no escapes.
func inString(frame []byte) []bool {
	mask := make([]bool, len(frame))
	in := false
	for i, b := range frame {
		if b == '"' {
			in = !in
			continue
		}
		mask[i] = in
	}
	return mask
}

// Every frame a byte away from one the server writes (cut short, a byte
// dropped, changed or added) is read by the fast path as the gateway's
// decoder reads it, or declined: never read when the gateway refuses it.
func TestFastDecodeMutations(t *testing.T) {
	for _, p := range []protocol{protoJSON, protoEIO4} {
		read := 0
		for _, env := range serverMessages() {
			_, frame := serverFrame(t, p, withSeq(env, 12))
			if len(frame) > 600 {
				continue // the 16 seats repeat what 2 show, at 30 times the cost
			}
			try := func(data []byte) {
				if sameAsGateway(t, p, data) {
					read++
				}
			}
			strs := inString(frame)
			for i := range len(frame) {
				try(frame[:i])
				try(append(frame[:i:i], frame[i+1:]...))
				bytes := mutationBytes
				if strs[i] {
					bytes = stringMutationBytes
				}
				for _, b := range []byte(bytes) {
					changed := append([]byte(nil), frame...)
					changed[i] = b
					try(changed)
					try(append(append(frame[:i:i], b), frame[i:]...))
				}
			}
		}
		if read == 0 {
			t.Errorf("%s: no mutation was read; the test checks nothing", p)
		}
		t.Logf("%s: %d mutations read by the fast path, each as the gateway reads it", p, read)
	}
}

// FuzzFastDecode holds the fast path to the gateway's decoder on any
// frame: go test -fuzz FuzzFastDecode ./cmd/caiquan-load/.
func FuzzFastDecode(f *testing.F) {
	for _, env := range serverMessages() {
		for _, p := range []protocol{protoJSON, protoEIO4} {
			_, data := serverFrame(f, p, withSeq(env, 3))
			f.Add(data, isEvent(p))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, event bool) {
		p := protoJSON
		if event {
			p = protoEIO4
		}
		sameAsGateway(t, p, data)
	})
}

// randomStrings are what random server messages hold: plain, non-ASCII,
// and what the gateway must escape or cannot write as it is.
var randomStrings = []string{"", "a", "ld1x-17", "小明 (bot)", "é😀", `q"`, `b\`, "n\n", "\u2029", "\xff", "\x7f", "</"}

func randomInt32(r *randSource) int32 {
	switch r.next() % 5 {
	case 0:
		return 0
	case 1:
		return math.MaxInt32
	case 2:
		return math.MinInt32
	}
	return int32(r.next())
}

// randSource is a tiny deterministic generator (xorshift), so that a
// failure repeats.
type randSource uint64

func (r *randSource) next() uint64 {
	x := uint64(*r)
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	*r = randSource(x)
	return x
}

// fillRandom sets m's fields at random: optional ones present or not,
// lists of zero to three, strings from randomStrings.
func fillRandom(t *testing.T, m protoreflect.Message, r *randSource) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.HasPresence() && r.next()%2 == 0:
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			list := m.Mutable(fd).List()
			for n := r.next() % 4; n > 0; n-- {
				v := list.NewElement()
				fillRandom(t, v.Message(), r)
				list.Append(v)
			}
		case fd.Kind() == protoreflect.StringKind:
			m.Set(fd, protoreflect.ValueOfString(randomStrings[r.next()%uint64(len(randomStrings))]))
		case fd.Kind() == protoreflect.Int32Kind:
			m.Set(fd, protoreflect.ValueOfInt32(randomInt32(r)))
		case fd.Kind() == protoreflect.BoolKind:
			m.Set(fd, protoreflect.ValueOfBool(r.next()%2 == 0))
		default:
			t.Fatalf("fillRandom: add %s (%s)", fd.FullName(), fd.Kind())
		}
	}
}

// Random server messages, as the gateway writes them: each is read by the
// fast path as the gateway's decoder reads it, or declined when a string
// holds an escape; the others are always read.
func TestFastDecodeRandomMessages(t *testing.T) {
	r := randSource(0x9e3779b97f4a7c15)
	for _, name := range fastKindNames {
		fd := envelopeBody.Fields().ByName(protoreflect.Name(name))
		for range 300 {
			env := &messages.Envelope{}
			body := env.ProtoReflect().NewField(fd)
			fillRandom(t, body.Message(), &r)
			env.ProtoReflect().Set(fd, body)
			for _, p := range textWires {
				_, data := serverFrame(t, p, withSeq(env, uint32(r.next())))
				if !sameAsGateway(t, p, data) && !strings.Contains(string(data), `\`) {
					t.Errorf("%s: the fast path declined %s", p, data)
				}
			}
		}
	}
}
