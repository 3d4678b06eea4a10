package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

// Tests of Engine.IO 4 long-polling and the upgrade, written from
// socketio/engine.io-protocol (v4) with raw HTTP requests and WebSockets.

const sioPath = "/applet/websocket/socket.io/"

// pollClient speaks the polling transport by hand.
type pollClient struct {
	ts  *testServer
	sid string
}

func (ts *testServer) httpDo(t *testing.T, method, query, body string, header http.Header) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, ts.srv.URL+sioPath+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{Timeout: waitTime}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, query, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(data)), resp.Header
}

// openPolling does the handshake and returns the client and the open
// packet's parameters.
func openPolling(t *testing.T, ts *testServer) (*pollClient, map[string]any) {
	t.Helper()
	status, body, _ := ts.httpDo(t, "GET", "?EIO=4&transport=polling", "", nil)
	var params map[string]any
	if status != 200 || !strings.HasPrefix(body, "0{") || json.Unmarshal([]byte(body[1:]), &params) != nil {
		t.Fatalf("handshake: %d %q", status, body)
	}
	sid, _ := params["sid"].(string)
	if sid == "" {
		t.Fatalf("open packet without a sid: %s", body)
	}
	return &pollClient{ts: ts, sid: sid}, params
}

func (c *pollClient) query() string { return "?EIO=4&transport=polling&sid=" + c.sid }

func (c *pollClient) get(t *testing.T) (int, string) {
	t.Helper()
	status, body, _ := c.ts.httpDo(t, "GET", c.query(), "", nil)
	return status, body
}

func (c *pollClient) post(t *testing.T, packets ...string) (int, string) {
	t.Helper()
	status, body, _ := c.ts.httpDo(t, "POST", c.query(), strings.Join(packets, "\x1e"), nil)
	return status, body
}

func (c *pollClient) mustPost(t *testing.T, packets ...string) {
	t.Helper()
	if status, body := c.post(t, packets...); status != 200 || body != "ok" {
		t.Fatalf("POST %q: %d %q; want 200 ok", packets, status, body)
	}
}

// packets GETs once and splits the payload.
func (c *pollClient) packets(t *testing.T) []string {
	t.Helper()
	status, body := c.get(t)
	if status != 200 {
		t.Fatalf("GET: %d %q", status, body)
	}
	return strings.Split(body, "\x1e")
}

// until GETs, answering pings, until a packet matching re arrives; it
// returns that packet.
func (c *pollClient) until(t *testing.T, re string) string {
	t.Helper()
	want := regexp.MustCompile("^" + re + "$")
	deadline := time.Now().Add(waitTime)
	for time.Now().Before(deadline) {
		for _, p := range c.packets(t) {
			switch {
			case want.MatchString(p):
				return p
			case p == "2":
				c.mustPost(t, "3")
			}
		}
	}
	t.Fatalf("no packet matching %s", re)
	return ""
}

func (c *pollClient) connect(t *testing.T) {
	t.Helper()
	c.mustPost(t, "40")
	c.until(t, `40\{"sid":"[A-Za-z0-9_-]{20}"\}`)
}

func TestPollingHandshake(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.PingInterval = 1500 * time.Millisecond
		c.PingTimeout = 700 * time.Millisecond
		c.MaxFrameBytes = 1000
	}, nil)
	_, params := openPolling(t, ts)
	if len(params) != 5 || params["pingInterval"] != 1500.0 || params["pingTimeout"] != 700.0 ||
		params["maxPayload"] != 1000.0 || len(params["sid"].(string)) != 20 {
		t.Fatalf("open packet %v", params)
	}
	if up, _ := params["upgrades"].([]any); len(up) != 1 || up[0] != "websocket" {
		t.Fatalf("upgrades %v; want [websocket]", params["upgrades"])
	}
	ts.session(t)
}

