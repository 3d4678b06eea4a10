//go:build !race

package actors

import (
	"runtime"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

// roundAllocBudget is the most heap allocations one round of two players
// may cost through the actors: two joins, the match, the room, two choices
// and their movements, settlement through two player actors and the memory
// store, two results. Allocation counts hold from machine to machine where
// times do not, so a change that adds work per round fails here with the
// numbers (make bench-check). Lower it when a change earns it. (Built
// without -race, which allocates on its own.)
const roundAllocBudget = 140

func TestRoundAllocationBudget(t *testing.T) {
	clock := newFakeClock()
	s := testSettings()
	s.Clock = clock
	s.RoundTime, s.BotFill = time.Second, time.Hour
	srv, _ := newTestServer(t, s)
	var players [2]*benchClient
	for i, uid := range []string{"alloc-a", "alloc-b"} {
		c := &benchClient{conn: newFakeConn()}
		c.s = srv.OpenSession(c.conn)
		c.s.Deliver(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: uid, Uname: uid}}}})
		must(t, benchWait(c, "hi"))
		players[i] = c
	}
	join := &messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}
	choices := [2]*messages.Envelope{
		{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 1}}},
		{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 2}}},
	}
	round := func() {
		for _, c := range players {
			c.s.Deliver(join)
		}
		for _, c := range players {
			must(t, benchWait(c, "start"))
		}
		for i, c := range players {
			c.s.Deliver(choices[i])
		}
		for _, c := range players {
			must(t, benchWait(c, "movement"))
		}
		// The room set its deadline before it handled the choices.
		clock.Advance(s.RoundTime)
		for _, c := range players {
			must(t, benchWait(c, "result"))
		}
	}
	round() // warm up pools, workers and the players' records
	const rounds = 50
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range rounds {
		round()
	}
	runtime.ReadMemStats(&after)
	per := float64(after.Mallocs-before.Mallocs) / rounds
	t.Logf("%.0f allocations, %.0f bytes per round (budget %d allocations)", per,
		float64(after.TotalAlloc-before.TotalAlloc)/rounds, roundAllocBudget)
	if per > roundAllocBudget {
		t.Fatalf("%.0f allocations per round, budget %d", per, roundAllocBudget)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
