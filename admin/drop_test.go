package admin_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/caiquan/caiquan/admin"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/messages"
)

// TestDropRoomMessages: with drop 1 on rooms (POST /delay) from the start
// of a round on, the player's choice never reaches its room, yet its round
// ends, once, within round time + 5 s (the promise): the room's own
// deadline is not a message from another actor and still fires, so the
// player gets a result without its choice, or a void; never a hang. GET
// /delay counts the drops. With drop 0 the next round counts its choice
// again. (The drop starts after the start: a room that hears no seat take
// its offer starts no round with a human in it, by design.)
func TestDropRoomMessages(t *testing.T) {
	const roundTime = 2 * time.Second // time to set the drop after the start
	s := testserver.Start(t, "-round-time", roundTime.String(), "-bot-fill", "200ms")
	c := &admin.Client{Addr: s.AdminAddr(), Token: s.AdminToken()}
	l := &ledger{results: map[string]bool{}}
	p := &player{uid: "dropper", proto: "binary", roundTime: roundTime, rng: rand.New(rand.NewPCG(1, 2)), l: l}
	conn, err := dial(s, p.proto)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.ws.Close()
	conn.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: p.uid}}}})
	if hi, err := p.await(conn, time.Now().Add(5*time.Second), "hi", ""); err != nil || hi == nil {
		t.Fatalf("hello: %v", err)
	}

	conn.send(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}})
	env, err := p.await(conn, time.Now().Add(10*time.Second), "start", "")
	if err != nil || env == nil {
		t.Fatalf("no start: %v", err)
	}
	round := env.GetStart().RoundId
	begun := time.Now()
	if _, err := c.Delay(admin.DelayRequest{Kind: "room", By: "0s", Drop: 1, Seed: 3, For: "1m"}); err != nil {
		t.Fatal(err)
	}
	conn.send(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 2}}})
	end, err := p.await(conn, begun.Add(roundTime+5*time.Second), "end", round)
	if err != nil || end == nil {
		t.Fatalf("round %s under drop 1: no end within round time + 5 s (%v)", round, err)
	}
	if res := end.GetResult(); res != nil {
		for _, r := range res.Result {
			if r.Uid == p.uid && r.Choice != 0 {
				t.Errorf("round %s: our choice %d reached a room that drops every message", round, r.Choice)
			}
		}
		p.check(res)
	}
	t.Logf("under drop 1 the round ended by %T after %v", end.Body, time.Since(begun).Round(time.Millisecond))
	st, err := c.Delays()
	if err != nil || len(st.Delays) != 1 || st.Delays[0].Dropped == 0 {
		t.Fatalf("GET /delay after the round: %+v, %v; want drops counted", st, err)
	}

	if _, err := c.Delay(admin.DelayRequest{Kind: "room", Drop: 0}); err != nil {
		t.Fatal(err)
	}
	conn.send(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}})
	if env, err = p.await(conn, time.Now().Add(10*time.Second), "start", ""); err != nil || env == nil {
		t.Fatalf("no start after drop 0: %v", err)
	}
	round, begun = env.GetStart().RoundId, time.Now()
	conn.send(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 2}}})
	end, err = p.await(conn, begun.Add(roundTime+2*time.Second), "end", round)
	if err != nil || end.GetResult() == nil {
		t.Fatalf("round %s after drop 0: %v, %v; want a result within round time + 2 s", round, end, err)
	}
	for _, r := range end.GetResult().Result {
		if r.Uid == p.uid && r.Choice != 2 {
			t.Errorf("after drop 0 the result shows our choice as %d, want 2", r.Choice)
		}
	}
	for _, v := range l.violations {
		t.Error(v)
	}
}

// TestChaosMixesDelays: a chaos run with delays (POST /chaos "delays")
// opens delay windows (200 ms, and a tenth of the messages dropped) on
// rooms and player actors on some ticks and kills rooms, bots and player
// actors on the others; GET /chaos counts both. The players still get
// every round they start ended, once, by the rules, and the run's end
// leaves no delay behind.
func TestChaosMixesDelays(t *testing.T) {
	const players, span, roundTime = 30, 10 * time.Second, time.Second
	s := testserver.Start(t, "-round-time", roundTime.String(), "-bot-fill", "300ms", "-rate-limit", "100", "-rate-burst", "100")
	c := &admin.Client{Addr: s.AdminAddr(), Token: s.AdminToken()}
	l := &ledger{results: map[string]bool{}}
	stop := time.Now().Add(span)
	var wg sync.WaitGroup
	protos := []string{"binary", "json", "eio3"}
	for i := range players {
		p := &player{uid: fmt.Sprintf("mix%03d", i), proto: protos[i%3], roundTime: roundTime, rng: rand.New(rand.NewPCG(uint64(i), 11)), l: l}
		wg.Add(1)
		go func() { defer wg.Done(); p.run(s, stop) }()
	}
	st, err := c.StartChaos(admin.ChaosRequest{
		Kinds: []string{"room", "bot", "player"}, Every: "200ms", For: (span - 3*time.Second).String(), Seed: 5,
		Delays: &admin.ChaosDelays{Kinds: []string{"room", "player"}, By: "200ms", Drop: 0.1, For: "1s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Delays == nil || st.Delays.Share != 0.5 {
		t.Errorf("POST /chaos echoed delays %+v, want share 0.5 by default", st.Delays)
	}
	wg.Wait()
	for end := time.Now().Add(10 * time.Second); st.Running && time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if st, err = c.Chaos(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("chaos: %d kills %v, %d misses, windows %v; clients: %d starts, %d results, %d voids, %d reconnects",
		st.Total, st.Kills, st.Misses, st.Windows, l.starts, len(l.results), l.voids, l.reconnects)
	for _, v := range l.violations {
		t.Error(v)
	}
	if st.Running {
		t.Fatal("the chaos run did not end")
	}
	if st.Total == 0 || st.Windows["room"] == 0 || st.Windows["player"] == 0 {
		t.Errorf("kills %d, windows %v: want kills and windows on rooms and players", st.Total, st.Windows)
	}
	if len(l.results) < players {
		t.Errorf("only %d results for %d players", len(l.results), players)
	}
	if ds, err := c.Delays(); err != nil || len(ds.Delays) != 0 {
		t.Errorf("delays after the run: %+v, %v; want none", ds, err)
	}
}
