package gateway

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/messages"
)

func TestFrameTooBig(t *testing.T) {
	for _, path := range []string{"/ws", eio3Path} {
		ts := newTestServer(t, func(c *Config) { c.MaxFrameBytes = 64 }, nil)
		ws := ts.dial(t, path, nil)
		s := ts.session(t)
		writeText(t, ws, `42["hello",{"user":{"uid":"`+strings.Repeat("x", 10_000)+`"}}]`)
		expectCloseCode(t, ws, messages.CloseTooBig, "frame exceeds 64 bytes")
		s.waitClosed(t)
		s.expectNothingDelivered(t)
		expectClosedOnce(t, ts, s)
	}
}

func TestFrameAtTheLimitPasses(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxFrameBytes = 64 }, nil)
	ws := ts.dial(t, "/ws", nil)
	s := ts.session(t)
	frame := `{"hello":{"user":{"uid":"` + strings.Repeat("x", 64-len(`{"hello":{"user":{"uid":""}}}`)) + `"}}}`
	writeText(t, ws, frame)
	if got := s.next(t); got.GetHello() == nil || len(frame) != 64 {
		t.Fatalf("a %d-byte frame delivered %v", len(frame), got)
	}
}

func TestOriginRefused(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.AllowedOrigins = []string{"https://game.example"} }, nil)
	status, body := ts.refusal(t, "/ws", http.Header{"Origin": {"https://x.example"}})
	if want := `{"code":"origin_not_allowed","message":"origin https://x.example is not allowed"}`; status != 403 || body != want {
		t.Fatalf("got %d %s; want 403 %s", status, body, want)
	}
	status, _ = ts.refusal(t, eio3Path, http.Header{"Origin": {"https://x.example"}})
	if status != 403 {
		t.Fatalf("Socket.IO with a foreign origin: %d; want 403", status)
	}
	ts.dial(t, "/ws", http.Header{"Origin": {"https://game.example"}})
	ts.dial(t, "/ws", nil) // no Origin: allowed by default
}

func TestNoOriginRefusedWhenConfigured(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.AllowNoOrigin = false }, nil)
	if status, _ := ts.refusal(t, "/ws", nil); status != 403 {
		t.Fatalf("no Origin: %d; want 403", status)
	}
}

func TestFloodIsLimitedThenClosed(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.RateLimit = 1; c.RateBurst = 2 }, nil)
	ws := ts.dial(t, "/ws?format=json", nil)
	s := ts.session(t)
	for range 40 {
		if ws.WriteMessage(websocket.TextMessage, []byte(`{"join":{}}`)) != nil {
			break // the server may already have closed
		}
	}
	limited := 0
	ws.SetReadDeadline(time.Now().Add(waitTime))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			ce, ok := err.(*websocket.CloseError)
			if !ok || ce.Code != messages.ClosePolicy || ce.Text != "message rate limit exceeded" {
				t.Fatalf("ended with %v; want close 1008 for the flood", err)
			}
			break
		}
		env, derr := DecodeEnvelope(data, false)
		if derr != nil {
			t.Fatal(derr)
		}
		expectError(t, env, messages.CodeRateLimited)
		limited++
	}
	if limited < 1 || limited > 2 {
		t.Fatalf("%d rate_limited errors; want one a second", limited)
	}
	s.waitClosed(t)
	if n := len(s.delivered); n > 3 {
		t.Fatalf("%d messages delivered; the burst is 2", n)
	}
	expectClosedOnce(t, ts, s)
}

func TestEngineIOPingsCountTowardTheRate(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.RateLimit = 1; c.RateBurst = 2 }, nil)
	ws := ts.dial(t, eio3Path, nil)
	readText(t, ws)
	readText(t, ws)
	ts.session(t)
	for range 3 {
		writeText(t, ws, "2")
	}
	readText(t, ws)
	readText(t, ws)
	if got := readText(t, ws); !strings.HasPrefix(got, `42["error",{"code":"rate_limited"`) {
		t.Fatalf("third ping answered %q; want rate_limited", got)
	}
}

// A client that never reads: Send must not block, and the connection closes
// as a slow consumer.
func TestSlowConsumer(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.OutboundQueue = 4 }, nil)
	ts.dial(t, "/ws", nil) // never read from
	s := ts.session(t)
	big := &messages.Envelope{Body: &messages.Envelope_Hi{Hi: &messages.Hi{Message: strings.Repeat("x", 64<<10)}}}

	refused := false
	for i := 0; i < 100_000 && !refused; i++ {
		start := time.Now()
		refused = !s.conn.Send(big)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Send blocked for %v", d)
		}
	}
	if !refused {
		t.Fatal("Send never reported a full queue")
	}
	if reason := s.waitClosed(t); reason != "outbound queue full" {
		t.Fatalf("Closed(%q); want outbound queue full", reason)
	}
	if s.conn.Send(big) {
		t.Fatal("Send succeeded after close")
	}
	expectClosedOnce(t, ts, s)
}

func TestHandshakeTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.HandshakeTimeout = 200 * time.Millisecond }, nil)
	ws := ts.dial(t, "/ws", nil)
	s := ts.session(t)
	writeText(t, ws, `{"join":{}}`) // not a hello
	expectCloseCode(t, ws, messages.CloseHelloTimeout, "no hello within 200ms")
	s.waitClosed(t)
	expectClosedOnce(t, ts, s)
}

func TestHelloStopsTheHandshakeTimer(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.HandshakeTimeout = 100 * time.Millisecond }, nil)
	ws := ts.dial(t, "/ws?format=json", nil)
	s := ts.session(t)
	writeText(t, ws, `{"hello":{"user":{"uid":"u1"}}}`)
	readText(t, ws)
	time.Sleep(300 * time.Millisecond)
	writeText(t, ws, `{"join":{}}`)
	s.next(t)
	if got := s.next(t); got.GetJoin() == nil {
		t.Fatalf("delivered %v; want join on a connection that said hello", got)
	}
}

