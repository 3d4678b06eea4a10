package gateway

import (
	"encoding/json"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/messages"
)

const eio3Path = "/applet/websocket/socket.io//?EIO=3&transport=websocket" // the 2016 client's URL

var (
	eio3Open = regexp.MustCompile(`^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\[\],"pingInterval":25000,"pingTimeout":60000\}$`)
	// What the 2016 client may see after the open packet and 40.
	eio3Allowed = regexp.MustCompile(`^(42\[.*\]|3)$`)
)

// The 2016 client: double slash, hello before reading anything, and from the
// server only 42[...] events and 3 pongs, even with WebSocket pings going on.
func TestEIO3TheDemoClient(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.PingInterval = 20 * time.Millisecond }, nil)
	ws := ts.dial(t, eio3Path, nil)
	var pings atomic.Int32 // WebSocket pings, answered while reading
	ws.SetPingHandler(func(data string) error {
		pings.Add(1)
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	writeText(t, ws, `42["hello",{"user":{"uid":"u1","uname":"A","uavatar":"http://x/a.png"},"cordinate":{"lat":1,"lng":2}}]`)

	if got := readText(t, ws); !eio3Open.MatchString(got) {
		t.Fatalf("first frame %q; want the EIO3 open packet", got)
	}
	if got := readText(t, ws); got != "40" {
		t.Fatalf("second frame %q; want 40", got)
	}
	s := ts.session(t)
	if got := s.next(t); got.GetHello().GetUser().GetUid() != "u1" {
		t.Fatalf("delivered %v; want hello from u1", got)
	}

	var seen []string
	expect := func(want string) {
		t.Helper()
		got := readText(t, ws)
		seen = append(seen, got)
		if got != want {
			t.Fatalf("got %q; want %q", got, want)
		}
	}
	expect(`42["hi",{"message":"welcome","nearby":1,"totalScore":0,"winStreak":0}]`)
	writeText(t, ws, "2")
	expect("3")
	writeText(t, ws, "2probe")
	expect("3")
	writeText(t, ws, `42["join"]`)
	if got := s.next(t); got.GetJoin() == nil {
		t.Fatalf("delivered %v; want join", got)
	}
	writeText(t, ws, `4217["choice",{"choice":2}]`)
	if got := s.next(t); got.GetChoice().GetChoice() != 2 {
		t.Fatalf("delivered %v; want choice 2", got)
	}
	s.conn.Send(&messages.Envelope{Body: &messages.Envelope_Movement{Movement: &messages.Movement{Uid: "u2", Movement: "choice"}}})
	expect(`42["movement",{"uid":"u2","movement":"choice","face":0}]`)

	// Many ping periods later, still nothing but what we asked for.
	for deadline := time.Now().Add(5 * time.Second); pings.Load() < 5; {
		if time.Now().After(deadline) {
			t.Fatalf("%d WebSocket pings in 5 s", pings.Load())
		}
		writeText(t, ws, "2")
		expect("3")
		time.Sleep(20 * time.Millisecond) // paces the client's pings under its rate limit
	}
	for _, f := range seen {
		if !eio3Allowed.MatchString(f) {
			t.Errorf("the 2016 client would misread %q", f)
		}
	}
}

func TestEIO3BadInput(t *testing.T) {
	tests := []struct {
		kind       int
		data, code string
	}{
		{websocket.TextMessage, "hello", messages.CodeBadFrame},
		{websocket.TextMessage, "5", messages.CodeBadFrame},
		{websocket.BinaryMessage, `42["join"]`, messages.CodeBadFrame},
		{websocket.TextMessage, `42{"a":1}`, messages.CodeBadFrame},
		{websocket.TextMessage, `42["join"`, messages.CodeBadFrame},
		{websocket.TextMessage, `42[7]`, messages.CodeBadFrame},
		{websocket.TextMessage, `42["dance",{}]`, messages.CodeUnknownEvent},
		{websocket.TextMessage, `42["result",{}]`, messages.CodeNotClientEvent},
		{websocket.TextMessage, `42["choice","x"]`, messages.CodeBadPayload},
		{websocket.TextMessage, `42["choice",{"choice":"x"}]`, messages.CodeBadPayload},
	}
	ts := newTestServer(t, nil, nil)
	ws := ts.dial(t, eio3Path, nil)
	readText(t, ws)
	readText(t, ws)
	s := ts.session(t)
	for _, tc := range tests {
		if err := ws.WriteMessage(tc.kind, []byte(tc.data)); err != nil {
			t.Fatal(err)
		}
		text := readText(t, ws)
		if !strings.HasPrefix(text, `42["error",{"code":"`+tc.code+`","message":"`) {
			t.Errorf("%q: got %s; want an error event %s", tc.data, text, tc.code)
		}
	}
	s.expectNothingDelivered(t)
	writeText(t, ws, `42["join"]`)
	if got := s.next(t); got.GetJoin() == nil {
		t.Fatalf("after bad frames, delivered %v; want join", got)
	}
}

func TestEIO3ClientDisconnect(t *testing.T) {
	for _, packet := range []string{"1", "41"} {
		ts := newTestServer(t, nil, nil)
		ws := ts.dial(t, eio3Path, nil)
		s := ts.session(t)
		writeText(t, ws, packet)
		expectCloseCode(t, ws, messages.CloseNormal, "client")
		s.waitClosed(t)
		expectClosedOnce(t, ts, s)
	}
}

// eio4Connect dials as socket.io-client v4 and completes the handshake.
func eio4Connect(t *testing.T, ts *testServer) (*websocket.Conn, *fakeSession, map[string]any) {
	t.Helper()
	ws := ts.dial(t, "/applet/websocket/socket.io/?EIO=4&transport=websocket", nil)
	open := readText(t, ws)
	var params map[string]any
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &params) != nil {
		t.Fatalf("open packet %q", open)
	}
	s := ts.session(t)
	writeText(t, ws, `40{"token":"abc"}`)
	if got := readText(t, ws); !regexp.MustCompile(`^40\{"sid":"[A-Za-z0-9_-]{20}"\}$`).MatchString(got) {
		t.Fatalf("connect answer %q", got)
	}
	return ws, s, params
}

