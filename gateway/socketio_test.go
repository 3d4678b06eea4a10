package gateway

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

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
	time.Sleep(100 * time.Millisecond)
	writeText(t, ws, "2")
	expect("3")
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

	// An event before 40 is refused.
	writeText(t, ws, `42["join"]`)
	if env := readEvent(t, ws); env.GetError().GetCode() != messages.CodeBadFrame {
		t.Fatalf("event before 40: got %v; want bad_frame", env)
	}
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
	writeText(t, ws, "41")
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
