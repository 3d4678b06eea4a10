package gateway

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/messages"
)

// An idle connection that answers pings is parked, with no goroutine
// waiting for it and no read buffer, and frames still reach the session
// after it parked.
func TestIdleConnectionParks(t *testing.T) {
	if theParker() == nil {
		t.Skip("no parker on this system")
	}
	ts := newTestServer(t, func(c *Config) { c.PingInterval = 30 * time.Millisecond }, nil)
	ts.gw.parkAfter = 0 // park as soon as the reader has read everything
	ws := ts.dial(t, "/ws", nil)
	s := ts.session(t)
	go answerPings(ws)
	c := ts.onlyConn(t)
	parked := c.isParked
	for range 2 {
		time.Sleep(200 * time.Millisecond) // several pings and pongs
		waitFor(t, "the connection parked", parked)
		waitFor(t, "a parked connection without a read buffer", func() bool {
			c.mu.Lock() // while parked no reader runs
			defer c.mu.Unlock()
			return c.parked && c.nc.br.Size() == 0
		})
		if err := ws.WriteMessage(websocket.BinaryMessage, mustMarshal(t, helloEnv("u1"))); err != nil {
			t.Fatal(err)
		}
		if env := s.next(t); env.GetHello() == nil {
			t.Fatalf("delivered %v; want hello", env)
		}
	}
}

// A connection with game messages more often than parkAfter keeps its
// reader: it never parks while its player plays.
func TestBusyConnectionDoesNotPark(t *testing.T) {
	if theParker() == nil {
		t.Skip("no parker on this system")
	}
	ts := newTestServer(t, nil, nil)
	ts.gw.parkAfter = time.Second
	ws := ts.dial(t, "/ws", nil)
	s := ts.session(t)
	c := ts.onlyConn(t)
	parked := c.isParked
	for i := range 6 {
		time.Sleep(200 * time.Millisecond)
		if parked() {
			t.Fatalf("parked after %d messages 200 ms apart", i)
		}
		join := &messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}
		if err := ws.WriteMessage(websocket.BinaryMessage, mustMarshal(t, join)); err != nil {
			t.Fatal(err)
		}
		if env := s.next(t); env.GetJoin() == nil {
			t.Fatalf("delivered %v; want join", env)
		}
	}
	waitFor(t, "the connection parked once idle", parked)
}

// A parked connection that hears nothing is still closed at its read
// deadline, long before its next ping.
func TestParkedConnectionTimesOut(t *testing.T) {
	if theParker() == nil {
		t.Skip("no parker on this system")
	}
	ts := newTestServer(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond; c.PingInterval = time.Hour }, nil)
	ts.gw.parkAfter = 0
	ws := ts.dial(t, "/ws", nil)
	s := ts.session(t)
	start := time.Now()
	expectCloseCode(t, ws, messages.ClosePolicy, "nothing received")
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("closed after %v", d)
	}
	s.waitClosed(t)
}

// A reader woken by nothing but a pong parks again at once, without
// waiting parkAfter for input.
func TestPongAloneDoesNotKeepAReader(t *testing.T) {
	if theParker() == nil {
		t.Skip("no parker on this system")
	}
	ts := newTestServer(t, func(c *Config) { c.PingInterval = 50 * time.Millisecond }, nil)
	ts.gw.parkAfter = 300 * time.Millisecond
	ws := ts.dial(t, "/ws", nil)
	ts.session(t)
	go answerPings(ws)
	c := ts.onlyConn(t)
	parked := c.isParked
	waitFor(t, "the connection parked", parked)
	n := 0
	for range 40 { // 20 pongs in 1 s; a reader kept for parkAfter after each would never park
		time.Sleep(25 * time.Millisecond)
		if parked() {
			n++
		}
	}
	if n < 20 {
		t.Fatalf("parked in %d of 40 looks", n)
	}
}

// A connection that has said nothing but hello parks at once, without
// waiting parkAfter: an idle client keeps no goroutine while it connects.
func TestHelloAloneDoesNotKeepAReader(t *testing.T) {
	if theParker() == nil {
		t.Skip("no parker on this system")
	}
	ts := newTestServer(t, nil, nil)
	ts.gw.parkAfter = time.Minute
	ws := ts.dial(t, "/ws", nil)
	s := ts.session(t)
	if err := ws.WriteMessage(websocket.BinaryMessage, mustMarshal(t, helloEnv("u1"))); err != nil {
		t.Fatal(err)
	}
	if env := s.next(t); env.GetHello() == nil {
		t.Fatalf("delivered %v; want hello", env)
	}
	c := ts.onlyConn(t)
	waitFor(t, "the connection parked", c.isParked)
}

// onlyConn waits for the test server's one connection and returns it.
func (ts *testServer) onlyConn(t *testing.T) *conn {
	t.Helper()
	var c *conn
	waitFor(t, "the connection tracked", func() bool {
		ts.gw.mu.Lock()
		defer ts.gw.mu.Unlock()
		for c = range ts.gw.conns {
		}
		return c != nil
	})
	return c
}

func (c *conn) isParked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.parked
}

// answerPings reads until the socket fails: reading makes gorilla answer
// the server's pings.
func answerPings(ws *websocket.Conn) {
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			return
		}
	}
}