func TestEIO4Handshake(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.PingInterval = 50 * time.Millisecond }, nil)
	ws, s, params := eio4Connect(t, ts)
	if params["pingInterval"] != 50.0 || params["pingTimeout"] != 20000.0 || params["maxPayload"] != 4096.0 ||
		params["sid"] == "" || params["sid"] == nil {
		t.Fatalf("open packet parameters %v", params)
	}
	writeText(t, ws, `42["hello",{"user":{"uid":"u4","uname":"B","uavatar":""}}]`)
	if got := s.next(t); got.GetHello().GetUser().GetUid() != "u4" {
		t.Fatalf("delivered %v; want hello", got)
	}
	// Both the hi and the server's ping arrive; answer the ping.
	gotHi, gotPing := false, false
	for !gotHi || !gotPing {
		switch f := readText(t, ws); {
		case f == "2":
			gotPing = true
			writeText(t, ws, "3")
		case strings.HasPrefix(f, `42["hi",`):
			gotHi = true
		default:
			t.Fatalf("unexpected frame %q", f)
		}
	}
	writeText(t, ws, "2")
	for f := readText(t, ws); f != "3"; f = readText(t, ws) {
		if f != "2" {
			t.Fatalf("got %q; want the pong 3", f)
		}
		writeText(t, ws, "3")
	}
	writeText(t, ws, "1")
	expectCloseCode(t, ws, messages.CloseNormal, "client")
	s.waitClosed(t)
	expectClosedOnce(t, ts, s)
}

func TestEIO4ClosesWhenPongsStop(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.PingInterval = 30 * time.Millisecond },
		func(g *Gateway) { g.eio4PingTimeout = 300 * time.Millisecond })
	ws, s, params := eio4Connect(t, ts)
	if params["pingTimeout"] != 300.0 {
		t.Fatalf("pingTimeout %v; want the gateway's 300", params["pingTimeout"])
	}
	// Answer pings for a while: the connection must stay.
	until := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(until) {
		if f := readText(t, ws); f == "2" {
			writeText(t, ws, "3")
		}
	}
	// Then stop answering (WebSocket pongs still go out from our reads).
	expectCloseCode(t, ws, messages.ClosePolicy, "pong")
	if reason := s.waitClosed(t); !strings.Contains(reason, "pong") {
		t.Fatalf("Closed(%q); want the ping timeout", reason)
	}
}

