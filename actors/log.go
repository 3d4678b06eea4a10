package actors

import (
	"context"
	"log/slog"
	"strings"
)

// Attributes that tie log lines together (docs/logging.md): every line
// about a round has LogRound, every line of a session LogUID and LogConn,
// which the gateway's lines about that connection carry too.
const (
	LogRound = "round"
	LogUID   = "uid"
	LogConn  = "conn"
)

// debugOn says whether debug lines are written: a line's attributes are
// made only then, as the actors that write them (rooms, sessions) come and
// go by the thousand.
func (d *deps) debugOn() bool { return d.log.Enabled(context.Background(), slog.LevelDebug) }

// identifiedConn is a connection with an id of the gateway's (conn.ID).
type identifiedConn interface{ ID() uint64 }

// connID is conn's id, 0 for a connection without one.
func connID(c Conn) uint64 {
	if ic, ok := c.(identifiedConn); ok {
		return ic.ID()
	}
	return 0
}

// logger is the room's log, each line with the round id. It is made at
// the room's first line: most rooms write none.
func (r *room) logger() *slog.Logger {
	if r.log == nil {
		r.log = r.d.log.With(LogRound, r.spec.RoundId)
	}
	return r.log
}

// logger is the session's log, each line with the uid (once hello named
// it), the id of the connection it speaks through and, in a round, the
// round id. It is made for each line rather than kept: sessions are many
// and mostly idle, a resume changes the connection, and they write a line
// at a change of state only (hello, seat, resume, end), never per message.
func (s *session) logger() *slog.Logger {
	attrs := make([]any, 0, 6)
	if s.user != nil {
		attrs = append(attrs, LogUID, s.user.Uid)
	}
	attrs = append(attrs, LogConn, connID(s.conn))
	if s.round != "" {
		attrs = append(attrs, LogRound, s.round)
	}
	return s.d.log.With(attrs...)
}

// debug writes a session's debug line.
func (s *session) debug(msg string, args ...any) {
	if s.d.debugOn() {
		s.logger().Debug(msg, args...)
	}
}

// ActorAttrs are the attributes that tie a line about an actor of kind
// and id (an Inventory entry) to the rest: a room's round, a session's or
// a player's uid.
func ActorAttrs(kind, id string) []any {
	switch {
	case id == "":
		return nil
	case kind == KindRoom:
		return []any{LogRound, id}
	case kind == KindSession || kind == KindPlayer:
		return []any{LogUID, id}
	}
	return nil
}

// RoundOfPID is the round of a room's PID id, or of one of its bots', for
// lines that name a room only by its PID (protoactor's).
func RoundOfPID(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, nodeName+"/"+roomsName+"/")
	if !ok || rest == "" {
		return "", false
	}
	round, _, _ := strings.Cut(rest, "/")
	return round, true
}
