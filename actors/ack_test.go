package actors

import (
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

// verdicts collects what a session says through DeliverAck.
type verdicts chan [2]string

func (v verdicts) ack(code, message string) { v <- [2]string{code, message} }

func (v verdicts) next(t *testing.T) (code, message string) {
	t.Helper()
	select {
	case got := <-v:
		return got[0], got[1]
	case <-time.After(3 * time.Second):
		t.Fatal("no ack within 3s")
		return "", ""
	}
}

// TestSessionAcks: a refusal while the session handles an acked message
// goes to the ack instead of the client; a message taken is acked empty;
// plain Deliver still answers errors as messages.
func TestSessionAcks(t *testing.T) {
	srv, _ := newTestServer(t, testSettings())
	conn := newFakeConn()
	s := srv.OpenSession(conn).(AckSession)
	v := make(verdicts, 8)
	join := &messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}

	s.DeliverAck(join, v.ack)
	if code, msg := v.next(t); code != messages.CodeHelloFirst || msg == "" {
		t.Fatalf("join before hello: ack %q %q; want hello_first", code, msg)
	}
	s.Deliver(join)
	c := &client{t: t, conn: conn, s: s, uid: "acker"}
	c.expect("error:" + messages.CodeHelloFirst) // plain Deliver: an error message

	s.DeliverAck(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: "acker", Uname: "A"}}}}, v.ack)
	if code, _ := v.next(t); code != "" {
		t.Fatalf("hello: ack %q; want taken", code)
	}
	c.expect("hi")
	s.DeliverAck(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 5}}}, v.ack)
	if code, _ := v.next(t); code != messages.CodeInvalidChoice {
		t.Fatalf("choice 5: ack %q; want invalid_choice", code)
	}
	s.DeliverAck(join, v.ack)
	if code, _ := v.next(t); code != "" {
		t.Fatalf("join: ack %q; want taken", code)
	}
	c.expect("start") // bots fill the room
	s.DeliverAck(join, v.ack)
	if code, _ := v.next(t); code != messages.CodeAlreadyQueued {
		t.Fatalf("join while playing: ack %q; want already_queued", code)
	}
	// Whatever the session sent before its ack is buffered by now.
	for {
		select {
		case env := <-conn.out:
			if k := kindOf(env); strings.HasPrefix(k, "error:") {
				t.Fatalf("an acked refusal also went out as %v", env)
			}
		default:
			return
		}
	}
}
