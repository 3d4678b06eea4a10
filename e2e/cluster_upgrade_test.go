//go:build !race

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caiquan/caiquan/cluster"
	"github.com/caiquan/caiquan/internal/chaos"
	"github.com/caiquan/caiquan/internal/history"
	"github.com/caiquan/caiquan/internal/testing/etcdtest"
	"github.com/caiquan/caiquan/internal/testing/pgtest"
	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// previousRelease is the commit of the release this one upgrades from
// (docs/cluster.md, Upgrades): TestClusterRollingUpgrade builds it from
// git. Move it to this release's commit when this release is cut.
const previousRelease = "267a622fdc0caced96fe221e09e5329c023e29f5"

// previousBinary builds the previous release's server from git, once per
// commit: the binary stays in bin/previous-COMMIT/ of the repository, so
// reruns start at once (make clean removes it).
func previousBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("the previous release is built from git, and this is no git checkout: %v", err)
	}
	root := strings.TrimSpace(string(out))
	if err := exec.Command("git", "-C", root, "cat-file", "-e", previousRelease+"^{commit}").Run(); err != nil {
		t.Fatalf("the previous release %s is not in this clone (a shallow one?): fetch the full history "+
			"(git fetch --unshallow), then run the test again", previousRelease)
	}
	dir := filepath.Join(root, "bin", "previous-"+previousRelease)
	bin := filepath.Join(dir, "caiquan")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	// Build in a folder of its own and rename it into place, so a run
	// that stops halfway leaves no half-built binary to be trusted.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "previous-build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", previousRelease)
	untar := exec.Command("tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	untar.Stdin = pipe
	var archiveErr, untarErr strings.Builder
	archive.Stderr, untar.Stderr = &archiveErr, &untarErr
	if err := untar.Start(); err != nil {
		t.Fatal(err)
	}
	if err := archive.Run(); err != nil {
		t.Fatalf("git archive %s: %v\n%s", previousRelease, err, archiveErr.String())
	}
	if err := untar.Wait(); err != nil {
		t.Fatalf("untar %s: %v\n%s", previousRelease, err, untarErr.String())
	}
	build := exec.Command("go", "build", "-o", filepath.Join(tmp, "out", "caiquan"), "./cmd/caiquan")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the previous release %s: %v\n%s", previousRelease, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "out"), dir); err != nil && !errors.Is(err, os.ErrExist) {
		if _, statErr := os.Stat(bin); statErr != nil { // another run won the race otherwise
			t.Fatal(err)
		}
	}
	return bin
}

// upgradeConfig is the settings file both releases read, as an operator
// keeps one file across an upgrade. heap_budget_mib is in the previous
// release's example file, so most of its users have it.
const upgradeConfig = `# caiquan settings, as the previous release's example has them
auth_mode: anonymous
store: postgres
cluster_provider: etcd
cluster_bind: "127.0.0.1:0"
round_time: 2s
ping_interval: 1s
idle_timeout: 10s
drain_timeout: 3s
cluster_heartbeat_expiry: 3s
heap_budget_mib: 512
`