func TestPollingRefusals(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c, _ := openPolling(t, ts)
	ts.session(t)
	tests := []struct {
		method, query string
		status        int
		body          string
	}{
		{"GET", "?EIO=5&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"GET", "?EIO=4&transport=carrier-pigeon", 400, `{"code":0,"message":"Transport unknown"}`},
		{"GET", "?EIO=3&transport=polling", 400, `{"code":0,"message":"Transport unknown"}`},
		{"POST", "?EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"PUT", "?EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"GET", "?EIO=4&transport=polling&sid=nosuchsession", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"POST", "?EIO=4&transport=polling&sid=nosuchsession", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"PUT", c.query(), 400, `{"code":3,"message":"Bad request"}`},
		{"DELETE", c.query(), 400, `{"code":3,"message":"Bad request"}`},
	}
	for _, tc := range tests {
		status, body, _ := ts.httpDo(t, tc.method, tc.query, "", nil)
		if status != tc.status || body != tc.body {
			t.Errorf("%s %s: %d %s; want %d %s", tc.method, tc.query, status, body, tc.status, tc.body)
		}
	}
	// A WebSocket naming an unknown sid is refused before the upgrade.
	status, body := ts.refusal(t, sioPath+"?EIO=4&transport=websocket&sid=nosuchsession", nil)
	if status != 400 || body != `{"code":1,"message":"Session ID unknown"}` {
		t.Errorf("websocket with an unknown sid: %d %s", status, body)
	}
	// The session named in the refused requests is still fine.
	c.connect(t)
}

func TestPollingOriginAndCORS(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.AllowedOrigins = []string{"https://game.example"} }, nil)
	status, body, _ := ts.httpDo(t, "GET", "?EIO=4&transport=polling", "", http.Header{"Origin": {"https://evil.example"}})
	if status != 403 || !strings.Contains(body, "origin_not_allowed") {
		t.Fatalf("foreign origin: %d %s; want 403", status, body)
	}
	status, body, h := ts.httpDo(t, "GET", "?EIO=4&transport=polling", "", http.Header{"Origin": {"https://game.example"}})
	if status != 200 || !strings.HasPrefix(body, "0{") || h.Get("Access-Control-Allow-Origin") != "https://game.example" {
		t.Fatalf("allowed origin: %d %s %v", status, body, h)
	}
	ts.session(t)
	status, _, h = ts.httpDo(t, "OPTIONS", "?EIO=4&transport=polling", "", http.Header{"Origin": {"https://game.example"}})
	if status != 204 || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %d %v", status, h)
	}
}

// TestPollingRound: the client's packets go to the session in order, several
// in one POST; the server's come back joined by record separators; acks
// answer events that carry an id.
func TestPollingRound(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	c.connect(t)
	c.mustPost(t, `42["hello",{"user":{"uid":"p1","uname":"P","uavatar":""}}]`, `4212["join"]`, `42["choice",{"choice":2}]`, `427["nope"]`)
	if got := s.next(t); got.GetHello().GetUser().GetUid() != "p1" {
		t.Fatalf("delivered %v; want hello", got)
	}
	if got := s.next(t); got.GetJoin() == nil {
		t.Fatalf("delivered %v; want join", got)
	}
	if got := s.next(t); got.GetChoice().GetChoice() != 2 {
		t.Fatalf("delivered %v; want choice 2", got)
	}
	got := strings.Join(c.packets(t), "|")
	want := `42["hi",{"message":"welcome","nearby":1,"totalScore":0,"winStreak":0}]|4312[]|437[{"code":"unknown_event","message":"unknown event \"nope\""}]`
	if got != want {
		t.Fatalf("GET after the POST:\n%s\nwant\n%s", got, want)
	}
	// A GET waits until the server has something to say.
	answer := make(chan []string, 1)
	go func() {
		status, body, _ := ts.httpDo(t, "GET", c.query(), "", nil)
		if status != 200 {
			body = "status " + http.StatusText(status)
		}
		answer <- strings.Split(body, "\x1e")
	}()
	waitFor(t, "the GET to wait", func() bool {
		p := ts.gw.pollSession(c.sid)
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.poll != nil
	})
	s.conn.Send(&messages.Envelope{Body: &messages.Envelope_Movement{Movement: &messages.Movement{Uid: "u2", Movement: "choice"}}})
	select {
	case got := <-answer:
		if len(got) != 1 || got[0] != `42["movement",{"uid":"u2","movement":"choice","face":0}]` {
			t.Fatalf("waiting GET got %q", got)
		}
	case <-time.After(waitTime):
		t.Fatal("the waiting GET was not answered")
	}
	// The session closes it: the next GET gets the close packet, then the
	// sid is gone.
	s.conn.Close(messages.CloseReplaced, "replaced")
	if got := c.packets(t); got[len(got)-1] != "1" {
		t.Fatalf("GET after the session's close: %q; want the close packet last", got)
	}
	if status, body := c.get(t); status != 400 || !strings.Contains(body, `"code":1`) {
		t.Fatalf("GET after the close: %d %s", status, body)
	}
	if reason := s.waitClosed(t); reason != "replaced" {
		t.Fatalf("Closed(%q)", reason)
	}
	expectClosedOnce(t, ts, s)
}