func TestIdleTimeout(t *testing.T) {
	// A long ping period: nothing from the server prompts the client.
	ts := newTestServer(t, func(c *Config) { c.IdleTimeout = 200 * time.Millisecond; c.PingInterval = time.Hour }, nil)
	ws := ts.dial(t, eio3Path, nil)
	s := ts.session(t)
	expectCloseCode(t, ws, messages.ClosePolicy, "nothing received")
	s.waitClosed(t)
	expectClosedOnce(t, ts, s)
}

func TestWebSocketPongsKeepAConnectionAlive(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.IdleTimeout = 300 * time.Millisecond
		c.PingInterval = 50 * time.Millisecond
	}, nil)
	ws := ts.dial(t, "/ws", nil)
	s := ts.session(t)
	// Reading runs the ping handler, which answers each ping with a pong.
	var pings atomic.Int32
	ws.SetPingHandler(func(data string) error {
		pings.Add(1)
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	// Twelve pings 50 ms apart span twice the idle timeout.
	deadline := time.Now().Add(10 * time.Second)
	for pings.Load() < 12 && s.closedCount.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.closedCount.Load() != 0 {
		t.Fatalf("closed after %d pings although pongs kept coming: %s", pings.Load(), <-s.closedReason)
	}
	if pings.Load() < 12 {
		t.Fatalf("%d pings within 10 s", pings.Load())
	}
}

func TestClientClose(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.dial(t, "/ws", nil)
	s := ts.session(t)
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
	ce := expectClose(t, ws)
	if ce.Code != messages.CloseNormal {
		t.Fatalf("close answered with %d; want 1000", ce.Code)
	}
	if reason := s.waitClosed(t); !strings.Contains(reason, "client closed") {
		t.Fatalf("Closed(%q)", reason)
	}
	expectClosedOnce(t, ts, s)
}

func TestSessionClose(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.dial(t, "/ws?format=json", nil)
	s := ts.session(t)
	// A message queued before Close still arrives, before the close frame.
	s.conn.Send(errorEnvelope(messages.CodeServerBusy, "bye"))
	s.conn.Close(messages.CloseReplaced, "connected elsewhere")
	s.conn.Close(messages.CloseInternal, "second close is ignored")
	env, _ := readEnvelope(t, ws)
	expectError(t, env, messages.CodeServerBusy)
	expectCloseCode(t, ws, messages.CloseReplaced, "connected elsewhere")
	if reason := s.waitClosed(t); reason != "connected elsewhere" {
		t.Fatalf("Closed(%q)", reason)
	}
	expectClosedOnce(t, ts, s)
}

func TestHealthAndDraining(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	get := func() (int, string) {
		resp, err := http.Get(ts.srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body))
	}
	if status, body := get(); status != 200 || body != `{"status":"ok","conns":0}` {
		t.Fatalf("healthz: %d %s", status, body)
	}
	ts.dial(t, "/ws", nil)
	ts.session(t)
	waitFor(t, "healthz to count the connection", func() bool {
		_, body := get()
		return body == `{"status":"ok","conns":1}`
	})

	ts.gw.SetDraining()
	if status, body := get(); status != 503 || body != `{"status":"draining"}` {
		t.Fatalf("healthz while draining: %d %s", status, body)
	}
	if status, _ := ts.refusal(t, "/ws", nil); status != 503 {
		t.Fatalf("upgrade while draining: %d; want 503", status)
	}
	if status, _ := ts.refusal(t, eio3Path, nil); status != 503 {
		t.Fatalf("Socket.IO upgrade while draining: %d; want 503", status)
	}
	if ts.gw.OpenConns() != 1 {
		t.Fatalf("draining closed open connections: %d left", ts.gw.OpenConns())
	}
}

func TestCloseAll(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	paths := []string{"/ws", eio3Path, "/applet/websocket/socket.io/?EIO=4&transport=websocket"}
	var clients []*websocket.Conn
	var sessions []*fakeSession
	for _, p := range paths {
		clients = append(clients, ts.dial(t, p, nil))
		sessions = append(sessions, ts.session(t))
	}
	if n := ts.gw.OpenConns(); n != 3 {
		t.Fatalf("OpenConns = %d; want 3", n)
	}
	ts.gw.CloseAll(messages.CloseGoingAway, "server restarting")
	for _, ws := range clients {
		expectCloseCode(t, ws, messages.CloseGoingAway, "server restarting")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	if err := ts.gw.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if reason := s.waitClosed(t); reason != "server restarting" {
			t.Errorf("Closed(%q)", reason)
		}
		expectClosedOnce(t, ts, s)
	}
}

func TestNotFoundAndStatic(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	resp, err := http.Get(ts.srv.URL + "/index.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown path: %d; want 404", resp.StatusCode)
	}

	static := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "demo "+r.URL.Path) })
	gw, err := New(testConfig(), &fakeOpener{sessions: make(chan *fakeSession, 1)}, nil, WithStatic(static))
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	gw.ServeHTTP(rec, mustRequest(t, "/"))
	if rec.Body.String() != "demo /" {
		t.Fatalf("static handler not used: %q", rec.Body.String())
	}
	rec = newRecorder()
	gw.ServeHTTP(rec, mustRequest(t, "/healthz"))
	if !strings.Contains(rec.Body.String(), `"ok"`) {
		t.Fatalf("/healthz went to the static handler: %q", rec.Body.String())
	}
}
