package gateway

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
	"github.com/gorilla/websocket"
)

// describe reduces an inbound to a comparable word.
func describe(in inbound) string {
	switch {
	case in.env != nil:
		return "deliver " + string(setBody(in.env).Name())
	case in.reply != nil:
		return "reply " + string(in.reply.data)
	case in.err != nil:
		return "error " + in.err.Code
	case in.close:
		return "close"
	}
	return "ignore"
}

func TestEIO3Decode(t *testing.T) {
	w := newEIO3Wire()
	tests := []struct{ frame, want string }{
		{"2", "reply 3"},
		{"2probe", "reply 3"},
		{"3", "ignore"},
		{"40", "ignore"},
		{"1", "close"},
		{"41", "close"},
		{`42["join"]`, "deliver join"},
		{`421["join"]`, "deliver join"},
		{`42["hi",{}]`, "error not_client_event"},
		{"5", "error bad_frame"},
		{"hello", "error bad_frame"},
		{"", "error bad_frame"},
		{"40/admin,", "error bad_frame"},
	}
	for _, tc := range tests {
		if got := describe(w.decode(websocket.TextMessage, []byte(tc.frame))); got != tc.want {
			t.Errorf("eio3 %q: %s; want %s", tc.frame, got, tc.want)
		}
	}
	if got := describe(w.decode(websocket.BinaryMessage, []byte("2"))); got != "error bad_frame" {
		t.Errorf("eio3 binary frame: %s", got)
	}
}

func TestEIO3Greeting(t *testing.T) {
	g := newEIO3Wire().greeting()
	open := regexp.MustCompile(`^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\[\],"pingInterval":25000,"pingTimeout":60000\}$`)
	if len(g) != 2 || !open.Match(g[0].data) || string(g[1].data) != "40" {
		t.Fatalf("greeting = %v", g)
	}
}