// TestPollingNamespaces: the Socket.IO rules hold on polling too.
func TestPollingNamespaces(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	c.mustPost(t, "40/other,")
	c.until(t, `44/other,\{"message":"Invalid namespace"\}`)
	c.connect(t)
	c.mustPost(t, "41")
	c.mustPost(t, "2")
	c.until(t, "3") // the Engine.IO session stays after 41
	// An event outside the namespace breaks the protocol: 400 and the end.
	if status, body := c.post(t, `42["join"]`); status != 400 || body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("event after 41: %d %s; want 400", status, body)
	}
	if status, _ := c.get(t); status != 400 {
		t.Fatalf("GET after a protocol error: %d; want 400", status)
	}
	s.waitClosed(t)
	expectClosedOnce(t, ts, s)
}

func TestPollingInvalidPacketCloses(t *testing.T) {
	for _, payload := range []string{"abc", "", "4", "bAQIDBA==", "40\x1e451-[\"x\",{\"_placeholder\":true,\"num\":0}]"} {
		ts := newTestServer(t, nil, nil)
		c, _ := openPolling(t, ts)
		s := ts.session(t)
		if status, _ := c.post(t, payload); status != 400 {
			t.Errorf("POST %q: %d; want 400", payload, status)
		}
		if status, _ := c.get(t); status != 400 {
			t.Errorf("GET after POST %q: %d; want 400", payload, status)
		}
		s.waitClosed(t)
		expectClosedOnce(t, ts, s)
	}
}

func TestPollingClientClose(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	pending := make(chan string, 1)
	go func() { _, body := c.get(t); pending <- body }()
	waitFor(t, "the GET to wait", func() bool {
		p := ts.gw.pollSession(c.sid)
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.poll != nil
	})
	c.mustPost(t, "1")
	select {
	case body := <-pending:
		if body != "6" {
			t.Fatalf("pending GET after the client's close: %q; want the noop 6", body)
		}
	case <-time.After(waitTime):
		t.Fatal("pending GET not answered")
	}
	if status, _ := c.get(t); status != 400 {
		t.Fatalf("GET after close: %d; want 400", status)
	}
	if reason := s.waitClosed(t); reason != clientDisconnected {
		t.Fatalf("Closed(%q)", reason)
	}
	expectClosedOnce(t, ts, s)
}

func TestPollingDuplicateGET(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	pending := make(chan string, 1)
	go func() { _, body := c.get(t); pending <- body }()
	waitFor(t, "the GET to wait", func() bool {
		p := ts.gw.pollSession(c.sid)
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.poll != nil
	})
	if status, body := c.get(t); status != 400 || body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("second GET: %d %s; want 400", status, body)
	}
	select {
	case body := <-pending:
		if body != "1" {
			t.Fatalf("first GET: %q; want the close packet", body)
		}
	case <-time.After(waitTime):
		t.Fatal("first GET not answered")
	}
	if status, _ := c.get(t); status != 400 {
		t.Fatalf("GET after: %d; want 400", status)
	}
	s.waitClosed(t)
	expectClosedOnce(t, ts, s)
}

func TestPollingPingTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.PingInterval = 50 * time.Millisecond
		c.PingTimeout = 200 * time.Millisecond
	}, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	// Answer pings for a while: the session stays.
	pings := 0
	for until := time.Now().Add(500 * time.Millisecond); time.Now().Before(until); {
		for _, p := range c.packets(t) {
			if p != "2" {
				t.Fatalf("unexpected packet %q", p)
			}
			pings++
			c.mustPost(t, "3")
		}
	}
	if pings < 3 {
		t.Fatalf("%d pings in 500ms at a 50ms interval", pings)
	}
	// Then stop: the session ends.
	if reason := s.waitClosed(t); !strings.Contains(reason, "pong") {
		t.Fatalf("Closed(%q); want the ping timeout", reason)
	}
	if status, _ := c.get(t); status != 400 {
		t.Fatalf("GET after the timeout: %d; want 400", status)
	}
	expectClosedOnce(t, ts, s)
}

