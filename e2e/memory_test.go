//go:build linux && !race

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/messages"
)

// TestMemoryLimitRefusesNewConnections: a server whose memory nears
// memory_limit_mib answers new upgrades 503 server_busy with Retry-After,
// and a connected player's join gets server_busy, instead of growing past
// its limit. Idle connections fill its memory until it says so, and its
// resident memory at its peak (VmHWM: Go's heap, its stacks, and what the
// store allocates outside Go) stays under the limit. A server built with -race
// also holds the race detector's shadow memory, which no limit of ours
// covers: make bench-check runs this test without -race.
func TestMemoryLimitRefusesNewConnections(t *testing.T) {
	s := startServer(t, "-memory-limit-mib", "64", "-auth-mode", "anonymous")
	early := dial(t, s.wsURL("/ws?format=json"))
	early.send("hello", map[string]any{"user": map[string]string{"uid": "early"}})
	early.expect("hi")

	const most = 8000 // each holds a goroutine, buffers and two actors
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < most; i++ {
		ws, resp, err := websocket.DefaultDialer.Dial(s.wsURL("/ws?format=json"), nil)
		if err == nil {
			conns = append(conns, ws)
			continue
		}
		if resp == nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var apiErr struct{ Code string }
		json.Unmarshal(body, &apiErr)
		if resp.StatusCode != http.StatusServiceUnavailable || apiErr.Code != messages.CodeServerBusy {
			t.Fatalf("connection %d refused with %d %s; want 503 %s", i, resp.StatusCode, body, messages.CodeServerBusy)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
		early.send("join", map[string]any{})
		early.expectError(messages.CodeServerBusy)
		peak := procStatusKiB(t, s.Pid(), "VmHWM")
		t.Logf("refused after %d connections; peak resident memory %d KiB", i, peak)
		if peak > 64<<10 {
			t.Fatalf("peak resident memory %d KiB, over the 64 MiB limit", peak)
		}
		return
	}
	t.Fatalf("%d connections against a 64 MiB limit and none refused", most)
}
