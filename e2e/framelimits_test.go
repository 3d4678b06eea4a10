package e2e

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
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

// TestOversizedFramesClose1009: a message over -max-frame-bytes (4096)
// closes the connection with 1009 and a reason, and the close handshake
// completes, whatever the size (5 KB, 1 MiB, 16 MiB), whether it comes in
// one frame or in fragments, on /ws (binary and JSON) and on Socket.IO
// (Engine.IO 3 and 4): the client reads the close frame, never a reset.
func TestOversizedFramesClose1009(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	endpoints := []struct {
		name, path string
		kind       int
		frame      func(size int) []byte
	}{
		{"ws-binary", "/ws", websocket.BinaryMessage, func(n int) []byte { return bytes.Repeat([]byte{0x0a}, n) }},
		{"ws-json", "/ws?format=json", websocket.TextMessage, func(n int) []byte {
			return []byte(`{"hello":{"user":{"uid":"big","uname":"` + strings.Repeat("x", n) + `"}}}`)
		}},
		{"eio3", "/applet/websocket/socket.io//?EIO=3&transport=websocket", websocket.TextMessage, func(n int) []byte {
			return []byte(`42["face",{"face":1,"pad":"` + strings.Repeat("x", n) + `"}]`)
		}},
		{"eio4", "/applet/websocket/socket.io/?EIO=4&transport=websocket", websocket.TextMessage, func(n int) []byte {
			return []byte(`42["face",{"face":1,"pad":"` + strings.Repeat("x", n) + `"}]`)
		}},
	}
	sizes := []struct {
		name string
		n    int
	}{{"5KB", 5000}, {"1MiB", 1 << 20}, {"16MiB", 16 << 20}}
	for _, e := range endpoints {
		for _, size := range sizes {
			for _, oneFrame := range []bool{true, false} {
				name := e.name + "/" + size.name + "/fragmented"
				if oneFrame {
					name = e.name + "/" + size.name + "/one-frame"
				}
				t.Run(name, func(t *testing.T) {
					// One at a time: each sends up to 16 MiB.
					frame := e.frame(size.n)
					d := websocket.Dialer{HandshakeTimeout: dialTimeout}
					if oneFrame {
						d.WriteBufferSize = len(frame) + 16 // gorilla writes a message that fits its buffer as one frame
					}
					ws, resp, err := d.Dial(s.wsURL(e.path), nil)
					if err != nil {
						t.Fatalf("dial: %v (%v)", err, resp)
					}
					defer ws.Close()
					closed := make(chan error, 1)
					go func() {
						for {
							if _, _, err := ws.ReadMessage(); err != nil {
								closed <- err
								return
							}
						}
					}()
					go ws.WriteMessage(e.kind, frame) // fails once the server has closed
					select {
					case err := <-closed:
						var ce *websocket.CloseError
						if !errors.As(err, &ce) {
							t.Fatalf("a %d-byte message: the connection ended without a close frame: %v", len(frame), err)
						}
						if ce.Code != messages.CloseTooBig || ce.Text == "" {
							t.Fatalf("a %d-byte message: closed with %d %q, want 1009 and a reason", len(frame), ce.Code, ce.Text)
						}
						// gorilla has answered the close frame: the server then
						// ends the TCP connection in order, not with a reset.
						nc := ws.NetConn()
						nc.SetReadDeadline(time.Now().Add(10 * time.Second))
						if n, err := io.Copy(io.Discard, nc); err != nil {
							t.Fatalf("a %d-byte message: after the close frame the socket ended with %v (%d more bytes), want EOF", len(frame), err, n)
						}
					case <-time.After(10 * time.Second):
						t.Fatalf("a %d-byte message: still open after 10s", len(frame))
					}
				})
			}
		}
	}
	// Control frames may carry 125 bytes: a bigger ping is refused the same
	// way, at its header (gorilla clients cannot send one; this writes it raw).
	for _, n := range []int{200, 1 << 20} {
		t.Run(fmt.Sprintf("ping of %d bytes", n), func(t *testing.T) {
			ws, status, _ := dialRaw(t, s, "/ws", nil)
			if ws == nil {
				t.Fatalf("dial: status %d", status)
			}
			closed := make(chan error, 1)
			go func() {
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						closed <- err
						return
					}
				}
			}()
			frame := []byte{0x89, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // FIN ping, masked with a zero key
			binary.BigEndian.PutUint64(frame[2:10], uint64(n))
			go ws.NetConn().Write(append(frame, make([]byte, n)...))
			select {
			case err := <-closed:
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != messages.CloseTooBig || ce.Text == "" {
					t.Fatalf("a %d-byte ping: %v, want a close frame with 1009 and a reason", n, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("a %d-byte ping: still open after 10s", n)
			}
		})
	}
	s.requireHealthy(t)
}
