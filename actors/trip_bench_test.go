package actors

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/store/memory"
)

// BenchmarkTrip times one choice's trip through the actors: a session
// (client A) → its room → the other session (client B), which hands the
// movement to its connection. The round never ends during the benchmark.
func BenchmarkTrip(b *testing.B) {
	b.Run("one-room", func(b *testing.B) {
		srv := benchServer(b)
		pairs := seatPairs(b, srv, 1)
		a, other := pairs[0][0], pairs[0][1]
		choice := &messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 2}}}
		b.ReportAllocs()
		for b.Loop() {
			a.s.Deliver(choice)
			if err := benchWait(other, "movement"); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Many rooms at once: how trips spread over GOMAXPROCS.
	b.Run("parallel-rooms", func(b *testing.B) {
		srv := benchServer(b)
		pairs := seatPairs(b, srv, 64)
		var next atomic.Int64
		choice := &messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 3}}}
		b.ReportAllocs()
		b.SetParallelism(32) // 64 goroutines on 2 cores: one per room
		b.RunParallel(func(pb *testing.PB) {
			pair := pairs[int(next.Add(1)-1)%len(pairs)]
			for pb.Next() {
				pair[0].s.Deliver(choice)
				if err := benchWait(pair[1], "movement"); err != nil {
					b.Error(err) // not Fatal: this is not the benchmark's goroutine
					return
				}
			}
		})
	})
}

type benchClient struct {
	conn *fakeConn
	s    Session
}

func benchServer(b *testing.B) *Server {
	b.Helper()
	s := testSettings()
	s.RoundTime, s.BotFill = time.Hour, time.Hour
	system := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	})))
	b.Cleanup(system.Shutdown)
	srv, err := NewServer(system, s, memory.New(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// seatPairs seats n pairs of clients, each pair in a room of its own.
func seatPairs(b *testing.B, srv *Server, n int) [][2]*benchClient {
	b.Helper()
	pairs := make([][2]*benchClient, n)
	for i := range pairs {
		for j := range 2 {
			c := &benchClient{conn: newFakeConn()}
			c.s = srv.OpenSession(c.conn)
			uid := fmt.Sprintf("p%d-%d", i, j)
			c.s.Deliver(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: uid, Uname: uid}}}})
			if err := benchWait(c, "hi"); err != nil {
				b.Fatal(err)
			}
			c.s.Deliver(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}})
			pairs[i][j] = c
		}
		for _, c := range pairs[i] {
			if err := benchWait(c, "start"); err != nil {
				b.Fatal(err)
			}
		}
	}
	return pairs
}

// benchWait takes the client's messages until one of kind arrives.
func benchWait(c *benchClient, kind string) error {
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case env := <-c.conn.out:
			if kindOf(env) == kind {
				return nil
			}
		case <-timeout.C:
			return fmt.Errorf("no %s within 5s", kind)
		}
	}
}
