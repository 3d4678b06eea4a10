//go:build !race

package e2e

import (
	"context"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/admin"
	"github.com/caiquan/caiquan/cluster"
)

// clusterFlags: 2 s rounds, and bots only after 30 s, so that every room in
// these tests seats humans who may be on different nodes.
var clusterFlags = []string{"-round-time", "2s", "-bot-fill", "30s"}

// TestClusterTwoNodesPlayEachOther: a player on one node and a player on
// another wait in the same queue and play one round together.
func TestClusterTwoNodesPlayEachOther(t *testing.T) {
	playAcross(t, startCluster(t, 2, clusterFlags...))
}

// playAcross has a player on node 0 and one on node 1 play one round
// together, ending in a result for both that follows from their standings.
func playAcross(t *testing.T, c *gameCluster) {
	t.Helper()
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

// TestClusterFourthNodeJoins: a node joining while rounds are in progress
// aborts none of them, though the lobby and some players may move to it.
func TestClusterFourthNodeJoins(t *testing.T) {
	c := startCluster(t, 3, clusterFlags...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cr crowd
	cr.spread(ctx, c, 40, 0, 1, 2)
	time.Sleep(5 * time.Second)
	joining := time.Now()
	fourth := c.addNode()
	joined := time.Now()
	cr.spread(ctx, c, 10, 3)
	time.Sleep(10 * time.Second)
	end := time.Now()
	cr.finish(clusterRound, cancel)

	inFlight := 0
	for _, g := range cr.gamers {
		_, voids := g.checkChain(t)
		if voids > 0 {
			t.Errorf("%s (node %d): %d rounds voided", g.user.Uid, g.node, voids)
		}
		for _, r := range g.snapshot() {
			if r.startAt.Before(joined) && (r.endAt.IsZero() || r.endAt.After(joining)) {
				inFlight++
			}
		}
	}
	if inFlight == 0 {
		t.Fatal("no round was in progress while the fourth node joined")
	}
	checkRoundsEnded(t, cr.gamers, time.Time{}, end)
	if n := metric(t, fourth, "caiquan_rounds_settled_total"); n == 0 {
		t.Errorf("the fourth node hosted no rooms")
	}
	t.Logf("%d rounds were in progress while the fourth node joined (%v)", inFlight, joined.Sub(joining))
	checkStandingsStored(t, c.nodes[0], cr.gamers)
}

// TestClusterPausedLobbyNode: the node that holds the lobby stops (SIGSTOP)
// for longer than the lease and the heartbeat expiry. The others take the
// lobby over and seat the waiting players; once resumed, the old node seats
// nobody (every seat of every round was taken by its player) and exits with
// the fenced code.
func TestClusterPausedLobbyNode(t *testing.T) {
	c := startCluster(t, 3, append(clusterFlags, "-cluster-heartbeat-expiry", "2s", "-drain-timeout", "3s")...)
	lobby, others := c.lobbyNode()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cr crowd
	cr.spread(ctx, c, 40, others...)
	time.Sleep(5 * time.Second)

	paused := c.nodes[lobby]
	paused.Pause()
	c.waitMembers(2)            // its lease expired: the others dropped it
	time.Sleep(3 * time.Second) // and longer than the heartbeat expiry
	paused.Signal(syscall.SIGCONT)
	resumed := time.Now()
	code, err := paused.WaitExit(20 * time.Second)
	if err != nil {
		t.Fatalf("the resumed node did not exit: %v", err)
	}
	if code != 3 {
		t.Errorf("the resumed node exited %d, want 3 (fenced)", code)
	}
	time.Sleep(5 * time.Second)
	end := time.Now()
	cr.finish(clusterRound, cancel)

	// Every human seated in a round got that round's start: nobody was
	// seated by two lobbies (a session takes one start and declines any
	// other, which would leave its seat empty in the round it declined).
	starts := map[string]map[string]bool{} // round -> uids that got its start
	users := map[string][]string{}         // round -> human uids seated
	known := map[string]bool{}
	for _, g := range cr.gamers {
		known[g.user.Uid] = true
	}
	for _, g := range cr.gamers {
		g.checkChain(t)
		for _, r := range g.snapshot() {
			if starts[r.id] == nil {
				starts[r.id] = map[string]bool{}
			}
			starts[r.id][g.user.Uid] = true
			users[r.id] = nil
			for _, u := range r.start.RoomUsers {
				if known[u.Uid] {
					users[r.id] = append(users[r.id], u.Uid)
				}
			}
			if r.endAt.IsZero() {
				t.Errorf("%s: round %s never ended", g.user.Uid, r.id)
			}
		}
	}
	for id, uids := range users {
		for _, u := range uids {
			if !starts[id][u] {
				t.Errorf("round %s seated %s, who never got its start: seated twice", id, u)
			}
		}
	}
	checkRoundsEnded(t, cr.gamers, resumed.Add(time.Second), end)
	t.Logf("%d rounds; the paused node exited %d", len(users), code)
	checkStandingsStored(t, c.nodes[others[0]], cr.gamers)
}

// TestClusterRestartKeepsScores: two nodes share PostgreSQL; players on
// both play five rounds; both nodes die by SIGKILL; two new nodes show
// every player exactly the standing of the last result it saw.
func TestClusterRestartKeepsScores(t *testing.T) {
	c := startCluster(t, 2, "-round-time", "1s", "-bot-fill", "300ms")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var gamers []*gamer
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		g := newGamer("r", i%2, c.nodes[i%2])
		gamers = append(gamers, g)
		wg.Add(1)
		go func() { defer wg.Done(); g.play(ctx, 5) }()
	}
	wg.Wait()
	scored := 0
	for _, g := range gamers {
		if results, _ := g.checkChain(t); results != 5 {
			t.Errorf("%s played %d rounds to a result, want 5", g.user.Uid, results)
		}
		rs := g.snapshot()
		if e := resultEntry(rs[len(rs)-1].result, g.user.Uid); e != nil && e.TotalScore > 0 {
			scored++
		}
	}
	if scored == 0 {
		t.Fatal("nobody scored: a lost store could pass for this")
	}
	for _, s := range c.nodes {
		s.Kill()
	}
	c.nodes = nil
	c.addNode()
	c.addNode()
	checkStandingsStored(t, c.nodes[0], gamers[:6])
	checkStandingsStored(t, c.nodes[1], gamers[6:])
}

// TestClusterAdminReachesEveryNode: one node's admin API lists the actors
// of every node, kills a session on another node (its client is
// disconnected), and runs chaos on rooms all over the cluster while the
// rounds still end once each, by the rules.
func TestClusterAdminReachesEveryNode(t *testing.T) {
	c := startCluster(t, 3, clusterFlags...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cr crowd
	cr.spread(ctx, c, 30, 0, 1, 2)
	time.Sleep(3 * time.Second)
	adm := &admin.Client{Addr: c.nodes[0].AdminAddr(), Token: c.nodes[0].AdminToken()}

	list, err := adm.Actors()
	if err != nil {
		t.Fatal(err)
	}
	lobbies := map[string]bool{}
	for _, a := range list {
		if a.Kind == actors.KindLobby {
			lobbies[a.Node] = true
		}
	}
	for _, s := range c.nodes {
		if !lobbies[clusterAddr(s)] {
			t.Errorf("node 0's actor list has no lobby on %s: %v", clusterAddr(s), lobbies)
		}
	}

	victim := cr.on(2)[0]
	res, err := adm.Kill(admin.KillRequest{Kind: actors.KindSession, ID: victim.user.Uid, Mode: actors.KillStop})
	if err != nil {
		t.Fatalf("kill %s's session through node 0: %v", victim.user.Uid, err)
	}
	if res.Killed.Node != clusterAddr(c.nodes[2]) {
		t.Errorf("killed a session on %s, want node 2 (%s)", res.Killed.Node, clusterAddr(c.nodes[2]))
	}
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		victim.mu.Lock()
		dropped := !victim.dropped.IsZero()
		victim.mu.Unlock()
		if dropped {
			break
		}
	}
	if victim.dropped.IsZero() {
		t.Errorf("%s on node 2 was not disconnected by the kill through node 0", victim.user.Uid)
	}

	st, err := adm.StartChaos(admin.ChaosRequest{Kinds: []string{actors.KindRoom}, Every: "200ms", For: "6s", Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(7 * time.Second)
	if st, err = adm.Chaos(); err != nil || st.Running {
		t.Fatalf("chaos: %+v, %v", st, err)
	}
	killedOn := 0
	for _, s := range c.nodes {
		if metricSum(t, s, "caiquan_actor_kills_total") > 0 {
			killedOn++
		}
	}
	if killedOn < 2 {
		t.Errorf("chaos from node 0 killed actors on %d nodes, want rooms killed all over the cluster", killedOn)
	}
	end := time.Now()
	cr.finish(clusterRound, cancel)
	var rest []*gamer // the victim's open round ended with its socket
	for _, g := range cr.gamers {
		if g != victim {
			g.checkChain(t)
			rest = append(rest, g)
		}
	}
	checkRoundsEnded(t, rest, time.Time{}, end)
	t.Logf("chaos: %d kills, %d misses", st.Total, st.Misses)
}

// lobbyNode is the index of the node that holds the lobby, and the others.
func (c *gameCluster) lobbyNode() (lobby int, others []int) {
	var addrs []string
	for _, s := range c.nodes {
		addrs = append(addrs, clusterAddr(s))
	}
	lobby = slices.Index(addrs, cluster.PlaceAmong(cluster.LobbyKey, addrs))
	for i := range c.nodes {
		if i != lobby {
			others = append(others, i)
		}
	}
	return lobby, others
}

// TestClusterLobbyNodeDrains: a rolling restart takes down the lobby's
// node with SIGTERM. Players on the other nodes are never told the server
// is draining: they wait, and the lobby's next member seats them.
func TestClusterLobbyNodeDrains(t *testing.T) {
	c := startCluster(t, 3, append(clusterFlags, "-drain-timeout", "3s")...)
	lobby, others := c.lobbyNode()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cr crowd
	cr.spread(ctx, c, 20, others...)
	time.Sleep(4 * time.Second)
	c.nodes[lobby].Signal(syscall.SIGTERM)
	stopped := time.Now()
	if code, err := c.nodes[lobby].WaitExit(15 * time.Second); err != nil || code != 0 {
		t.Fatalf("the lobby's node did not drain and exit 0: code %d, %v", code, err)
	}
	time.Sleep(8 * time.Second)
	end := time.Now()
	cr.finish(clusterRound, cancel)

	after := 0
	for _, g := range cr.gamers {
		g.checkChain(t) // a draining error would be reported here
		for _, r := range g.snapshot() {
			if r.startAt.After(stopped) {
				after++
			}
		}
	}
	checkRoundsEnded(t, cr.gamers, time.Time{}, end)
	if after == 0 {
		t.Fatal("nobody was seated after the lobby's node stopped")
	}
	t.Logf("%d rounds started after SIGTERM to the lobby's node", after)
}
