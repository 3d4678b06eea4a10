package e2e

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
	"github.com/gorilla/websocket"
)

// dialNotReading opens /ws (JSON) with a 4 KiB receive buffer, says hello
// and joins, and then reads nothing: a phone whose app froze.
func dialNotReading(t *testing.T, s *server, u *messages.User) *websocket.Conn {
	t.Helper()
	small := func(network, address string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}
	d := websocket.Dialer{HandshakeTimeout: dialTimeout, NetDialContext: (&net.Dialer{Control: small}).DialContext}
	ws, _, err := d.Dial(s.wsURL("/ws?format=json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	for _, env := range []*messages.Envelope{envHello(u), {Body: &messages.Envelope_Join{Join: &messages.Join{}}}} {
		_ = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := ws.WriteMessage(websocket.TextMessage, compactJSON(env, false)); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

// TestSlowConsumerIsDropped: a player who stops reading while the opponent
// makes faces as fast as it can is disconnected (its outbound queue is
// bounded); the opponent is never held up: it gets leave{uid} and its result
// at the deadline.
func TestSlowConsumerIsDropped(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-outbound-queue", "8", "-rate-limit", "100000", "-rate-burst", "100000")
	frozenUser := newUser("Frozen")
	frozen := dialNotReading(t, s, frozenUser)
	a := oursPlayer(t, s, "A", false)
	a.hi(t)
	a.must(t, a.join())
	startEv, err := a.awaitStart(startTimeout)
	if err != nil {
		t.Fatal(err)
	}
	st := startEv.env.GetStart()
	if len(st.GetRoomUsers()) != 2 || roomUser(st, frozenUser.GetUid()) == nil {
		t.Fatalf("start %v: want A and the frozen player", st)
	}
	a.must(t, a.choose(1))
	sent := 0
	for time.Since(startEv.at) < 1500*time.Millisecond && sent < 20000 {
		a.must(t, a.face(int32(sent%4+1)))
		sent++
	}
	if _, err := a.awaitSeen(roundTime, "leave{uid:frozen}", func(e event) bool {
		return e.name == "leave" && e.env.GetLeave().GetUid() == frozenUser.GetUid()
	}); err != nil {
		t.Errorf("after %d faces to a player who reads nothing: %v", sent, err)
	}
	resEv, err := a.awaitResult(resultWait, st.GetRoundId())
	if err != nil {
		t.Fatal(err)
	}
	if d := resEv.at.Sub(startEv.at); d < deadlineMin || d > deadlineMax {
		t.Errorf("result %v after start: the frozen player held the round up", d)
	}
	if e := resultEntry(resEv.env.GetResult(), a.uid()); e.GetRoundScore() != 1 {
		t.Errorf("A's entry %v: want a win against a player who never chose", e)
	}

	// The frozen player's socket is gone: reading what was buffered ends in a close.
	_ = frozen.SetReadDeadline(time.Now().Add(5 * time.Second))
	frames := 0
	for {
		_, _, err := frozen.ReadMessage()
		if err == nil {
			frames++
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the player who read nothing is still connected after %d faces (%d frames were waiting)", sent, frames)
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code != messages.CloseSlowConsumer && ce.Code != websocket.CloseAbnormalClosure {
			t.Errorf("the slow consumer was closed with %d %q, want %d (or a dropped socket)", ce.Code, ce.Text, messages.CloseSlowConsumer)
		}
		t.Logf("slow consumer: %d frames buffered, then %v", frames, err)
		break
	}
	s.requireHealthy(t)
}

// roomUser returns uid's roomUsers entry in st.
func roomUser(st *messages.Start, uid string) *messages.RoomUser {
	for _, u := range st.GetRoomUsers() {
		if u.GetUid() == uid {
			return u
		}
	}
	return nil
}
