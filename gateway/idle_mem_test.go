package gateway

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/internal/testing/heaptest"
	"github.com/caiquan/caiquan/messages"
)

// idleOpener opens sessions that answer hello with hi and do nothing else.
type idleOpener struct{ his atomic.Int64 }

type idleSession struct {
	o    *idleOpener
	conn actors.Conn
}

func (o *idleOpener) OpenSession(c actors.Conn) actors.Session { return idleSession{o, c} }

func (s idleSession) Deliver(env *messages.Envelope) {
	if env.GetHello() != nil {
		s.conn.Send(&messages.Envelope{Body: &messages.Envelope_Hi{Hi: &messages.Hi{Message: "welcome", Nearby: 1}}})
		s.o.his.Add(1)
	}
}
func (idleSession) Closed(string) {}

// BenchmarkIdleConnMemory reports the live heap an idle /ws connection
// holds on the server side, as the idle19k load scenario leaves them
// (B/conn), and the heap one allocates to get there (B/conn-alloc, with
// the garbage that the heap peaks with while connections arrive):
// hello said, hi written, the reader parked. B/conn includes the test's own
// client end (a raw socket, a few hundred bytes). With IDLE_HEAP_PROFILE=FILE
// and -memprofilerate 1 it also writes a heap profile.
func BenchmarkIdleConnMemory(b *testing.B) {
	const n = 1000
	for b.Loop() {
		opener := &idleOpener{}
		g, err := New(testConfig(), opener, nil)
		if err != nil {
			b.Fatal(err)
		}
		g.parkAfter = 10 * time.Millisecond
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: g}
		go g.Serve(srv, ln) // as the server serves: upgrades through the listener (front.go)
		hello, _ := proto.Marshal(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: "u", Uname: "u"}}}})
		frame := append([]byte{0x82, 0x80 | byte(len(hello)), 0, 0, 0, 0}, hello...) // masked with a zero key

		before := heaptest.Live()
		var msBefore runtime.MemStats
		runtime.ReadMemStats(&msBefore)
		clients := make([]net.Conn, n)
		for i := range clients {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
			br := bufio.NewReader(c)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				if strings.TrimSpace(line) == "" {
					break
				}
			}
			c.Write(frame)
			clients[i] = c
		}
		for end := time.Now().Add(10 * time.Second); opener.his.Load() < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				b.Fatalf("%d of %d said hello", opener.his.Load(), n)
			}
		}
		time.Sleep(time.Second) // the readers park, the writers finish
		after := heaptest.Live()
		var msAfter runtime.MemStats
		runtime.ReadMemStats(&msAfter)
		b.ReportMetric(float64(after-before)/n, "B/conn")
		b.ReportMetric(float64(msAfter.TotalAlloc-msBefore.TotalAlloc)/n, "B/conn-alloc")
		heaptest.WriteProfile(b)
		g.CloseAll(messages.CloseGoingAway, "done")
		for _, c := range clients {
			c.Close()
		}
		srv.Close()
	}
}
