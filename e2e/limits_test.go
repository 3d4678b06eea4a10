package e2e

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/proto"
)

// requireClose waits for the server to close w with code and a reason.
func requireClose(t *testing.T, w *wire, timeout time.Duration, code int) closeInfo {
	t.Helper()
	ci, err := w.awaitClose(timeout)
	if err != nil {
		t.Fatal(err)
	}
	if ci.code != code || ci.reason == "" {
		t.Fatalf("%s closed with code %d reason %q (%v), want code %d and a reason", w.label, ci.code, ci.reason, ci.err, code)
	}
	return ci
}

// requireError waits for an error event with code on w.
func requireError(t *testing.T, w *wire, code string) {
	t.Helper()
	ev, err := w.awaitError(eventTimeout, code)
	if err != nil {
		t.Fatal(err)
	}
	if ev.env.GetError().GetMessage() == "" {
		t.Errorf("%s: error %s has no message", w.label, code)
	}
}

// requireJoinAccepted joins and waits for queued, or for start when the
// join completed a table (another test's player was waiting): the
// connection still works.
func requireJoinAccepted(t *testing.T, w *wire, send func(*messages.Envelope) error) {
	t.Helper()
	if err := send(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}); err != nil {
		t.Fatal(err)
	}
	accepted := func(e event) bool { return e.name == "queued" || e.name == "start" }
	if _, err := w.await(eventTimeout, "queued or start", accepted); err != nil {
		t.Fatal(err)
	}
}

func envHello(u *messages.User) *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: u}}}
}

