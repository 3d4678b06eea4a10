package e2e

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/messages"
)

// controlClient is a gorilla client on /ws that counts the pongs it gets
// and reports how its connection ended.
type controlClient struct {
	ws     *websocket.Conn
	pongs  atomic.Int64
	closed chan error // the reader's last error
}

func dialControl(t *testing.T, s *server) *controlClient {
	t.Helper()
	ws, status, _ := dialRaw(t, s, "/ws?format=json", nil)
	if ws == nil {
		t.Fatalf("dial /ws: status %d", status)
	}
	c := &controlClient{ws: ws, closed: make(chan error, 1)}
	ws.SetPongHandler(func(string) error { c.pongs.Add(1); return nil })
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				c.closed <- err
				return
			}
		}
	}()
	return c
}

// awaitCloseCode waits for the server's close frame and returns its code
// (1006 if the socket died without one).
func (c *controlClient) awaitCloseCode(t *testing.T, within time.Duration) (int, string) {
	t.Helper()
	select {
	case err := <-c.closed:
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		t.Fatalf("the connection ended without a close frame: %v", err)
	case <-time.After(within):
		t.Fatalf("still open after %v", within)
	}
	return 0, ""
}

// TestControlFrameFlood: pings and pongs count against the message rate
// limit. A client that sends 10,000 pings (or pongs) as fast as it can is
// closed with 1008 long before they are all answered; one that pings ten
// times a second stays, gets every pong, and plays.
func TestControlFrameFlood(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, kind := range []struct {
		name string
		op   int
	}{{"pings", websocket.PingMessage}, {"pongs", websocket.PongMessage}} {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			c := dialControl(t, s)
			const flood = 10000
			sent := 0
			for ; sent < flood; sent++ {
				if err := c.ws.WriteControl(kind.op, []byte("flood"), time.Now().Add(writeTimeout)); err != nil {
					break // the server closed under us
				}
			}
			code, reason := c.awaitCloseCode(t, eventTimeout)
			if code != messages.ClosePolicy || reason == "" {
				t.Fatalf("after %d %s: closed with %d %q, want 1008 and a reason", sent, kind.name, code, reason)
			}
			if n := c.pongs.Load(); n > 500 {
				t.Errorf("%d of %d pings answered before the close, want the flood cut short", n, sent)
			}
		})
	}
	t.Run("polite", func(t *testing.T) {
		t.Parallel()
		c := dialControl(t, s)
		const pings = 30
		for i := range pings {
			if err := c.ws.WriteControl(websocket.PingMessage, []byte{byte(i)}, time.Now().Add(writeTimeout)); err != nil {
				t.Fatalf("ping %d: %v", i, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		for end := time.Now().Add(eventTimeout); c.pongs.Load() < pings; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("%d of %d pings answered", c.pongs.Load(), pings)
			}
		}
		select {
		case err := <-c.closed:
			t.Fatalf("a client pinging ten times a second was closed: %v", err)
		default:
		}
		if err := c.ws.WriteMessage(websocket.TextMessage, compactJSON(envHello(newUser("Polite")), false)); err != nil {
			t.Fatal(err)
		}
	})
}