// TestClusterRollingUpgrade: three nodes of the previous release share
// etcd and PostgreSQL; players play on /ws and on the 2016 client's wire
// (Engine.IO 3) through all three. Each node in turn gets SIGTERM (it
// drains: rounds in play finish, then sockets close), and a node of this
// build takes its place on a new port; the players on it reconnect to
// another node, as real clients do, and play on, through a mixed cluster
// and then an all-new one. The checker (internal/history) then reads
// what every player saw and the records PostgreSQL holds, and must find
// no anomaly; every player's stored standing is the last it was shown.
//
// Both releases talk to etcd and to each other in plain text on loopback:
// the previous release has no TLS for either.
func TestClusterRollingUpgrade(t *testing.T) {
	oldBin, newBin := previousBinary(t), testserver.Binary(t)
	if os.Getenv("CAIQUAN_UPGRADE_BASELINE") != "" {
		oldBin = newBin
	}
	etcd, pg := etcdtest.Start(t), pgtest.Start(t)
	// The history and the settings stay for a look when the test fails.
	dir, err := os.MkdirTemp("", "caiquan-upgrade-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("history, store records and settings kept in %s", dir)
		} else {
			os.RemoveAll(dir)
		}
	})
	config := filepath.Join(dir, "caiquan.yaml")
	if err := os.WriteFile(config, []byte(upgradeConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	members := &gameCluster{t: t, etcd: etcd}
	// Every node gets loopback ports of its own; the flags only this
	// release has go to its nodes alone.
	start := func(bin string, i int) *testserver.Server {
		args := []string{"-config", config, "-listen", "127.0.0.1:0", "-admin-listen", "127.0.0.1:0",
			"-postgres-url", pg.URL, "-cluster-etcd-endpoints", etcd.Endpoint}
		if bin == newBin {
			args = append(args, "-metrics-listen", "127.0.0.1:0",
				"-admin-token-file", filepath.Join(dir, fmt.Sprintf("node%d.admin-token", i)))
		}
		s := testserver.StartBinary(t, bin, args...)
		t.Logf("node%d %s on %s", i, filepath.Base(filepath.Dir(bin)), s.Addr)
		return s
	}
	startNew := func(i int) *testserver.Server { return start(newBin, i) }

	// The nodes players may connect to: a draining node is taken out of
	// the list first, as a load balancer does when its /healthz says 503.
	var mu sync.Mutex
	nodes := make([]*testserver.Server, 3)
	serving := make([]bool, 3)
	addrs := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for i, s := range nodes {
			if serving[i] {
				out = append(out, s.Addr)
			}
		}
		return out
	}
	for i := range nodes {
		nodes[i], serving[i] = start(oldBin, i), true
	}
	members.waitMembers(3)

	histPath := filepath.Join(dir, "history.jsonl")
	hf, err := os.Create(histPath)
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	rec := history.NewRecorder(hf)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var players []*chaos.Player
	var wg sync.WaitGroup
	const perWire = 12
	for i := range 2 * perWire {
		p := chaos.NewPlayer(i, uint64(time.Now().UnixNano()), addrs, rec)
		if i%2 == 1 {
			p.Wire = chaos.WireEIO3
		}
		players = append(players, p)
		wg.Add(1)
		go func() { defer wg.Done(); p.Run(ctx) }()
	}
	// rounds counts the rounds each wire's players saw end.
	rounds := func() (ws, eio3 int64) {
		for _, p := range players {
			if p.Wire == chaos.WireEIO3 {
				eio3 += p.Rounds()
			} else {
				ws += p.Rounds()
			}
		}
		return ws, eio3
	}
	// playOn waits until both wires' players have ended more rounds than
	// they had, then lets them play on for d.
	playOn := func(phase string, d time.Duration) {
		t.Helper()
		ws0, eio30 := rounds()
		deadline := time.Now().Add(20 * time.Second)
		for {
			ws, eio3 := rounds()
			if ws > ws0 && eio3 > eio30 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no round ended on /ws (%d) or on Engine.IO 3 (%d) within 20 s", phase, ws-ws0, eio3-eio30)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(d)
		ws, eio3 := rounds()
		t.Logf("%s: %d rounds on /ws, %d on Engine.IO 3 so far", phase, ws, eio3)
	}
	playOn("previous release", 4*time.Second)

	upgraded := make([]bool, 3)
	for step := range nodes {
		i := nextToUpgrade(t, nodes, upgraded)
		mu.Lock()
		serving[i] = false
		old := nodes[i]
		mu.Unlock()
		old.Signal(syscall.SIGTERM)
		code, err := old.WaitExit(30 * time.Second)
		if err != nil || code != 0 {
			t.Fatalf("node%d (previous release) after SIGTERM: exit %d, %v", i, code, err)
		}
		members.waitMembers(2)
		s := startNew(i)
		if !strings.Contains(s.Stderr(), "setting=heap_budget_mib") {
			t.Errorf("node%d does not warn that heap_budget_mib is ignored", i)
		}
		members.waitMembers(3)
		mu.Lock()
		nodes[i], serving[i], upgraded[i] = s, true, true
		mu.Unlock()
		if step == 0 {
			// Players who stay on the first new node: their sessions tell
			// their players, two thirds of them kept by the previous
			// release's nodes, of every seat, in types those nodes do not
			// know. (Reconnects alone may bring nobody to a new node
			// while old ones remain.)
			first := s.Addr
			for k := range 8 {
				p := chaos.NewPlayer(2*perWire+k, uint64(time.Now().UnixNano()), func() []string { return []string{first} }, rec)
				players = append(players, p)
				wg.Add(1)
				go func() { defer wg.Done(); p.Run(ctx) }()
			}
		}
		playOn(fmt.Sprintf("%d of 3 nodes upgraded (node%d)", step+1, i), 6*time.Second)
	}

	for _, p := range players {
		p.Quit()
	}
	// Sessions of this build told players kept by the previous release's
	// nodes about their seats: those messages, of types that release does
	// not know, must have been withheld (sent, they end the old node).
	withheld := 0.0
	for _, s := range nodes {
		v, err := strconv.ParseFloat(serverMetric(t, s, "caiquan_cluster_messages_withheld_total"), 64)
		if err != nil {
			t.Fatalf("caiquan_cluster_messages_withheld_total: %v", err)
		}
		withheld += v
	}
	t.Logf("messages withheld from nodes of the previous release: %v", withheld)
	if withheld == 0 {
		t.Errorf("no message was withheld from a node of the previous release: the mixed cluster's new message types went untried")
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cancel() // a player still waiting for a seat
		<-done
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	hf.Close()
	var uids []string
	for _, p := range players {
		uids = append(uids, p.UID)
	}
	records, err := chaos.ReadStore(pg.URL, uids)
	if err != nil {
		t.Fatal(err)
	}
	if sf, err := os.Create(filepath.Join(dir, "store.jsonl")); err == nil {
		history.WriteRecords(sf, records)
		sf.Close()
	}
	f, err := os.Open(histPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, err := history.ReadEvents(f)
	if err != nil {
		t.Fatal(err)
	}
	rep := history.Check(events, records, history.Options{})
	t.Logf("%d rounds checked, %d anomalies", rep.Rounds, len(rep.Anomalies))
	for i, a := range rep.Anomalies {
		if i == 30 {
			t.Errorf("... and %d more", len(rep.Anomalies)-i)
			break
		}
		t.Errorf("%v", a)
	}
	if rep.Rounds < 100 {
		t.Errorf("only %d rounds checked", rep.Rounds)
	}
	checkLastStandings(t, events, records)
}

// nextToUpgrade is the node to upgrade next: the one that holds the lobby
// while it runs the previous release, else the first not yet upgraded.
// The previous release's lobby opens rooms on a member that drains, whose
// drain then times out and voids them (some after their scores were
// stored); a lobby that drains itself seats nobody, and this release's
// lobby opens no rooms on a draining member.
func nextToUpgrade(t *testing.T, nodes []*testserver.Server, upgraded []bool) int {
	t.Helper()
	var addrs []string
	for _, s := range nodes {
		addrs = append(addrs, s.Line("cluster caiquan node "))
	}
	lobby := slices.Index(addrs, cluster.PlaceAmong(cluster.LobbyKey, addrs))
	if lobby >= 0 && !upgraded[lobby] {
		return lobby
	}
	return slices.Index(upgraded, false)
}

// checkLastStandings checks that each player's stored total and streak
// are the last standing it was shown (in a hi or a result), whatever the
// checker allows for rounds a client did not see end.
func checkLastStandings(t *testing.T, events []history.Event, records []history.Record) {
	t.Helper()
	type standing struct{ total, streak int32 }
	last := map[string]standing{}
	open := map[string]bool{} // a round started and not seen to end
	for _, e := range events {
		switch e.Kind {
		case history.Hi:
			last[e.Client] = standing{e.Total, e.Streak}
		case history.Start:
			open[e.Client] = true
		case history.Void:
			open[e.Client] = false
		case history.Result:
			open[e.Client] = false
			for _, s := range e.Seats {
				if s.UID == e.Client {
					last[e.Client] = standing{s.Total, s.Streak}
				}
			}
		}
	}
	stored := map[string]standing{}
	for _, r := range records {
		stored[r.UID] = standing{r.Total, r.Streak}
	}
	results := 0
	for uid, want := range last {
		if open[uid] {
			continue // its last round's end is unknown to it
		}
		results++
		if got := stored[uid]; got != want {
			t.Errorf("%s: stored total %d streak %d, the last standing shown was %d %d", uid, got.total, got.streak, want.total, want.streak)
		}
	}
	if results == 0 {
		t.Error("no player ended with a known standing")
	}
}
