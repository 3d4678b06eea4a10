package gateway

import (
	"net"
	"net/http"
	"testing"

	"github.com/gorilla/websocket"
)

// TestServeKeepsRawSocket: connections counted by Serve still give the
// parker their descriptor (or every idle connection would keep a
// goroutine), and each is counted out once when it closes.
func TestServeKeepsRawSocket(t *testing.T) {
	opener := &fakeOpener{sessions: make(chan *fakeSession, 4)}
	g, err := New(testConfig(), opener, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: g}
	go g.Serve(srv, ln)
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the connection", func() bool { return g.OpenConns() == 1 })
	g.mu.Lock()
	for c := range g.conns {
		if c.nc.raw == nil || c.nc.fd < 0 {
			t.Errorf("a connection served by Serve has no raw socket (fd %d): it cannot park", c.nc.fd)
		}
	}
	g.mu.Unlock()
	if n := g.tcpOpen.Load(); n != 1 {
		t.Errorf("%d connections counted, want 1", n)
	}
	ws.Close()
	waitFor(t, "the connection counted out", func() bool { return g.OpenConns() == 0 && g.tcpOpen.Load() == 0 })
}
