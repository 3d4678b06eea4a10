//go:build linux && !race

package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/messages"
)

// idlePeakKiB is the most resident memory one idle connection may add to
// the server at its peak, while connections arrive, not only after the
// runtime's forced collection has tidied up.
const idlePeakKiB = 10

// idlePeakConns connections arrive; from idlePeakFrom on, the peak is read
// every idlePeakEvery, as each collection comes at another count. Fewer
// than idlePeakFrom, and the server's fixed memory and its first
// collections decide the figure.
const (
	idlePeakConns = 8000
	idlePeakFrom  = 2000
	idlePeakEvery = 250
)

// TestIdleConnectionPeakMemory: thousands of players connect over /ws, say
// hello and stay idle; the server's peak resident memory (VmHWM) grows by
// at most idlePeakKiB per connection, read again and again as they come. Built without -race, which takes
// memory of its own; the server's defaults otherwise (pebble store, its
// GOGC and memory limit).
func TestIdleConnectionPeakMemory(t *testing.T) {
	s := startServer(t)
	before := procStatusKiB(t, s.Pid(), "VmRSS")
	var worst float64
	var worstAt int
	var worstPeak int64
	conns := make([]net.Conn, 0, idlePeakConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range idlePeakConns {
		c, err := net.DialTimeout("tcp", s.Addr, dialTimeout)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(eventTimeout))
		fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", s.Addr)
		br := bufio.NewReaderSize(c, 256)
		status, err := br.ReadString('\n')
		if err != nil || !strings.Contains(status, " 101 ") {
			t.Fatalf("connection %d: upgrade answered %q, %v", i, status, err)
		}
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("connection %d: %v", i, err)
			}
			if line == "\r\n" {
				break
			}
		}
		// Each its own player: a second hello for a uid replaces the first.
		uid := fmt.Sprintf("idle%06d", i)
		hello, err := proto.Marshal(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: uid, Uname: uid}}}})
		if err != nil {
			t.Fatal(err)
		}
		// A client's frame is masked; a zero key leaves the payload as it is.
		frame := append([]byte{0x82, 0x80 | byte(len(hello)), 0, 0, 0, 0}, hello...)
		if _, err := c.Write(frame); err != nil {
			t.Fatalf("connection %d: hello: %v", i, err)
		}
		// The hi's frame header: the server has the player and its
		// session. Its payload stays unread (at most a few hundred bytes).
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil || h[0] != 0x82 {
			t.Fatalf("connection %d: no hi (% x, %v)", i, h, err)
		}
		c.SetDeadline(time.Time{})
		if n := i + 1; n >= idlePeakFrom && n%idlePeakEvery == 0 {
			peak := procStatusKiB(t, s.Pid(), "VmHWM")
			if per := float64(peak-before) / float64(n); per > worst {
				worst, worstAt, worstPeak = per, n, peak
			}
		}
	}
	t.Logf("idle connections: resident %d KiB before; most per connection at %d of them: peak %d KiB, %.2f KiB each (most %d)",
		before, worstAt, worstPeak, worst, idlePeakKiB)
	if worst > idlePeakKiB {
		t.Fatalf("%.2f KiB per idle connection at the peak with %d connected, most %d", worst, worstAt, idlePeakKiB)
	}
}

// procStatusKiB reads one "Name: N kB" line of /proc/PID/status.
func procStatusKiB(t *testing.T, pid int, name string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", name, pid)
	return 0
}