func TestSocketIORefusals(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	tests := []struct {
		query, body string
	}{
		{"?EIO=5&transport=websocket", `{"code":5,"message":"Unsupported protocol version"}`},
		{"?transport=websocket", `{"code":5,"message":"Unsupported protocol version"}`},
		{"?EIO=3&transport=polling", `{"code":0,"message":"Transport unknown"}`},
		{"?EIO=4", `{"code":0,"message":"Transport unknown"}`},
		{"?EIO=3&transport=websocket&sid=abc", `{"code":1,"message":"Session ID unknown"}`},
		{"?EIO=4&transport=websocket&sid=abc", `{"code":1,"message":"Session ID unknown"}`},
	}
	for _, tc := range tests {
		status, body := ts.refusal(t, "/applet/websocket/socket.io/"+tc.query, nil)
		if status != 400 || body != tc.body {
			t.Errorf("%s: %d %s; want 400 %s", tc.query, status, body, tc.body)
		}
	}
}

func TestSocketIOPaths(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	for _, path := range []string{
		"/applet/websocket/socket.io",
		"/applet/websocket/socket.io/",
		"/applet/websocket/socket.io//",
		"/applet/websocket/socket.io/anything/below",
	} {
		ws := ts.dial(t, path+"?EIO=3&transport=websocket", nil)
		if got := readText(t, ws); !eio3Open.MatchString(got) {
			t.Errorf("%s: first frame %q", path, got)
		}
		ts.session(t)
	}
	if status, _ := ts.refusal(t, "/applet/websocket/socket.iox?EIO=3&transport=websocket", nil); status != 404 {
		t.Errorf("a path that only shares the prefix's letters: %d; want 404", status)
	}
}

// TestEIO4NamespacesOverWebSocket: CONNECT_ERROR for another namespace; 41
// leaves the namespace while the Engine.IO connection stays and keeps
// pinging; events with an ack id are acknowledged.
func TestEIO4NamespacesOverWebSocket(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.PingInterval = 50 * time.Millisecond }, nil)
	ws, s, _ := eio4Connect(t, ts)
	// next skips and answers pings.
	next := func() string {
		t.Helper()
		for {
			if f := readText(t, ws); f != "2" {
				return f
			}
			writeText(t, ws, "3")
		}
	}
	writeText(t, ws, `40/other,{"token":"t"}`)
	if got := next(); got != `44/other,{"message":"Invalid namespace"}` {
		t.Fatalf("CONNECT to /other: %q", got)
	}
	writeText(t, ws, `42456["hello",{"user":{"uid":"n1","uname":"N","uavatar":""}}]`)
	s.next(t)
	if got := []string{next(), next()}; got[0] != "43456[]" && got[1] != "43456[]" {
		t.Fatalf("answers to hello with ack id 456: %q; want 43456[] among them", got)
	}
	writeText(t, ws, `421["choice",{"choice":"rock"}]`)
	if got := next(); !strings.HasPrefix(got, `431[{"code":"bad_payload","message":`) {
		t.Fatalf("ack of a bad payload: %q", got)
	}
	writeText(t, ws, "41")
	writeText(t, ws, "2") // its pong shows the 41 was read
	if f := next(); f != "3" {
		t.Fatalf("answer to ping: %q", f)
	}
	// Pings go on, and server events stop while the client is outside.
	for pings := 0; pings < 3; {
		s.conn.Send(&messages.Envelope{Body: &messages.Envelope_Movement{Movement: &messages.Movement{Uid: "u2", Movement: "x"}}})
		if f := readText(t, ws); f != "2" {
			t.Fatalf("after 41: %q; want only pings", f)
		}
		writeText(t, ws, "3")
		pings++
	}
	writeText(t, ws, "40")
	if got := next(); !strings.HasPrefix(got, `40{"sid":"`) {
		t.Fatalf("second CONNECT: %q", got)
	}
	writeText(t, ws, "41/custom,")
	expectCloseCode(t, ws, messages.CloseProtocol, "/custom")
	s.waitClosed(t)
	expectClosedOnce(t, ts, s)
}

// TestEIO4InvalidPacketsClose: each packet the protocols forbid ends the
// connection with 1002 and a reason.
func TestEIO4InvalidPacketsClose(t *testing.T) {
	for _, packet := range []string{"x", "42[]", `42{"a":1}`, "44{}", `451-["x",{"_placeholder":true,"num":0}]`, "40[1]", `42["join"`} {
		ts := newTestServer(t, nil, nil)
		ws, s, _ := eio4Connect(t, ts)
		writeText(t, ws, packet)
		expectCloseCode(t, ws, messages.CloseProtocol, "")
		s.waitClosed(t)
		expectClosedOnce(t, ts, s)
	}
	// An event before CONNECT, too.
	ts := newTestServer(t, nil, nil)
	ws := ts.dial(t, "/applet/websocket/socket.io/?EIO=4&transport=websocket", nil)
	readText(t, ws)
	s := ts.session(t)
	writeText(t, ws, `42["join"]`)
	expectCloseCode(t, ws, messages.CloseProtocol, "before CONNECT")
	s.waitClosed(t)
}