func TestPollingMaxPayload(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxFrameBytes = 300 }, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	// A payload of exactly maxPayload bytes passes.
	pad := strings.Repeat("x", 300-len("40\x1e"+`42["join",{"pad":""}]`))
	c.mustPost(t, "40", `42["join",{"pad":"`+pad+`"}]`)
	if got := s.next(t); got.GetJoin() == nil {
		t.Fatalf("delivered %v; want join", got)
	}
	status, _ := c.post(t, "4"+strings.Repeat("x", 300))
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("POST over maxPayload: %d; want 413", status)
	}
	if reason := s.waitClosed(t); !strings.Contains(reason, "exceeds 300") {
		t.Fatalf("Closed(%q)", reason)
	}
	expectClosedOnce(t, ts, s)
}

func TestPollingRateLimit(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.RateLimit, c.RateBurst = 1, 2 }, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	c.mustPost(t, "40", `42["join"]`, `42["join"]`)
	c.until(t, `42\["error",\{"code":"rate_limited".*`)
	flood := make([]string, 5*2+1)
	for i := range flood {
		flood[i] = "3"
	}
	c.mustPost(t, flood...)
	if reason := s.waitClosed(t); !strings.Contains(reason, "rate limit") {
		t.Fatalf("Closed(%q); want the flood", reason)
	}
	expectClosedOnce(t, ts, s)
}

func TestPollingHandshakeTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.HandshakeTimeout = 100 * time.Millisecond }, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	c.connect(t)
	if got := c.packets(t); got[len(got)-1] != "1" { // waits for the deadline
		t.Fatalf("GET at the deadline: %q; want the close packet", got)
	}
	if reason := s.waitClosed(t); !strings.Contains(reason, "hello") {
		t.Fatalf("Closed(%q); want the hello deadline", reason)
	}
	expectClosedOnce(t, ts, s)
}

func TestPollingDraining(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	ts.gw.SetDraining()
	if status, _, _ := ts.httpDo(t, "GET", "?EIO=4&transport=polling", "", nil); status != 503 {
		t.Fatalf("handshake while draining: %d; want 503", status)
	}
	c.connect(t) // an open session goes on
	ts.gw.CloseAll(messages.CloseGoingAway, "restart")
	if got := c.packets(t); got[len(got)-1] != "1" {
		t.Fatalf("GET after CloseAll: %q", got)
	}
	s.waitClosed(t)
	expectClosedOnce(t, ts, s)
}

