package e2e

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestEIO4Handshake pins Engine.IO 4 frame by frame, as socket.io-client v4
// speaks it (node/ runs the real client): the open packet carries the
// configured ping interval, 40 is answered with 40{"sid"}, events flow, the
// server pings with 2 and keeps a client that answers 3; a client that
// answers nothing at all (neither 3 nor WebSocket pongs) is dropped.
func TestEIO4Handshake(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-ping-interval", "1s", "-idle-timeout", "2s")
	var answer atomic.Bool
	answer.Store(true)
	ws, _, err := websocket.DefaultDialer.Dial(s.wsURL("/applet/websocket/socket.io/?EIO=4&transport=websocket"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetPingHandler(func(data string) error {
		if !answer.Load() {
			return nil
		}
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
	})
	frames := make(chan string, 256)
	readErr := make(chan error, 1)
	go func() {
		for {
			mt, data, err := ws.ReadMessage()
			if err != nil {
				readErr <- err
				close(frames)
				return
			}
			if mt != websocket.TextMessage {
				data = append([]byte("binary frame: "), data...) // matches nothing expected
			}
			frames <- string(data)
		}
	}()
	send := func(f string) {
		t.Helper()
		_ = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
			t.Fatalf("send %q: %v", f, err)
		}
	}
	pings := 0
	// next returns the next frame that is not a ping, answering pings while
	// answer is set.
	next := func(what string) string {
		t.Helper()
		timeout := time.After(eventTimeout)
		for {
			select {
			case f, ok := <-frames:
				if !ok {
					t.Fatalf("closed while waiting for %s: %v", what, <-readErr)
				}
				if f == "2" {
					pings++
					if answer.Load() {
						send("3")
					}
					continue
				}
				return f
			case <-timeout:
				t.Fatalf("no %s within %v", what, eventTimeout)
			}
		}
	}

	open := next("open packet")
	var o struct {
		Sid          string    `json:"sid"`
		Upgrades     *[]string `json:"upgrades"`
		PingInterval int       `json:"pingInterval"`
		PingTimeout  int       `json:"pingTimeout"`
	}
	if !strings.HasPrefix(open, "0{") || json.Unmarshal([]byte(open[1:]), &o) != nil || o.Sid == "" ||
		o.Upgrades == nil || len(*o.Upgrades) != 0 || o.PingInterval != 1000 || o.PingTimeout <= 0 {
		t.Fatalf("open packet %q, want 0{\"sid\":…,\"upgrades\":[],\"pingInterval\":1000,\"pingTimeout\":…}", open)
	}
	send("40")
	if f := next("40{sid}"); !strings.HasPrefix(f, `40{"sid":"`) {
		t.Fatalf("answer to 40: %q, want 40{\"sid\":\"…\"}", f)
	}
	send(`42["hello",{"user":{"uid":"eio4client01","uname":"V4","uavatar":""}}]`)
	hi := next("hi")
	if !strings.HasPrefix(hi, `42["hi",{`) || !strings.Contains(hi, `"message":"welcome"`) {
		t.Fatalf("answer to hello: %q", hi)
	}

	// Answer pings for 3 s: the connection stays.
	stay := time.Now().Add(3 * time.Second)
	for time.Now().Before(stay) {
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatalf("closed while answering pings: %v", <-readErr)
			}
			if f != "2" {
				t.Fatalf("unexpected frame %q", f)
			}
			pings++
			send("3")
		case <-time.After(time.Until(stay)):
		}
	}
	if pings < 2 {
		t.Fatalf("%d Engine.IO pings in 3s with -ping-interval 1s", pings)
	}

	// Go deaf: the server must let go within about the idle timeout.
	answer.Store(false)
	deaf := time.Now()
	deadline := time.After(6 * time.Second)
	for {
		select {
		case _, ok := <-frames:
			if ok {
				continue
			}
			t.Logf("dropped %v after going deaf: %v", time.Since(deaf).Round(time.Millisecond), <-readErr)
			return
		case <-deadline:
			t.Fatalf("a client that answers no pings is still connected %v later (-idle-timeout 2s)", time.Since(deaf))
		}
	}
}
