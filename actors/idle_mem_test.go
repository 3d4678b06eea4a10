package actors

import (
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/internal/testing/heaptest"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/store/memory"
)

// hiConn counts the hi messages its session sends; nothing else.
type hiConn struct{ his *atomic.Int64 }

func (c hiConn) Send(env *messages.Envelope) bool {
	if env.GetHi() != nil {
		c.his.Add(1)
	}
	return true
}
func (hiConn) Close(int, string) {}

// BenchmarkIdleSessionMemory reports the live heap that one idle session
// (hello said, its player attached) and its player actor add, as the
// idle19k load scenario holds them: B/idle is heap bytes per session (with
// the memory store's record, which the pebble store keeps in its files
// and its block cache instead). With
// IDLE_HEAP_PROFILE=FILE and -memprofilerate 1 it also writes a heap
// profile of them.
func BenchmarkIdleSessionMemory(b *testing.B) {
	const n = 5000
	for b.Loop() {
		system := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
			return slog.New(slog.DiscardHandler)
		})))
		srv, err := NewServer(system, testSettings(), memory.New(), nil)
		if err != nil {
			b.Fatal(err)
		}
		before := heaptest.Live()
		var his atomic.Int64
		sessions := make([]Session, n)
		for i := range sessions {
			sessions[i] = srv.OpenSession(hiConn{&his})
			uid := fmt.Sprintf("u%06d", i)
			sessions[i].Deliver(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: uid, Uname: uid}}}})
		}
		for end := time.Now().Add(10 * time.Second); his.Load() < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(end) {
				b.Fatalf("%d of %d sessions said hi", his.Load(), n)
			}
		}
		time.Sleep(3 * workerIdle) // the dispatcher's workers leave
		after := heaptest.Live()
		heaptest.WriteProfile(b)
		b.ReportMetric(float64(after-before)/n, "B/idle")
		runtime.KeepAlive(sessions)
		system.Shutdown()
	}
}