// TestBadInputChangesNothing: while two players play a round, every kind of
// bad input gets its error event (the connection stays usable) or its close
// code with a reason; the round's result is untouched, the invalid choices
// and faces of a seated player change nothing and reach nobody, and the
// process is healthy at the end.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-allowed-origins", "https://good.example", "-allow-no-origin=true")

	a := demoPlayer(t, s, "A")
	b := oursPlayer(t, s, "B", false)
	a.hi(t)
	b.hi(t)
	starts := seat(t, []*player{a, b}, 30*time.Millisecond)
	a.must(t, a.choose(2))
	b.must(t, b.choose(1)) // rock breaks scissors: A wins
	demoA := a.conn.(*eio3Client)
	for _, bad := range []struct{ payload, code string }{
		{`{"choice":0}`, messages.CodeInvalidChoice},
		{`{"choice":4}`, messages.CodeInvalidChoice},
		{`{"choice":"x"}`, messages.CodeBadPayload},
		{`"x"`, messages.CodeBadPayload},
	} {
		a.must(t, demoA.emit("choice", []byte(bad.payload)))
		requireError(t, a.wire, bad.code)
	}
	for _, f := range []string{`{"face":0}`, `{"face":5}`} {
		a.must(t, demoA.emit("face", []byte(f)))
		requireError(t, a.wire, messages.CodeInvalidFace)
	}
	b.must(t, b.choose(4))
	requireError(t, b.wire, messages.CodeInvalidChoice)
	b.must(t, b.join()) // already playing
	requireError(t, b.wire, messages.CodeAlreadyQueued)
	b.must(t, b.face(9))
	requireError(t, b.wire, messages.CodeInvalidFace)

	t.Run("bad", func(t *testing.T) {
		t.Run("eio3 frames that are not events", func(t *testing.T) {
			t.Parallel()
			c := dialEIO3(t, s, newUser("Garbage"), dialOpts{})
			if _, err := c.awaitName(eventTimeout, "hi"); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{`42not json`, `not a packet at all`, `42{"choice":1}`, `42["choice",{"choice":1}`} {
				if err := c.sendText(f); err != nil {
					t.Fatal(err)
				}
				requireError(t, c.wire, messages.CodeBadFrame)
			}
			for _, ping := range []string{"2", "2probe"} { // the demo server answered both with a bare 3
				if err := c.sendText(ping); err != nil {
					t.Fatal(err)
				}
				if _, err := c.awaitName(eventTimeout, "eio:pong"); err != nil {
					t.Fatalf("%s: %v", ping, err)
				}
			}
			requireJoinAccepted(t, c.wire, c.send)
		})
		t.Run("eio3 unknown and server-only events", func(t *testing.T) {
			t.Parallel()
			c := dialEIO3(t, s, newUser("Unknown"), dialOpts{})
			if _, err := c.awaitName(eventTimeout, "hi"); err != nil {
				t.Fatal(err)
			}
			if err := c.emit("dance", []byte(`{"x":1}`)); err != nil {
				t.Fatal(err)
			}
			requireError(t, c.wire, messages.CodeUnknownEvent)
			if err := c.emit("result", []byte(`{"result":[]}`)); err != nil {
				t.Fatal(err)
			}
			requireError(t, c.wire, messages.CodeNotClientEvent)
			requireJoinAccepted(t, c.wire, c.send)
		})
		t.Run("eio3 events before hello", func(t *testing.T) {
			t.Parallel()
			u := newUser("Late")
			c := dialEIO3(t, s, u, dialOpts{noHello: true})
			if err := c.emit("join", nil); err != nil {
				t.Fatal(err)
			}
			requireError(t, c.wire, messages.CodeHelloFirst)
			if err := c.emit("choice", []byte(`{"choice":1}`)); err != nil {
				t.Fatal(err)
			}
			requireError(t, c.wire, messages.CodeHelloFirst)
			if err := c.send(envHello(u)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.awaitName(eventTimeout, "hi"); err != nil {
				t.Fatal(err)
			}
			requireJoinAccepted(t, c.wire, c.send)
		})
		t.Run("ws events before hello and bad hellos", func(t *testing.T) {
			t.Parallel()
			c := dialOurs(t, s, true, dialOpts{})
			if err := c.send(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 1}}}); err != nil {
				t.Fatal(err)
			}
			requireError(t, c.wire, messages.CodeHelloFirst)
			if err := c.send(envHello(&messages.User{Uname: "no uid"})); err != nil {
				t.Fatal(err)
			}
			requireError(t, c.wire, messages.CodeBadUser)
			u := newUser("Hello")
			if err := c.send(envHello(u)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.awaitName(eventTimeout, "hi"); err != nil {
				t.Fatal(err)
			}
			if err := c.send(envHello(u)); err != nil {
				t.Fatal(err)
			}
			requireError(t, c.wire, messages.CodeAlreadyHello)
			requireJoinAccepted(t, c.wire, c.send)
		})
		t.Run("ws moves outside a round", func(t *testing.T) {
			t.Parallel()
			p := oursPlayer(t, s, "Idle", false)
			p.hi(t)
			p.must(t, p.choose(2))
			requireError(t, p.wire, messages.CodeNotPlaying)
			p.must(t, p.face(1))
			requireError(t, p.wire, messages.CodeNotPlaying)
			p.must(t, p.leave())
			requireError(t, p.wire, messages.CodeNotPlaying)
			requireJoinAccepted(t, p.wire, p.send)
			p.must(t, p.join())
			requireError(t, p.wire, messages.CodeAlreadyQueued)
		})
		t.Run("ws undecodable frames", func(t *testing.T) {
			t.Parallel()
			c := dialOurs(t, s, false, dialOpts{})
			if err := c.send(envHello(newUser("Bytes"))); err != nil {
				t.Fatal(err)
			}
			if _, err := c.awaitName(eventTimeout, "hi"); err != nil {
				t.Fatal(err)
			}
			junk := [][]byte{
				{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // a varint that never ends
				{0x0a, 0x7f, 0x01, 0x02}, // a body longer than the frame
			}
			for seed := uint64(1); len(junk) < 6; seed++ { // random bytes that protobuf refuses
				r := make([]byte, 64)
				for i := range r {
					r[i] = byte((seed*2654435761 + uint64(i)*40503) >> 7)
				}
				if proto.Unmarshal(r, &messages.Envelope{}) != nil {
					junk = append(junk, r)
				}
			}
			for _, j := range junk {
				if err := c.write(websocket.BinaryMessage, j); err != nil {
					t.Fatal(err)
				}
				requireError(t, c.wire, messages.CodeBadFrame)
			}
			for _, text := range []string{"this is not JSON", "{\"hello\":\xff\xfe}", "[]", "{\"choice\":{\"choice\":2}"} {
				if err := c.write(websocket.TextMessage, []byte(text)); err != nil {
					t.Fatal(err)
				}
				requireError(t, c.wire, messages.CodeBadFrame)
			}
			if err := c.write(websocket.BinaryMessage, []byte{0x7a, 0x00}); err != nil { // field 15: no body we know
				t.Fatal(err)
			}
			requireError(t, c.wire, messages.CodeUnknownEvent)
			res, _ := proto.Marshal(&messages.Envelope{Body: &messages.Envelope_Result{Result: &messages.Result{RoundId: "forged"}}})
			if err := c.write(websocket.BinaryMessage, res); err != nil {
				t.Fatal(err)
			}
			requireError(t, c.wire, messages.CodeNotClientEvent)
			requireJoinAccepted(t, c.wire, c.send)
		})
		t.Run("frames over the limit", func(t *testing.T) {
			t.Parallel()
			// A frame of exactly -max-frame-bytes (4096) is fine.
			exact := dialOurs(t, s, true, dialOpts{})
			frame := compactJSON(envHello(&messages.User{Uid: "exact0000001", Uname: "x"}), false)
			frame = compactJSON(envHello(&messages.User{Uid: "exact0000001", Uname: strings.Repeat("x", 4096-len(frame)+1)}), false)
			if len(frame) != 4096 {
				t.Fatalf("built a %d-byte frame", len(frame))
			}
			if err := exact.write(websocket.TextMessage, frame); err != nil {
				t.Fatal(err)
			}
			if _, err := exact.await(eventTimeout, "hi or error", func(e event) bool { return e.name == "hi" || e.name == "error" }); err != nil {
				t.Fatalf("a frame of exactly the limit: %v", err)
			}

			big := strings.Repeat("x", 5000) // -max-frame-bytes is 4096
			ws := dialOurs(t, s, false, dialOpts{})
			b, _ := proto.Marshal(envHello(&messages.User{Uid: "bigbinary001", Uname: big}))
			if err := ws.write(websocket.BinaryMessage, b); err != nil {
				t.Fatal(err)
			}
			requireClose(t, ws.wire, eventTimeout, messages.CloseTooBig)

			js := dialOurs(t, s, true, dialOpts{})
			if err := js.write(websocket.TextMessage, compactJSON(envHello(&messages.User{Uid: "bigjson00001", Uname: big}), false)); err != nil {
				t.Fatal(err)
			}
			requireClose(t, js.wire, eventTimeout, messages.CloseTooBig)

			demo := dialEIO3(t, s, newUser("Big"), dialOpts{})
			if _, err := demo.awaitName(eventTimeout, "hi"); err != nil {
				t.Fatal(err)
			}
			if err := demo.emit("face", []byte(`{"face":1,"pad":"`+big+`"}`)); err != nil {
				t.Fatal(err)
			}
			requireClose(t, demo.wire, eventTimeout, messages.CloseTooBig)
		})
		t.Run("origins", func(t *testing.T) {
			t.Parallel()
			evil := dialOpts{header: http.Header{"Origin": {"https://evil.example"}}}
			if _, err := tryDialOurs(t, s, false, evil); err == nil || err.(*dialError).status != http.StatusForbidden {
				t.Errorf("/ws with a disallowed Origin: %v, want HTTP 403", err)
			}
			if _, err := tryDialEIO3(t, s, newUser("Evil"), evil); err == nil || err.(*dialError).status != http.StatusForbidden {
				t.Errorf("Socket.IO with a disallowed Origin: %v, want HTTP 403", err)
			}
			good := dialOpts{header: http.Header{"Origin": {"https://good.example"}}}
			c := dialOurs(t, s, false, good)
			if err := c.send(envHello(newUser("Good"))); err != nil {
				t.Fatal(err)
			}
			if _, err := c.awaitName(eventTimeout, "hi"); err != nil {
				t.Fatal(err)
			}
			d := dialEIO3(t, s, newUser("GoodDemo"), good)
			if _, err := d.awaitName(eventTimeout, "hi"); err != nil {
				t.Fatal(err)
			}
		})
		flood := func(t *testing.T, w *wire, send func() error) {
			const most = 20000
			began := time.Now()
			sent := 0
			for ; sent < most && w.closedInfo() == nil && time.Since(began) < 10*time.Second; sent++ {
				if err := send(); err != nil {
					break // the server closed the socket under us
				}
			}
			ci := requireClose(t, w, eventTimeout, messages.ClosePolicy)
			var limited int
			for _, e := range w.log() {
				if e.name == "error" && e.env.GetError().GetCode() == messages.CodeRateLimited {
					limited++
					if e.at.After(ci.at) {
						t.Errorf("rate_limited after the close")
					}
				}
			}
			if limited == 0 {
				t.Errorf("closed for flooding after %d messages without a rate_limited error first", sent)
			}
		}
		t.Run("ws flood", func(t *testing.T) {
			t.Parallel()
			p := oursPlayer(t, s, "Flood", false)
			p.hi(t)
			flood(t, p.wire, func() error { return p.face(1) })
		})
		t.Run("eio3 flood", func(t *testing.T) {
			t.Parallel()
			p := demoPlayer(t, s, "FloodDemo")
			p.hi(t)
			flood(t, p.wire, func() error { return p.face(1) })
		})
	})

	res := settleRound(t, []*player{a, b}, starts)
	ae, be := resultEntry(res, a.uid()), resultEntry(res, b.uid())
	if ae.GetChoice() != 2 || be.GetChoice() != 1 || ae.GetRoundScore() != 1 || be.GetRoundScore() != 0 {
		t.Fatalf("result %v: want A rock (2) beating B scissors (1) as chosen before the bad input", res)
	}
	if n := len(movementsFrom(b.log(), a.uid(), "choice")); n != 1 {
		t.Errorf("B saw %d choice movements from A, want 1: invalid choices must reach nobody", n)
	}
	if n := len(movementsFrom(b.log(), a.uid(), "face")); n != 0 {
		t.Errorf("B saw %d face movements from A, want 0: invalid faces must reach nobody", n)
	}
	if n := len(movementsFrom(a.log(), b.uid(), "choice")) + len(movementsFrom(a.log(), b.uid(), "face")); n != 1 {
		t.Errorf("A saw %d movements from B, want 1 (its one valid choice)", n)
	}
	for _, err := range checkDemoShapes(a.log()) {
		t.Error(err)
	}
	s.requireHealthy(t)
}

