//go:build !race

package e2e

import (
	"context"
	"sync"
	"testing"
	"time"
)

// clusterFlags: 2 s rounds, and bots only after 30 s, so that every room in
// these tests seats humans who may be on different nodes.
var clusterFlags = []string{"-round-time", "2s", "-bot-fill", "30s"}

// TestClusterTwoNodesPlayEachOther: a player on one node and a player on
// another wait in the same queue and play one round together.
func TestClusterTwoNodesPlayEachOther(t *testing.T) {
	c := startCluster(t, 2, clusterFlags...)
	a := newGamer("ann", 0, c.nodes[0])
	b := newGamer("bob", 1, c.nodes[1])
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, g := range []*gamer{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); g.play(ctx, 1) }()
	}
	wg.Wait()
	ra, rb := a.snapshot(), b.snapshot()
	if len(ra) != 1 || len(rb) != 1 {
		t.Fatalf("rounds: ann %d, bob %d; want one each (ann errors %v, bob errors %v)", len(ra), len(rb), a.errs, b.errs)
	}
	if ra[0].id != rb[0].id {
		t.Fatalf("ann played %s, bob %s: not the same room", ra[0].id, rb[0].id)
	}
	if ra[0].result == nil || rb[0].result == nil {
		t.Fatalf("round %s did not end with a result for both: ann %+v, bob %+v", ra[0].id, ra[0], rb[0])
	}
	for _, g := range []*gamer{a, b} {
		g.checkChain(t)
	}
}

const clusterRound = 2 * time.Second

// checkRoundsEnded: every round a gamer saw start between from and to
// ended, within the round time and 2 s.
func checkRoundsEnded(t *testing.T, gamers []*gamer, from, to time.Time) {
	t.Helper()
	for _, g := range gamers {
		for _, r := range g.snapshot() {
			switch {
			case r.startAt.Before(from) || r.startAt.After(to):
			case r.endAt.IsZero():
				t.Errorf("%s (node %d): round %s started %v and never ended", g.user.Uid, g.node, r.id, r.startAt.Format("15:04:05.000"))
			case r.endAt.Sub(r.startAt) > clusterRound+2*time.Second:
				t.Errorf("%s (node %d): round %s took %v", g.user.Uid, g.node, r.id, r.endAt.Sub(r.startAt))
			}
		}
	}
}

// Test100PlayersThreeNodes: 100 players spread over three nodes play for
// 30 s; every round ends once and by the rules, and every node hosted rooms.
func TestCluster100PlayersThreeNodes(t *testing.T) {
	c := startCluster(t, 3, clusterFlags...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cr crowd
	cr.spread(ctx, c, 100, 0, 1, 2)
	time.Sleep(30 * time.Second)
	end := time.Now()
	cr.finish(clusterRound, cancel)

	results, voids := 0, 0
	for _, g := range cr.gamers {
		r, v := g.checkChain(t)
		results, voids = results+r, voids+v
		if !g.dropped.IsZero() {
			t.Errorf("%s (node %d) was disconnected at %v", g.user.Uid, g.node, g.dropped.Format("15:04:05.000"))
		}
	}
	checkRoundsEnded(t, cr.gamers, time.Time{}, end)
	if voids > 0 {
		t.Errorf("%d rounds voided with no fault injected", voids)
	}
	if results < 100*10 {
		t.Errorf("%d results in 30 s of 2 s rounds for 100 players, want at least 1000", results)
	}
	for i, s := range c.nodes {
		if n := metric(t, s, "caiquan_rounds_settled_total"); n == 0 {
			t.Errorf("node %d settled no rooms: rooms do not spread", i)
		} else {
			t.Logf("node %d settled %v rooms", i, n)
		}
	}
	checkStandingsStored(t, c.nodes[0], cr.gamers)
}

// TestClusterNodeKilled: SIGKILL of a node with rooms in progress. Players
// on the other nodes see each open round end (result or void) within 5 s;
// no round ends twice; those waiting are seated; the survivors take new
// players; and what the store holds is what the players were told.
func TestClusterNodeKilled(t *testing.T) {
	c := startCluster(t, 3, clusterFlags...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cr crowd
	cr.spread(ctx, c, 60, 0, 1, 2)
	time.Sleep(7 * time.Second)

	if n := metric(t, c.nodes[2], "caiquan_rooms_in_progress"); n == 0 {
		t.Fatalf("node 2 hosts no rooms in progress before the kill")
	}
	c.nodes[2].Kill()
	killed := time.Now()
	survivors := cr.on(0, 1)
	var waitingAtKill []*gamer
	for _, g := range survivors {
		g.mu.Lock()
		if !g.waiting.IsZero() {
			waitingAtKill = append(waitingAtKill, g)
		}
		g.mu.Unlock()
	}
	time.Sleep(time.Second)
	newcomers := cr.spread(ctx, c, 10, 0, 1)
	time.Sleep(12 * time.Second)
	end := time.Now()
	cr.finish(clusterRound, cancel)

	slowest, openAtKill := time.Duration(0), 0
	for _, g := range survivors {
		g.checkChain(t)
		if !g.dropped.IsZero() {
			t.Errorf("%s on surviving node %d was disconnected", g.user.Uid, g.node)
		}
		for _, r := range g.snapshot() {
			open := r.startAt.Before(killed) && (r.endAt.IsZero() || r.endAt.After(killed))
			if open {
				openAtKill++
				slowest = max(slowest, r.endAt.Sub(killed))
			}
			if open && (r.endAt.IsZero() || r.endAt.Sub(killed) > 5*time.Second) {
				t.Errorf("%s: round %s was open at the kill and ended %v after it", g.user.Uid, r.id, r.endAt.Sub(killed))
			}
		}
	}
	// Rounds open at the kill are held to the 5 s above.
	checkRoundsEnded(t, survivors, killed, end)
	for _, g := range waitingAtKill {
		seated := false
		for _, r := range g.snapshot() {
			seated = seated || r.startAt.After(killed)
		}
		if !seated {
			t.Errorf("%s was waiting at the kill and was never seated", g.user.Uid)
		}
	}
	for _, g := range newcomers {
		if n := len(g.snapshot()); n == 0 {
			t.Errorf("newcomer %s on node %d played no round", g.user.Uid, g.node)
		}
	}
	t.Logf("%d survivors (%d waiting at the kill, %d in a round that ended at most %v after it), %d newcomers",
		len(survivors), len(waitingAtKill), openAtKill, slowest, len(newcomers))
	checkStandingsStored(t, c.nodes[0], survivors)
}
