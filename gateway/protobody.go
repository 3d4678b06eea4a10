package gateway

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/messages"
)

// A round's start, movements and result are most of what the server sends.
// proto.Marshal spent about 4 us on each through protobuf's generated
// tables and its oneof path (5 % of the server's CPU at 10,000 players on
// the binary wire); these are written here field by field instead, in the
// order and form proto.Marshal writes them (field number order, zero
// values left out), so the bytes are the same. Any other body, and any
// message holding unknown fields (from a member of a newer release) or a
// string that is not UTF-8 (which proto.Marshal refuses), goes through
// proto.Marshal.

// Field numbers of client.proto.
const (
	envStart, envMovement, envResult, envSeq = 22, 23, 24, 40
)

// appendProtoEnvelope appends env in protobuf to b; ok is false, and b
// unchanged, when env is not one of the bodies above.
func appendProtoEnvelope(b []byte, env *messages.Envelope) ([]byte, bool) {
	if hasUnknown(env) {
		return b, false
	}
	start := len(b)
	// proto.Marshal writes a message's oneof after its other fields: seq
	// (40) before the body (22 to 24).
	if env.Seq != 0 {
		b = protowire.AppendTag(b, envSeq, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(env.Seq))
	}
	switch body := env.Body.(type) {
	case *messages.Envelope_Start:
		if !startKnown(body.Start) {
			return b[:start], false
		}
		b = protowire.AppendTag(b, envStart, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeStart(body.Start)))
		b = appendProtoStart(b, body.Start)
	case *messages.Envelope_Movement:
		if m := body.Movement; m == nil || hasUnknown(m) || !utf8.ValidString(m.Uid) || !utf8.ValidString(m.Movement) {
			return b[:start], false
		}
		b = protowire.AppendTag(b, envMovement, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeMovement(body.Movement)))
		b = appendProtoMovement(b, body.Movement)
	case *messages.Envelope_Result:
		if !resultKnown(body.Result) {
			return b[:start], false
		}
		b = protowire.AppendTag(b, envResult, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeResult(body.Result)))
		b = appendProtoResult(b, body.Result)
	default:
		return b[:start], false
	}
	return b, true
}

func hasUnknown(m proto.Message) bool { return len(m.ProtoReflect().GetUnknown()) > 0 }

// startKnown and resultKnown say whether a body can be written here.
func startKnown(s *messages.Start) bool {
	if s == nil || hasUnknown(s) || !utf8.ValidString(s.RoundId) {
		return false
	}
	for _, u := range s.RoomUsers {
		if u == nil || hasUnknown(u) || !utf8.ValidString(u.Uid) || !utf8.ValidString(u.Uname) || !utf8.ValidString(u.Uavatar) {
			return false
		}
	}
	return true
}

func resultKnown(r *messages.Result) bool {
	if r == nil || hasUnknown(r) || !utf8.ValidString(r.RoundId) {
		return false
	}
	for _, p := range r.Result {
		if p == nil || hasUnknown(p) || !utf8.ValidString(p.Uid) {
			return false
		}
	}
	return true
}

// Each field's size and append, zero values left out as proto3 does.

func sizeInt(num protowire.Number, v int32) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(uint64(int64(v)))
}

func appendProtoInt(b []byte, num protowire.Number, v int32) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(int64(v))) // negative: ten bytes, as protobuf
}

func sizeString(num protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(s))
}

func appendProtoString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func sizeNested(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func appendProtoNested(b []byte, num protowire.Number, n int) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(n))
}

func sizeStart(s *messages.Start) int {
	n := sizeInt(1, s.GameTime) + sizeString(3, s.RoundId) + sizeInt(4, s.GameTimeMs)
	for _, u := range s.RoomUsers {
		n += sizeNested(2, sizeRoomUser(u))
	}
	return n
}

func appendProtoStart(b []byte, s *messages.Start) []byte {
	b = appendProtoInt(b, 1, s.GameTime)
	for _, u := range s.RoomUsers {
		b = appendProtoNested(b, 2, sizeRoomUser(u))
		b = appendProtoRoomUser(b, u)
	}
	b = appendProtoString(b, 3, s.RoundId)
	return appendProtoInt(b, 4, s.GameTimeMs)
}

func sizeRoomUser(u *messages.RoomUser) int {
	return sizeString(1, u.Uid) + sizeString(2, u.Uname) + sizeString(3, u.Uavatar) + sizeInt(4, u.Choice) +
		sizeInt(5, u.RoundScore) + sizeInt(6, u.TotalScore) + sizeInt(7, u.WinStreak)
}

func appendProtoRoomUser(b []byte, u *messages.RoomUser) []byte {
	b = appendProtoString(b, 1, u.Uid)
	b = appendProtoString(b, 2, u.Uname)
	b = appendProtoString(b, 3, u.Uavatar)
	b = appendProtoInt(b, 4, u.Choice)
	b = appendProtoInt(b, 5, u.RoundScore)
	b = appendProtoInt(b, 6, u.TotalScore)
	return appendProtoInt(b, 7, u.WinStreak)
}

func sizeMovement(m *messages.Movement) int {
	return sizeString(1, m.Uid) + sizeString(2, m.Movement) + sizeInt(3, m.Face)
}

func appendProtoMovement(b []byte, m *messages.Movement) []byte {
	b = appendProtoString(b, 1, m.Uid)
	b = appendProtoString(b, 2, m.Movement)
	return appendProtoInt(b, 3, m.Face)
}

func sizeResult(r *messages.Result) int {
	n := sizeString(2, r.RoundId)
	for _, p := range r.Result {
		n += sizeNested(1, sizePlayerResult(p))
	}
	return n
}

func appendProtoResult(b []byte, r *messages.Result) []byte {
	for _, p := range r.Result {
		b = appendProtoNested(b, 1, sizePlayerResult(p))
		b = appendProtoPlayerResult(b, p)
	}
	return appendProtoString(b, 2, r.RoundId)
}

func sizePlayerResult(p *messages.PlayerResult) int {
	return sizeString(1, p.Uid) + sizeInt(2, p.RoundScore) + sizeInt(3, p.TotalScore) + sizeInt(4, p.WinStreak) + sizeInt(5, p.Choice)
}

func appendProtoPlayerResult(b []byte, p *messages.PlayerResult) []byte {
	b = appendProtoString(b, 1, p.Uid)
	b = appendProtoInt(b, 2, p.RoundScore)
	b = appendProtoInt(b, 3, p.TotalScore)
	b = appendProtoInt(b, 4, p.WinStreak)
	return appendProtoInt(b, 5, p.Choice)
}
