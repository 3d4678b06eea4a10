package gateway

import (
	"strconv"

	"github.com/caiquan/caiquan/internal/jsonstring"
	"github.com/caiquan/caiquan/messages"
)

// The server's messages in JSON, written field by field. protojson reaches
// every field through reflection and then needs json.Compact to undo its
// deliberately random spacing: most of a text wire's cost per event. These
// appenders write what protojson with EmitUnpopulated would (lowerCamelCase
// names, every field, [] for an empty list), in one pass and one buffer;
// TestJSONBodiesMatchProtojson holds them to protojson for every field of
// every server message, so a field added to client.proto fails it until
// it is added here.

// appendBodyJSON appends env's body as a JSON object; ok is false for a
// body it does not know (the client's own), which protojson then renders.
func appendBodyJSON(b []byte, env *messages.Envelope) (out []byte, ok bool) {
	switch body := env.GetBody().(type) {
	case *messages.Envelope_Hi:
		m := body.Hi
		b = append(b, `{"message":`...)
		b = appendJSONString(b, m.GetMessage())
		b = appendIntField(b, `,"nearby":`, m.GetNearby())
		b = appendIntField(b, `,"totalScore":`, m.GetTotalScore())
		b = appendIntField(b, `,"winStreak":`, m.GetWinStreak())
		if m.ResumeToken != nil {
			b = append(b, `,"resumeToken":`...)
			b = appendJSONString(b, m.GetResumeToken())
		}
		if m.ResumeWindowMs != nil {
			b = appendIntField(b, `,"resumeWindowMs":`, m.GetResumeWindowMs())
		}
		if m.Resumed != nil {
			b = append(b, `,"resumed":`...)
			b = strconv.AppendBool(b, m.GetResumed())
		}
		return append(b, '}'), true
	case *messages.Envelope_Queued:
		b = appendIntField(b, `{"waiting":`, body.Queued.GetWaiting())
		return append(b, '}'), true
	case *messages.Envelope_Start:
		m := body.Start
		b = appendIntField(b, `{"gameTime":`, m.GetGameTime())
		b = append(b, `,"roomUsers":[`...)
		for i, u := range m.GetRoomUsers() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendRoomUser(b, u)
		}
		b = append(b, `],"roundId":`...)
		b = appendJSONString(b, m.GetRoundId())
		b = appendIntField(b, `,"gameTimeMs":`, m.GetGameTimeMs())
		return append(b, '}'), true
	case *messages.Envelope_Movement:
		m := body.Movement
		b = append(b, `{"uid":`...)
		b = appendJSONString(b, m.GetUid())
		b = append(b, `,"movement":`...)
		b = appendJSONString(b, m.GetMovement())
		b = appendIntField(b, `,"face":`, m.GetFace())
		return append(b, '}'), true
	case *messages.Envelope_Result:
		m := body.Result
		b = append(b, `{"result":[`...)
		for i, r := range m.GetResult() {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"uid":`...)
			b = appendJSONString(b, r.GetUid())
			b = appendIntField(b, `,"roundScore":`, r.GetRoundScore())
			b = appendIntField(b, `,"totalScore":`, r.GetTotalScore())
			b = appendIntField(b, `,"winStreak":`, r.GetWinStreak())
			b = appendIntField(b, `,"choice":`, r.GetChoice())
			b = append(b, '}')
		}
		b = append(b, `],"roundId":`...)
		b = appendJSONString(b, m.GetRoundId())
		return append(b, '}'), true
	case *messages.Envelope_Leave:
		b = append(b, `{"uid":`...)
		b = appendJSONString(b, body.Leave.GetUid())
		return append(b, '}'), true
	case *messages.Envelope_Void:
		b = append(b, `{"roundId":`...)
		b = appendJSONString(b, body.Void.GetRoundId())
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, body.Void.GetReason())
		return append(b, '}'), true
	case *messages.Envelope_Error:
		b = append(b, `{"code":`...)
		b = appendJSONString(b, body.Error.GetCode())
		b = append(b, `,"message":`...)
		b = appendJSONString(b, body.Error.GetMessage())
		return append(b, '}'), true
	}
	return b, false
}

func appendRoomUser(b []byte, u *messages.RoomUser) []byte {
	b = append(b, `{"uid":`...)
	b = appendJSONString(b, u.GetUid())
	b = append(b, `,"uname":`...)
	b = appendJSONString(b, u.GetUname())
	b = append(b, `,"uavatar":`...)
	b = appendJSONString(b, u.GetUavatar())
	b = appendIntField(b, `,"choice":`, u.GetChoice())
	b = appendIntField(b, `,"roundScore":`, u.GetRoundScore())
	b = appendIntField(b, `,"totalScore":`, u.GetTotalScore())
	b = appendIntField(b, `,"winStreak":`, u.GetWinStreak())
	return append(b, '}')
}

func appendIntField(b []byte, key string, v int32) []byte {
	b = append(b, key...)
	return strconv.AppendInt(b, int64(v), 10)
}

// appendJSONString appends s as a JSON string (see jsonstring.Append; <, >
// and & as they are, as protojson writes them).
func appendJSONString(b []byte, s string) []byte { return jsonstring.Append(b, s, false) }
