package main

import (
	"math"

	"github.com/caiquan/caiquan/messages"
)

// The server writes the JSON of its messages one way (gateway/jsonbody.go):
// every field, in a fixed order, no spaces, strings escaped only where JSON
// needs it. Read through protojson that costs the tool about 17 us a result
// against 2 us on the binary wire, CPU taken from the server it measures.
// fastDecode reads that one form directly. It declines anything else (an
// escape in a string, other spacing, a field it does not know) and the
// gateway's decoder reads it instead, so it never accepts a frame that
// decoder would refuse; textDecoder checks the two agree now and then.

// fastKind is a server body that fastDecode reads.
type fastKind int

const (
	kindHi fastKind = iota
	kindQueued
	kindStart
	kindMovement
	kindResult
	kindVoid
	kindLeave
	kindError
	numFastKinds
)

// fastKindNames are the event names, which are also the /ws JSON keys.
var fastKindNames = [numFastKinds]string{"hi", "queued", "start", "movement", "result", "void", "leave", "error"}

// fastDecode returns the envelope of a server frame written in the
// gateway's form and its body's kind, or nil. With event, data is a
// Socket.IO event packet, 42["name",{…}] with maybe an offset ,"7" after
// the payload; else a /ws JSON envelope, {"name":{…}} with maybe ,"seq":7.
// Like the gateway's decoder it drops the seq and the offset.
func fastDecode(data []byte, event bool) (*messages.Envelope, fastKind) {
	// One copy of the frame, which every decoded string shares.
	c := cursor{s: string(data), ok: true}
	if event {
		c.lit(`42["`)
	} else {
		c.lit(`{"`)
	}
	name := c.key()
	if event {
		c.lit(`",`)
	} else {
		c.lit(`":`)
	}
	env, kind := c.body(name)
	if event {
		if c.maybe(`,"`) {
			c.num(1, math.MaxUint32)
			c.lit(`"`)
		}
		c.lit(`]`)
	} else {
		if c.maybe(`,"seq":`) {
			c.num(1, math.MaxUint32)
		}
		c.lit(`}`)
	}
	if !c.ok || c.i != len(c.s) {
		return nil, 0
	}
	return env, kind
}

func (c *cursor) body(name string) (*messages.Envelope, fastKind) {
	switch name {
	case "hi":
		return c.hi(), kindHi
	case "queued":
		c.lit(`{"waiting":`)
		m := &messages.Queued{Waiting: c.int32()}
		c.lit(`}`)
		return &messages.Envelope{Body: &messages.Envelope_Queued{Queued: m}}, kindQueued
	case "start":
		return c.start(), kindStart
	case "movement":
		m := &messages.Movement{}
		c.lit(`{"uid":`)
		m.Uid = c.str()
		c.lit(`,"movement":`)
		m.Movement = c.str()
		c.lit(`,"face":`)
		m.Face = c.int32()
		c.lit(`}`)
		return &messages.Envelope{Body: &messages.Envelope_Movement{Movement: m}}, kindMovement
	case "result":
		return c.result(), kindResult
	case "void":
		m := &messages.Void{}
		c.lit(`{"roundId":`)
		m.RoundId = c.str()
		c.lit(`,"reason":`)
		m.Reason = c.str()
		c.lit(`}`)
		return &messages.Envelope{Body: &messages.Envelope_Void{Void: m}}, kindVoid
	case "leave":
		c.lit(`{"uid":`)
		m := &messages.Leave{Uid: c.str()}
		c.lit(`}`)
		return &messages.Envelope{Body: &messages.Envelope_Leave{Leave: m}}, kindLeave
	case "error":
		m := &messages.Error{}
		c.lit(`{"code":`)
		m.Code = c.str()
		c.lit(`,"message":`)
		m.Message = c.str()
		c.lit(`}`)
		return &messages.Envelope{Body: &messages.Envelope_Error{Error: m}}, kindError
	}
	c.ok = false
	return nil, 0
}

// hi's last three fields are optional: written only when set, in order.
func (c *cursor) hi() *messages.Envelope {
	m := &messages.Hi{}
	c.lit(`{"message":`)
	m.Message = c.str()
	c.lit(`,"nearby":`)
	m.Nearby = c.int32()
	c.lit(`,"totalScore":`)
	m.TotalScore = c.int32()
	c.lit(`,"winStreak":`)
	m.WinStreak = c.int32()
	if c.maybe(`,"resumeToken":`) {
		s := c.str()
		m.ResumeToken = &s
	}
	if c.maybe(`,"resumeWindowMs":`) {
		n := c.int32()
		m.ResumeWindowMs = &n
	}
	if c.maybe(`,"resumed":`) {
		b := c.boolean()
		m.Resumed = &b
	}
	c.lit(`}`)
	return &messages.Envelope{Body: &messages.Envelope_Hi{Hi: m}}
}

func (c *cursor) start() *messages.Envelope {
	m := &messages.Start{}
	c.lit(`{"gameTime":`)
	m.GameTime = c.int32()
	c.lit(`,"roomUsers":[`)
	if !c.maybe(`]`) {
		m.RoomUsers = make([]*messages.RoomUser, 0, c.count(`{"uid":`))
		for c.ok {
			u := &messages.RoomUser{}
			c.lit(`{"uid":`)
			u.Uid = c.str()
			c.lit(`,"uname":`)
			u.Uname = c.str()
			c.lit(`,"uavatar":`)
			u.Uavatar = c.str()
			c.lit(`,"choice":`)
			u.Choice = c.int32()
			c.lit(`,"roundScore":`)
			u.RoundScore = c.int32()
			c.lit(`,"totalScore":`)
			u.TotalScore = c.int32()
			c.lit(`,"winStreak":`)
			u.WinStreak = c.int32()
			c.lit(`}`)
			m.RoomUsers = append(m.RoomUsers, u)
			if !c.maybe(`,`) {
				break
			}
		}
		c.lit(`]`)
	}
	c.lit(`,"roundId":`)
	m.RoundId = c.str()
	c.lit(`,"gameTimeMs":`)
	m.GameTimeMs = c.int32()
	c.lit(`}`)
	return &messages.Envelope{Body: &messages.Envelope_Start{Start: m}}
}

func (c *cursor) result() *messages.Envelope {
	m := &messages.Result{}
	c.lit(`{"result":[`)
	if !c.maybe(`]`) {
		m.Result = make([]*messages.PlayerResult, 0, c.count(`{"uid":`))
		for c.ok {
			r := &messages.PlayerResult{}
			c.lit(`{"uid":`)
			r.Uid = c.str()
			c.lit(`,"roundScore":`)
			r.RoundScore = c.int32()
			c.lit(`,"totalScore":`)
			r.TotalScore = c.int32()
			c.lit(`,"winStreak":`)
			r.WinStreak = c.int32()
			c.lit(`,"choice":`)
			r.Choice = c.int32()
			c.lit(`}`)
			m.Result = append(m.Result, r)
			if !c.maybe(`,`) {
				break
			}
		}
		c.lit(`]`)
	}
	c.lit(`,"roundId":`)
	m.RoundId = c.str()
	c.lit(`}`)
	return &messages.Envelope{Body: &messages.Envelope_Result{Result: m}}
}
