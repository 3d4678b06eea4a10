package gateway

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/messages"
)

// serveFront starts a gateway behind Serve, as the server runs it, and
// returns its address and its opener.
func serveFront(t *testing.T, tweak func(*Config, *http.Server)) (string, *fakeOpener) {
	t.Helper()
	opener := &fakeOpener{sessions: make(chan *fakeSession, 16)}
	return serveFrontWith(t, opener, tweak), opener
}

func serveFrontWith(t *testing.T, opener actors.Opener, tweak func(*Config, *http.Server)) string {
	t.Helper()
	cfg := testConfig()
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 4096}
	if tweak != nil {
		tweak(&cfg, srv)
	}
	g, err := New(cfg, opener, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Handler = g
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- g.Serve(srv, ln) }()
	t.Cleanup(func() {
		srv.Close()
		select {
		case err := <-served:
			if err != http.ErrServerClosed {
				t.Errorf("Serve returned %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return ln.Addr().String()
}

// An upgrade served by the listener itself plays as any: hello reaches the
// session, the session's hi reaches the client.
func TestFrontServesUpgrades(t *testing.T) {
	addr, opener := serveFront(t, nil)
	for _, path := range []string{"/ws?format=json", "/applet/websocket/socket.io/?EIO=3&transport=websocket"} {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+path, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var s *fakeSession
		select {
		case s = <-opener.sessions:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no session", path)
		}
		hello := `{"hello":{"user":{"uid":"u","uname":"U"}}}`
		if strings.Contains(path, "EIO=3") {
			hello = `42["hello",{"user":{"uid":"u","uname":"U"}}]`
		}
		ws.WriteMessage(websocket.TextMessage, []byte(hello))
		if env := s.next(t); env.GetHello().GetUser().GetUid() != "u" {
			t.Fatalf("%s: delivered %v", path, env)
		}
		s.conn.Send(&messages.Envelope{Body: &messages.Envelope_Hi{Hi: &messages.Hi{Message: "welcome"}}})
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("%s: no hi: %v", path, err)
			}
			if strings.Contains(string(data), "welcome") {
				break
			}
		}
		ws.Close()
	}
}

// A refused upgrade is a whole HTTP answer (status, headers, the JSON
// body), and then the connection closes.
func TestFrontRefusesInHTTP(t *testing.T) {
	addr, _ := serveFront(t, func(c *Config, _ *http.Server) {
		c.AllowedOrigins, c.AllowNoOrigin = []string{"https://game.example"}, false
	})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: %s\r\nOrigin: https://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Code string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden || body.Code == "" || !resp.Close {
		t.Fatalf("refusal: %d %+v, close %v", resp.StatusCode, body, resp.Close)
	}
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the refusal: %d bytes, %v; want the connection closed", n, err)
	}
}

// Whatever is not an upgrade served here goes to net/http unchanged: a
// keep-alive client's requests, a plain GET of /ws, a header over the
// limit (431 from net/http).
func TestFrontHandsTheRestToNetHTTP(t *testing.T) {
	addr, _ := serveFront(t, nil)
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range 2 {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz %d: %d", i, resp.StatusCode)
		}
	}
	resp, err := client.Get("http://" + addr + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a plain GET /ws: %d; want gorilla's 400", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/ws", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("X-Filler", strings.Repeat("x", 16<<10))
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("a 16 KiB header: %d; want 431", resp.StatusCode)
	}
}

// A first request that does not arrive within the header timeout is
// closed unanswered, as net/http does.
func TestFrontHeaderTimeout(t *testing.T) {
	addr, _ := serveFront(t, func(_ *Config, srv *http.Server) { srv.ReadHeaderTimeout = 200 * time.Millisecond })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: %s\r\n", addr) // and nothing more
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 64))
	if n != 0 || err != io.EOF {
		t.Fatalf("a slow header: %d bytes, %v; want the connection closed unanswered", n, err)
	}
}
