package gateway

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/messages"
)

// waitTime is the generous bound for anything the tests wait for.
const waitTime = 5 * time.Second

// fakeSession records what the gateway hands it. On hello it answers Hi,
// so a round trip through Send can be observed.
type fakeSession struct {
	conn         actors.Conn
	delivered    chan *messages.Envelope
	closedReason chan string
	closedCount  atomic.Int32
	lateDeliver  atomic.Bool // Deliver after Closed: must never happen
}

func (s *fakeSession) Deliver(env *messages.Envelope) {
	if s.closedCount.Load() > 0 {
		s.lateDeliver.Store(true)
	}
	if env.GetHello() != nil {
		s.conn.Send(&messages.Envelope{Body: &messages.Envelope_Hi{Hi: &messages.Hi{Message: "welcome", Nearby: 1}}})
	}
	s.delivered <- env
}

func (s *fakeSession) Closed(reason string) {
	s.closedCount.Add(1)
	s.closedReason <- reason
}

// next returns the next delivered envelope.
func (s *fakeSession) next(t *testing.T) *messages.Envelope {
	t.Helper()
	select {
	case env := <-s.delivered:
		return env
	case <-time.After(waitTime):
		t.Fatal("no envelope delivered to the session")
		return nil
	}
}

// expectNothingDelivered checks that no envelope is waiting.
func (s *fakeSession) expectNothingDelivered(t *testing.T) {
	t.Helper()
	select {
	case env := <-s.delivered:
		t.Fatalf("unexpected delivery: %v", env)
	default:
	}
}

// waitClosed returns the reason given to Closed.
func (s *fakeSession) waitClosed(t *testing.T) string {
	t.Helper()
	select {
	case reason := <-s.closedReason:
		return reason
	case <-time.After(waitTime):
		t.Fatal("session was never told the connection closed")
		return ""
	}
}

type fakeOpener struct {
	sessions chan *fakeSession
}

func (o *fakeOpener) OpenSession(c actors.Conn) actors.Session {
	s := &fakeSession{
		conn:         c,
		delivered:    make(chan *messages.Envelope, 4096),
		closedReason: make(chan string, 4),
	}
	o.sessions <- s
	return s
}

type testServer struct {
	gw     *Gateway
	srv    *httptest.Server
	opener *fakeOpener
	cfg    Config
}

// testConfig is the server's defaults with a quicker ping and idle timeout.
func testConfig() Config {
	return Config{
		SocketIOPrefix: "/applet/websocket/socket.io/",
		MaxFrameBytes:  4096, RateLimit: 20, RateBurst: 40, OutboundQueue: 64,
		HandshakeTimeout: 10 * time.Second, PingInterval: 2 * time.Second, IdleTimeout: 10 * time.Second,
		AllowNoOrigin: true,
	}
}