// TestHandshakeTimeout: a connection that says no hello within
// -handshake-timeout is closed with 4003 and a reason, on both protocols; one
// that said hello stays.
func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-handshake-timeout", "1s")
	began := time.Now()
	silentWS := dialOurs(t, s, false, dialOpts{})
	silentDemo := dialEIO3(t, s, nil, dialOpts{noHello: true})
	polite := oursPlayer(t, s, "Polite", false)
	polite.hi(t)
	for _, w := range []*wire{silentWS.wire, silentDemo.wire} {
		ci := requireClose(t, w, 5*time.Second, messages.CloseHelloTimeout)
		if d := ci.at.Sub(began); d < 900*time.Millisecond || d > 2500*time.Millisecond {
			t.Errorf("%s closed %v after connecting, want about 1s", w.label, d)
		}
	}
	if time.Since(began) < 1500*time.Millisecond {
		time.Sleep(1500*time.Millisecond - time.Since(began))
	}
	requireJoinAccepted(t, polite.wire, polite.send)
}

// TestIdleDemoClientStaysConnected: the 2016 client never pings and never
// speaks after hello; WebSocket pings (answered by the client's WebSocket
// layer) keep it connected for 90 s with -ping-interval 5s -idle-timeout 15s.
// A client that does not answer pings is closed after the idle timeout.
func TestIdleDemoClientStaysConnected(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-ping-interval", "5s", "-idle-timeout", "15s")
	var pings atomic.Int32
	idle := dialEIO3(t, s, newUser("Idle"), dialOpts{onPing: func() bool { pings.Add(1); return true }})
	if _, err := idle.awaitName(eventTimeout, "hi"); err != nil {
		t.Fatal(err)
	}
	deaf := dialOurs(t, s, false, dialOpts{onPing: func() bool { return false }})
	if err := deaf.send(envHello(newUser("Deaf"))); err != nil {
		t.Fatal(err)
	}
	if _, err := deaf.awaitName(eventTimeout, "hi"); err != nil {
		t.Fatal(err)
	}
	began := time.Now()

	const stay = 90 * time.Second
	deafClosed := false
	for time.Since(began) < stay {
		if ci := idle.closedInfo(); ci != nil {
			t.Fatalf("the idle demo client was closed after %v (code %d, reason %q, %v; %d pings)", ci.at.Sub(began), ci.code, ci.reason, ci.err, pings.Load())
		}
		if ci := deaf.closedInfo(); ci != nil && !deafClosed {
			deafClosed = true
			if d := ci.at.Sub(began); d < 12*time.Second || d > 35*time.Second {
				t.Errorf("a client that answers no pings was closed %v after its hello, want about the idle timeout (15s)", d)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !deafClosed {
		t.Errorf("a client that answers no pings is still open after %v with -idle-timeout 15s", stay)
	}
	if n := pings.Load(); n < 14 {
		t.Errorf("%d WebSocket pings in %v with -ping-interval 5s, want about 18", n, stay)
	}
	requireJoinAccepted(t, idle.wire, idle.send)
}