// TestPollingUpgrade follows the protocol's upgrade: 2probe, 3probe, the
// pending GET answered with a noop, 5; then everything goes over the
// WebSocket and the HTTP requests and other WebSockets with the sid are
// refused.
func TestPollingUpgrade(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.PingInterval = 100 * time.Millisecond }, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	c.connect(t)
	c.mustPost(t, `42["hello",{"user":{"uid":"up1","uname":"U","uavatar":""}}]`)
	s.next(t)
	c.until(t, `42\["hi",.*`)

	pending := make(chan string, 1)
	go func() { _, body := c.get(t); pending <- body }()
	waitFor(t, "the GET to wait", func() bool {
		p := ts.gw.pollSession(c.sid)
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.poll != nil || len(p.queue) > 0
	})
	ws := ts.dial(t, sioPath+"?EIO=4&transport=websocket&sid="+c.sid, nil)
	if status, _ := ts.refusal(t, sioPath+"?EIO=4&transport=websocket&sid="+c.sid, nil); status != 400 {
		t.Fatalf("a second WebSocket while probing: %d; want 400", status)
	}
	writeText(t, ws, "2probe")
	if got := readText(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	select {
	case body := <-pending:
		if body != "6" && body != "2" { // a ping may have beaten the probe
			t.Fatalf("pending GET during the upgrade: %q; want the noop", body)
		}
	case <-time.After(waitTime):
		t.Fatal("pending GET not answered during the upgrade")
	}
	if _, body := c.get(t); body != "6" {
		t.Fatalf("GET during the upgrade: %q; want the noop", body)
	}
	writeText(t, ws, "5")
	waitFor(t, "the upgrade", func() bool {
		p := ts.gw.pollSession(c.sid)
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.ws != nil
	})
	// The session's lines and the gateway's name one connection, before
	// and after the upgrade (actors.LogConn).
	p := ts.gw.pollSession(c.sid)
	p.mu.Lock()
	upgraded := p.ws
	p.mu.Unlock()
	if id := s.conn.(interface{ ID() uint64 }).ID(); id == 0 || upgraded.ID() != id {
		t.Errorf("connection id %d before the upgrade, %d after", id, upgraded.ID())
	}
	if status, body := c.get(t); status != 400 || body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("GET after the upgrade: %d %s", status, body)
	}
	if status, _ := c.post(t, "3"); status != 400 {
		t.Fatalf("POST after the upgrade: %d", status)
	}
	if status, _ := ts.refusal(t, sioPath+"?EIO=4&transport=websocket&sid="+c.sid, nil); status != 400 {
		t.Fatalf("a second WebSocket after the upgrade: %d; want 400", status)
	}
	// Events both ways, acks, and pings now on the WebSocket.
	writeText(t, ws, `429["join"]`)
	if got := s.next(t); got.GetJoin() == nil {
		t.Fatalf("delivered %v; want join", got)
	}
	s.conn.Send(&messages.Envelope{Body: &messages.Envelope_Movement{Movement: &messages.Movement{Uid: "u2", Movement: "x"}}})
	var sawAck, sawEvent, sawPing bool
	for !sawAck || !sawEvent || !sawPing {
		switch f := readText(t, ws); {
		case f == "439[]":
			sawAck = true
		case strings.HasPrefix(f, `42["movement",`):
			sawEvent = true
		case f == "2":
			sawPing = true
			writeText(t, ws, "3")
		default:
			t.Fatalf("unexpected frame %q", f)
		}
	}
	if s.conn != ts.gw.pollSession(c.sid) {
		t.Fatal("the session's Conn changed")
	}
	writeText(t, ws, "1")
	expectCloseCode(t, ws, messages.CloseNormal, "client")
	s.waitClosed(t)
	expectClosedOnce(t, ts, s)
	if p := ts.gw.pollSession(c.sid); p != nil {
		t.Fatal("the session is still in the table")
	}
}

// TestPollingFailedProbe: a WebSocket that goes away before 5 leaves the
// session on polling.
func TestPollingFailedProbe(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	ws := ts.dial(t, sioPath+"?EIO=4&transport=websocket&sid="+c.sid, nil)
	writeText(t, ws, "2probe")
	if got := readText(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	writeText(t, ws, `42["join"]`) // not before 5
	expectCloseCode(t, ws, messages.CloseProtocol, "before the upgrade")
	waitFor(t, "the probe to end", func() bool {
		p := ts.gw.pollSession(c.sid)
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.probe == nil
	})
	c.connect(t)
	if n := s.closedCount.Load(); n != 0 {
		t.Fatal("the failed probe closed the session")
	}
}

// TestPollingDuplicatePOST: a second POST while one is still being read
// ends the session; the protocol allows one POST at a time for ordering.
func TestPollingDuplicatePOST(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c, _ := openPolling(t, ts)
	s := ts.session(t)
	pr, pw := io.Pipe()
	first := make(chan int, 1)
	go func() {
		resp, err := http.Post(ts.srv.URL+sioPath+c.query(), "text/plain", pr)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	pw.Write([]byte("4"))
	waitFor(t, "the first POST to be read", func() bool {
		p := ts.gw.pollSession(c.sid)
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.posting
	})
	if status, body := c.post(t, "3"); status != 400 || body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("second POST: %d %s; want 400", status, body)
	}
	pw.Close()
	select {
	case <-first:
	case <-time.After(waitTime):
		t.Fatal("the first POST never ended")
	}
	if status, _ := c.get(t); status != 400 {
		t.Fatalf("GET after: %d; want 400", status)
	}
	if s.waitClosed(t) != "two POST requests at once" {
		t.Fatal("closed for another reason")
	}
	expectClosedOnce(t, ts, s)
	if env := s.delivered; len(env) != 0 {
		t.Fatalf("%d envelopes delivered from the aborted POST", len(env))
	}
}