// newTestServer starts a gateway; tweak adjusts the config or the gateway
// before it serves (either may be nil).
func newTestServer(t *testing.T, tweakCfg func(*Config), tweakGW func(*Gateway)) *testServer {
	t.Helper()
	cfg := testConfig()
	if tweakCfg != nil {
		tweakCfg(&cfg)
	}
	opener := &fakeOpener{sessions: make(chan *fakeSession, 64)}
	gw, err := New(cfg, opener, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tweakGW != nil {
		tweakGW(gw)
	}
	srv := httptest.NewServer(gw)
	ts := &testServer{gw: gw, srv: srv, opener: opener, cfg: cfg}
	t.Cleanup(func() {
		gw.CloseAll(messages.CloseGoingAway, "test over")
		waitFor(t, "all connections gone", func() bool { return gw.OpenConns() == 0 })
		srv.Close()
	})
	return ts
}

func (ts *testServer) url(pathAndQuery string) string {
	return "ws" + strings.TrimPrefix(ts.srv.URL, "http") + pathAndQuery
}

// dial opens a WebSocket; header may carry an Origin.
func (ts *testServer) dial(t *testing.T, pathAndQuery string, header http.Header) *websocket.Conn {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(ts.url(pathAndQuery), header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", pathAndQuery, err, status)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// session returns the session of the next connection opened.
func (ts *testServer) session(t *testing.T) *fakeSession {
	t.Helper()
	select {
	case s := <-ts.opener.sessions:
		return s
	case <-time.After(waitTime):
		t.Fatal("no session was opened")
		return nil
	}
}

// refusal dials and expects an HTTP refusal, returning status and body.
func (ts *testServer) refusal(t *testing.T, pathAndQuery string, header http.Header) (int, string) {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(ts.url(pathAndQuery), header)
	if err == nil {
		ws.Close()
		t.Fatalf("dial %s succeeded; want a refusal", pathAndQuery)
	}
	if resp == nil {
		t.Fatalf("dial %s: %v, without an HTTP answer", pathAndQuery, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readFrame(t *testing.T, ws *websocket.Conn) (int, []byte) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(waitTime))
	kind, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return kind, data
}

func readText(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	kind, data := readFrame(t, ws)
	if kind != websocket.TextMessage {
		t.Fatalf("got a binary frame %x; want text", data)
	}
	return string(data)
}

// readEnvelope reads one /ws frame and decodes it in the frame's own format.
func readEnvelope(t *testing.T, ws *websocket.Conn) (*messages.Envelope, int) {
	t.Helper()
	kind, data := readFrame(t, ws)
	env, err := DecodeEnvelope(data, kind == websocket.BinaryMessage)
	if err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
	return env, kind
}

// readEvent reads one Socket.IO event frame.
func readEvent(t *testing.T, ws *websocket.Conn) *messages.Envelope {
	t.Helper()
	text := readText(t, ws)
	env, err := DecodeEvent([]byte(text))
	if err != nil {
		t.Fatalf("decode event %q: %v", text, err)
	}
	return env
}

// expectClose reads, skipping data frames, until the close frame arrives.
func expectClose(t *testing.T, ws *websocket.Conn) *websocket.CloseError {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(waitTime))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce
	}
}

func expectCloseCode(t *testing.T, ws *websocket.Conn, code int, reasonHas string) {
	t.Helper()
	ce := expectClose(t, ws)
	if ce.Code != code || !strings.Contains(ce.Text, reasonHas) || ce.Text == "" {
		t.Fatalf("close = %d %q; want %d with a reason containing %q", ce.Code, ce.Text, code, reasonHas)
	}
}

// expectClosedOnce waits until the gateway has finished every connection
// and checks that s heard of its end exactly once, with no Deliver after.
func expectClosedOnce(t *testing.T, ts *testServer, s *fakeSession) {
	t.Helper()
	waitFor(t, "no open connections", func() bool { return ts.gw.OpenConns() == 0 })
	if n := s.closedCount.Load(); n != 1 {
		t.Fatalf("Closed called %d times; want 1", n)
	}
	if s.lateDeliver.Load() {
		t.Fatal("Deliver was called after Closed")
	}
}

func expectError(t *testing.T, env *messages.Envelope, code string) {
	t.Helper()
	e := env.GetError()
	if e == nil {
		t.Fatalf("got %v; want an error %s", env, code)
	}
	if e.Code != code || e.Message == "" {
		t.Fatalf("error = %q %q; want code %q and a message", e.Code, e.Message, code)
	}
}

func mustMarshal(t *testing.T, env *messages.Envelope) []byte {
	t.Helper()
	data, err := proto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeText(t *testing.T, ws *websocket.Conn, s string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

func helloEnv(uid string) *messages.Envelope {
	return &messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{
		User: &messages.User{Uid: uid, Uname: "A", Uavatar: ""},
	}}}
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t *testing.T, path string) *http.Request {
	t.Helper()
	return httptest.NewRequest("GET", path, nil)
}