// TestEIO4AckCarriesTheSessionsVerdict: with a session that judges acked
// messages, its refusal comes back in the ACK (over WebSocket and over
// polling) and not as an error event.
func TestEIO4AckCarriesTheSessionsVerdict(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ts.opener.acking = true
	ws, s, _ := eio4Connect(t, ts)
	writeText(t, ws, `4231["join"]`)
	if got := readText(t, ws); got != `4331[{"code":"already_queued","message":"already waiting"}]` {
		t.Fatalf("ack of a refused join: %q", got)
	}
	writeText(t, ws, `4232["choice",{"choice":1}]`)
	if got := readText(t, ws); got != `4332[]` {
		t.Fatalf("ack of a taken choice: %q", got)
	}
	s.next(t)
	s.next(t)

	c, _ := openPolling(t, ts)
	ts.session(t)
	c.connect(t)
	c.mustPost(t, `427["join"]`, `428["leave"]`)
	got := c.until(t, `437.*`)
	if got != `437[{"code":"already_queued","message":"already waiting"}]` {
		t.Fatalf("polling ack of a refused join: %q", got)
	}
}

func TestAckFrame(t *testing.T) {
	if got := string(ackFrame("7", "", "").data); got != "437[]" {
		t.Errorf("taken: %q", got)
	}
	if got := string(ackFrame("7", "bad_payload", `say "x"`).data); got != `437[{"code":"bad_payload","message":"say \"x\""}]` {
		t.Errorf("refused: %q", got)
	}
}

// Recovery on the wire: a numbered event carries its seq as a string last
// argument (the offset), the body before it unchanged; the CONNECT answer
// carries the pid; the CONNECT's auth reaches the session whole; and the
// client's close packet counts as a lost connection (it may recover) only
// while the client is in the namespace.
func TestSocketIORecoveryOnTheWire(t *testing.T) {
	env := &messages.Envelope{Body: &messages.Envelope_Leave{Leave: &messages.Leave{Uid: "u"}}}
	plain, _ := EncodeEvent(env)
	env.Seq = 7
	numbered, _ := EncodeEvent(env)
	if string(plain) != `42["leave",{"uid":"u"}]` || string(numbered) != `42["leave",{"uid":"u"},"7"]` {
		t.Fatalf("events: %s and %s", plain, numbered)
	}
	if back, err := DecodeEvent(numbered); err != nil || back.GetLeave().GetUid() != "u" {
		t.Fatalf("a numbered event decodes to %v, %v", back, err)
	}

	w := newEIO4Wire(newSID(), false, time.Second, time.Second, 4096)
	if got := string(w.connectFrame("p.q").data); !regexp.MustCompile(`^40\{"sid":"[A-Za-z0-9_-]{20}","pid":"p.q"\}$`).MatchString(got) {
		t.Fatalf("CONNECT answer with a pid: %s", got)
	}
	if got := string(w.connectFrame("").data); !regexp.MustCompile(`^40\{"sid":"[A-Za-z0-9_-]{20}"\}$`).MatchString(got) {
		t.Fatalf("CONNECT answer without: %s", got)
	}
	if in := w.decode(websocket.TextMessage, []byte("1")); !in.close || in.lost {
		t.Fatalf("close before CONNECT: %+v; want a close, not lost", in)
	}
	in := w.decode(websocket.TextMessage, []byte(`40{"token":"t","pid":"p.q","offset":"12","other":1}`))
	if in.connect == nil || *in.connect != (actors.SocketIOConnect{Token: "t", PID: "p.q", Offset: "12"}) || in.token != "t" {
		t.Fatalf("CONNECT with recovery: %+v", in)
	}
	if in := w.decode(websocket.TextMessage, []byte(`40{"pid":7}`)); in.connect == nil || in.connect.PID != "" {
		t.Fatalf("a pid that is not a string: %+v", in)
	}
	if in := w.decode(websocket.TextMessage, []byte("1")); !in.close || !in.lost {
		t.Fatalf("close in the namespace: %+v; want lost", in)
	}
	w.decode(websocket.TextMessage, []byte("41"))
	if in := w.decode(websocket.TextMessage, []byte("1")); !in.close || in.lost {
		t.Fatalf("close after DISCONNECT: %+v; want not lost", in)
	}
}