func TestEIO4Decode(t *testing.T) {
	w := newEIO4Wire(25*time.Second, 20*time.Second, 4096)
	// want is a regular expression over describe's word.
	steps := []struct{ frame, want string }{
		{`42["join"]`, "error bad_frame"}, // before 40
		{"40/admin,", "error bad_frame"},
		{"2", "reply 3"},
		{`40{"token":"x"}`, `reply 40\{"sid":"[A-Za-z0-9_-]{20}"\}`},
		{"40", "ignore"}, // already connected
		{`42["join"]`, "deliver join"},
		{`42["queued",{}]`, "error not_client_event"},
		{"2probe", "reply 3probe"},
		{"3", "ignore"},
		{"41", "close"},
		{"x", "error bad_frame"},
	}
	for _, s := range steps {
		got := describe(w.decode(websocket.TextMessage, []byte(s.frame)))
		if !regexp.MustCompile("^" + s.want + "$").MatchString(got) {
			t.Errorf("eio4 %q: %s; want %s", s.frame, got, s.want)
		}
	}
	open := regexp.MustCompile(`^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\[\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":4096\}$`)
	if g := w.greeting(); len(g) != 1 || !open.Match(g[0].data) {
		t.Fatalf("greeting = %v", g)
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := newLimiter(1, 3, t0)
	for i := range 3 {
		if v := l.take(t0); v != allowed {
			t.Fatalf("message %d within the burst: %v", i, v)
		}
	}
	if v := l.take(t0); v != dropNotify {
		t.Fatalf("first over the limit: %v; want dropNotify", v)
	}
	if v := l.take(t0.Add(500 * time.Millisecond)); v != dropSilent {
		t.Fatalf("second drop within a second: %v; want dropSilent", v)
	}
	if v := l.take(t0.Add(1100 * time.Millisecond)); v != allowed {
		t.Fatalf("after a refill: %v; want allowed", v)
	}
	if v := l.take(t0.Add(1200 * time.Millisecond)); v != dropNotify {
		t.Fatalf("drop a second after the last notice: %v; want dropNotify", v)
	}

	// A flood: more than 5*burst drops within 10 s closes.
	l = newLimiter(1, 3, t0)
	now := t0
	var last verdict
	n := 0
	for last != floodClosed && n < 100 {
		now = now.Add(10 * time.Millisecond)
		last = l.take(now)
		n++
	}
	if last != floodClosed || n != 3+5*3+1 {
		t.Fatalf("flood closed after %d messages (%v); want after %d", n, last, 3+5*3+1)
	}

	// A client a little over the rate has some messages dropped but is not closed.
	l = newLimiter(1, 2, t0)
	now = t0
	drops := 0
	for i := range 300 {
		now = now.Add(700 * time.Millisecond)
		v := l.take(now)
		if v != allowed {
			drops++
		}
		if v == floodClosed {
			t.Fatalf("steady client closed at message %d", i)
		}
	}
	if drops == 0 {
		t.Fatal("a client over the rate lost nothing")
	}

	unlimited := newLimiter(0, 1, t0)
	if v := unlimited.take(t0); v != allowed {
		t.Fatal("rate 0 must mean unlimited")
	}
}

func TestOriginAllowed(t *testing.T) {
	tests := []struct {
		name      string
		origin    string
		allowed   []string
		allowNone bool
		want      bool
	}{
		{"none allowed", "", nil, true, true},
		{"none refused", "", []string{"*"}, false, false},
		{"wildcard", "https://x.example", []string{"*"}, false, true},
		{"listed", "https://game.example", []string{"https://other.example", "https://game.example"}, false, true},
		{"listed, other case", "https://GAME.example", []string{"https://game.example"}, false, true},
		{"same origin", "http://server.example:8080", nil, false, true},
		{"other origin", "https://x.example", []string{"https://game.example"}, true, false},
		{"same host, other port", "http://server.example:9090", nil, false, false},
		{"garbage", "::::", nil, true, false},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "http://server.example:8080/ws", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if got := originAllowed(r, tc.allowed, tc.allowNone); got != tc.want {
			t.Errorf("%s: originAllowed = %v; want %v", tc.name, got, tc.want)
		}
	}
}

// A Config that would turn a limit off is refused, not filled in: the
// server's defaults live in package config alone.
func TestNewRefusesLimitsTurnedOff(t *testing.T) {
	for name, tweak := range map[string]func(*Config){
		"frame size":   func(c *Config) { c.MaxFrameBytes = 0 },
		"rate":         func(c *Config) { c.RateLimit = 0 },
		"burst":        func(c *Config) { c.RateBurst = -1 },
		"queue":        func(c *Config) { c.OutboundQueue = 0 },
		"idle timeout": func(c *Config) { c.IdleTimeout = 0 },
		"prefix":       func(c *Config) { c.SocketIOPrefix = "" },
	} {
		cfg := testConfig()
		tweak(&cfg)
		if _, err := New(cfg, &fakeOpener{}, nil); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	if _, err := New(testConfig(), &fakeOpener{}, nil); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
}

// The 2016 client gets a voided round as a result that changes nothing;
// other wires get the void itself, and a void of another round passes as
// it is.
func TestEIO3VoidBecomesAResult(t *testing.T) {
	start := &messages.Envelope{Body: &messages.Envelope_Start{Start: &messages.Start{RoundId: "r1", RoomUsers: []*messages.RoomUser{
		{Uid: "a", TotalScore: 7, WinStreak: 2}, {Uid: "b", TotalScore: 3},
	}}}}
	void := func(round string) *messages.Envelope {
		return &messages.Envelope{Body: &messages.Envelope_Void{Void: &messages.Void{RoundId: round, Reason: "the room stopped"}}}
	}
	w := newEIO3Wire()
	if _, err := w.encode(start); err != nil {
		t.Fatal(err)
	}
	f, err := w.encode(void("r1"))
	if err != nil {
		t.Fatal(err)
	}
	want := `42["result",{"result":[{"uid":"a","roundScore":0,"totalScore":7,"winStreak":2,"choice":0},{"uid":"b","roundScore":0,"totalScore":3,"winStreak":0,"choice":0}],"roundId":"r1"}]`
	if string(f.data) != want {
		t.Fatalf("void on EIO3:\n got %s\nwant %s", f.data, want)
	}
	if f, _ := w.encode(void("r1")); !strings.HasPrefix(string(f.data), `42["void"`) {
		t.Fatalf("a second void of the round: %s", f.data)
	}
	w.encode(start)
	if f, _ := w.encode(void("r0")); !strings.HasPrefix(string(f.data), `42["void"`) {
		t.Fatalf("a void of another round: %s", f.data)
	}
	e4 := newEIO4Wire(time.Second, time.Second, 4096)
	e4.encode(start)
	if f, _ := e4.encode(void("r1")); !strings.HasPrefix(string(f.data), `42["void"`) {
		t.Fatalf("EIO4 void: %s", f.data)
	}
}
