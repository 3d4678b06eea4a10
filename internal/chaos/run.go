package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/admin"
	"github.com/caiquan/caiquan/cluster"
	"github.com/caiquan/caiquan/internal/history"
	"github.com/caiquan/caiquan/internal/multihost"
	"github.com/caiquan/caiquan/store/postgres"
)

// Fault kinds a run injects.
const (
	Kill      = "kill"
	Pause     = "pause"
	Partition = "partition"
	Delay     = "delay"
	Drop      = "drop"
)

// AllKinds are the kinds Run injects unless told otherwise, in the order
// the faults line counts them.
var AllKinds = []string{Kill, Pause, Partition, Delay, Drop}

// Config says what Run does.
type Config struct {
	Bin         string        // the caiquan binary (built without -race)
	Dir         string        // logs, data and the history; made if missing
	Nodes       int           // game nodes; 3 unless set
	EtcdMembers int           // 1 unless set
	Players     int           // 300 unless set
	For         time.Duration // how long faults run; 60 s unless set
	Every       time.Duration // one fault every so often; 2 s unless set; <0: no faults
	Kinds       []string      // AllKinds unless set
	Seed        uint64        // the fault schedule and the players' hands
	RoundTime   time.Duration // 2 s unless set
	Flags       []string      // more flags for every node
	Log         io.Writer     // progress; io.Discard unless set
}

func (c *Config) defaults() {
	if c.Nodes == 0 {
		c.Nodes = 3
	}
	if c.EtcdMembers == 0 {
		c.EtcdMembers = 1
	}
	if c.Players == 0 {
		c.Players = 300
	}
	if c.For == 0 {
		c.For = time.Minute
	}
	if c.Every == 0 {
		c.Every = 2 * time.Second
	}
	if len(c.Kinds) == 0 {
		c.Kinds = AllKinds
	}
	if c.RoundTime == 0 {
		c.RoundTime = 2 * time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Result is what a run found.
type Result struct {
	Report history.Report
	Faults map[string]int // injected, by kind
	// History and Store are the files the checker read.
	History, Store string
}

// Env is a running cluster with its players, for scenario tests that
// inject their own faults.
type Env struct {
	Cluster *multihost.Cluster
	Lab     *multihost.Lab
	cfg     Config
	rec     *history.Recorder
	histF   *os.File
	players []*Player
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu       sync.Mutex
	faults   map[string]int
	busy     map[int]bool // nodes under a fault now
	etcdCut  bool         // an etcd member is cut off now: one at a time keeps the quorum
	down     int          // nodes exited and not yet started again
	stopping bool
}

// Start makes a lab, starts the cluster and the players. Close removes
// everything; Finish stops the players and checks the history.
func Start(cfg Config) (*Env, error) {
	cfg.defaults()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	lab, err := multihost.New(cfg.Dir)
	if err != nil {
		return nil, err
	}
	e := &Env{Lab: lab, cfg: cfg, faults: map[string]int{}, busy: map[int]bool{}}
	fmt.Fprintf(cfg.Log, "lab %s on %s, files in %s\n", lab.ID, lab.Subnet(), cfg.Dir)
	flags := append([]string{
		"-round-time", cfg.RoundTime.String(),
		"-ping-interval", "1s", "-idle-timeout", "10s",
		"-cluster-heartbeat-expiry", "3s", "-drain-timeout", "3s",
	}, cfg.Flags...)
	e.Cluster, err = multihost.StartCluster(lab, multihost.ClusterSpec{Bin: cfg.Bin, Nodes: cfg.Nodes, EtcdMembers: cfg.EtcdMembers, Flags: flags,
		Proxies: slices.Contains(cfg.Kinds, Delay) || slices.Contains(cfg.Kinds, Drop)})
	if err != nil {
		lab.Close()
		return nil, err
	}
	for i, n := range e.Cluster.Nodes() {
		fmt.Fprintf(cfg.Log, "node%d game %s member %s\n", i, n.GameAddr, n.ClusterAddr)
	}
	e.histF, err = os.Create(filepath.Join(cfg.Dir, "history.jsonl"))
	if err != nil {
		lab.Close()
		return nil, err
	}
	e.rec = history.NewRecorder(e.histF)
	var addrs []string
	for _, h := range e.Cluster.Hosts {
		addrs = append(addrs, fmt.Sprintf("%s:%d", h.IP, multihost.GamePort))
	}
	nodes := func() []string { return addrs }
	e.ctx, e.cancel = context.WithCancel(context.Background())
	for i := range cfg.Players {
		p := NewPlayer(i, cfg.Seed, nodes, e.rec)
		e.players = append(e.players, p)
		e.wg.Add(1)
		go func() { defer e.wg.Done(); p.Run(e.ctx) }()
	}
	for i := range cfg.Nodes {
		go e.supervise(i)
	}
	return e, nil
}

// Close stops the players and removes the lab.
func (e *Env) Close() error {
	e.mu.Lock()
	e.stopping = true
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
	if e.histF != nil {
		e.histF.Close()
	}
	return e.Lab.Close()
}

// Rounds is how many rounds the players saw end so far.
func (e *Env) Rounds() int64 {
	var n int64
	for _, p := range e.players {
		n += p.Rounds()
	}
	return n
}

// supervise restarts node i whenever its process ends (killed, or fenced
// and exited), once no fault holds it.
func (e *Env) supervise(i int) {
	for {
		n := e.Cluster.Node(i)
		select {
		case <-n.Exited():
		case <-e.ctx.Done():
			return
		}
		code := n.ExitCode()
		fmt.Fprintf(e.cfg.Log, "%s node%d exited %d\n", stamp(), i, code)
		e.mu.Lock()
		e.down++
		e.mu.Unlock()
		for {
			e.mu.Lock()
			busy, stopping := e.busy[i], e.stopping
			e.mu.Unlock()
			if stopping {
				return
			}
			if !busy {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		err := e.Cluster.StartNode(i)
		e.mu.Lock()
		e.down--
		e.mu.Unlock()
		if err != nil {
			fmt.Fprintf(e.cfg.Log, "%s node%d restart: %v\n", stamp(), i, err)
			time.Sleep(time.Second)
			continue
		}
		fmt.Fprintf(e.cfg.Log, "%s node%d restarted\n", stamp(), i)
	}
}

func stamp() string { return time.Now().UTC().Format("15:04:05.000") }

// hold marks node i as under a fault; false if it already is.
func (e *Env) hold(i int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.busy[i] || e.stopping {
		return false
	}
	e.busy[i] = true
	return true
}

func (e *Env) release(i int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.busy, i)
}

func (e *Env) count(kind string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults[kind]++
}

// KillNode kills node i (SIGKILL); the supervisor starts it again after
// down.
func (e *Env) KillNode(i int, down time.Duration) error {
	if !e.hold(i) {
		return errBusy
	}
	defer time.AfterFunc(down, func() { e.release(i) })
	e.count(Kill)
	fmt.Fprintf(e.cfg.Log, "%s fault kill node%d (down %v)\n", stamp(), i, down)
	e.Cluster.Node(i).Kill()
	return nil
}

// PauseNode stops node i (SIGSTOP) for d, then continues it.
func (e *Env) PauseNode(i int, d time.Duration) error {
	if !e.hold(i) {
		return errBusy
	}
	n := e.Cluster.Node(i)
	if err := n.Signal(syscall.SIGSTOP); err != nil {
		e.release(i)
		return err
	}
	e.count(Pause)
	fmt.Fprintf(e.cfg.Log, "%s fault pause node%d for %v\n", stamp(), i, d)
	time.AfterFunc(d, func() {
		n.Signal(syscall.SIGCONT)
		e.release(i)
	})
	return nil
}

// PartitionNode cuts node i off from the other nodes, and with etcd (and
// PostgreSQL) from those too, for d. Players still reach every node.
func (e *Env) PartitionNode(i int, d time.Duration, etcd, pg bool) error {
	if !e.hold(i) {
		return errBusy
	}
	c := e.Cluster
	me := multihost.Side{Hosts: []*multihost.Host{c.Hosts[i]}, IPs: c.MemberIPs(i)}
	var others multihost.Side
	for j, h := range c.Hosts {
		if j != i {
			others.Hosts = append(others.Hosts, h)
			others.IPs = append(others.IPs, c.MemberIPs(j)...)
		}
	}
	what := "the other nodes"
	add := func(hs ...*multihost.Host) {
		for _, h := range hs {
			others.Hosts = append(others.Hosts, h)
			others.IPs = append(others.IPs, h.IP)
		}
	}
	if etcd {
		add(c.EtcdHosts()...)
		what += " and etcd"
	}
	if pg {
		add(c.PG)
		what += " and PostgreSQL"
	}
	if err := multihost.Partition(me, others); err != nil {
		multihost.HealPartition(me, others)
		e.release(i)
		return err
	}
	e.count(Partition)
	fmt.Fprintf(e.cfg.Log, "%s fault partition node%d from %s for %v\n", stamp(), i, what, d)
	time.AfterFunc(d, func() {
		if err := multihost.HealPartition(me, others); err != nil {
			fmt.Fprintf(e.cfg.Log, "%s heal node%d: %v\n", stamp(), i, err)
		}
		e.release(i)
	})
	return nil
}

// DelayNode holds back everything between node i and the other members
// by `by`, for d: what i receives (its proxy) and what it sends (the
// other nodes' proxies, for connections from i).
func (e *Env) DelayNode(i int, by, d time.Duration) error {
	c := e.Cluster
	if c.Proxies == nil {
		return errors.New("chaos: the cluster runs without delay proxies")
	}
	if !e.hold(i) {
		return errBusy
	}
	set := func(v time.Duration) {
		c.Proxies[i].SetDelay(v)
		for j, p := range c.Proxies {
			if j != i {
				p.SetPeerDelay(c.Hosts[i].IP, v)
			}
		}
	}
	set(by)
	e.count(Delay)
	fmt.Fprintf(e.cfg.Log, "%s fault delay node%d's member traffic by %v for %v\n", stamp(), i, by, d)
	time.AfterFunc(d, func() {
		set(0)
		e.release(i)
	})
	return nil
}

// DropNode makes the links between node i and the other members lossy
// for d, both ways, as DelayNode slows them (multihost.Loss: stalls of a
// retransmission timeout, and resets).
func (e *Env) DropNode(i int, loss multihost.Loss, d time.Duration) error {
	c := e.Cluster
	if c.Proxies == nil {
		return errors.New("chaos: the cluster runs without proxies")
	}
	if !e.hold(i) {
		return errBusy
	}
	set := func(l multihost.Loss) {
		c.Proxies[i].SetLoss(l)
		for j, p := range c.Proxies {
			if j != i {
				l.Seed++ // each link its own decisions
				p.SetPeerLoss(c.Hosts[i].IP, l)
			}
		}
	}
	set(loss)
	e.count(Drop)
	fmt.Fprintf(e.cfg.Log, "%s fault drop on node%d's member links: stall %.2f by %v, reset %.3f, for %v\n",
		stamp(), i, loss.Stall, loss.StallFor, loss.Reset, d)
	time.AfterFunc(d, func() {
		set(multihost.Loss{})
		e.release(i)
	})
	return nil
}

// DelayActors has node i's admin API hold back the messages to its actors
// of kind by `by`, for d (the delay inside a node, between actors).
func (e *Env) DelayActors(i int, kind string, by, d time.Duration) error {
	if !e.hold(i) {
		return errBusy
	}
	c := &admin.Client{Addr: e.Cluster.Node(i).AdminAddr, Token: e.Cluster.Token}
	if _, err := c.Delay(admin.DelayRequest{Kind: kind, By: by.String(), For: d.String()}); err != nil {
		e.release(i)
		return err
	}
	e.count(Delay)
	fmt.Fprintf(e.cfg.Log, "%s fault delay node%d's %s messages by %v for %v\n", stamp(), i, kind, by, d)
	time.AfterFunc(d, func() { e.release(i) })
	return nil
}

// DropActors has node i's admin API drop the fraction drop of the
// messages to its actors of kind, for d (the loss inside a node).
func (e *Env) DropActors(i int, kind string, drop float64, seed uint64, d time.Duration) error {
	if !e.hold(i) {
		return errBusy
	}
	c := &admin.Client{Addr: e.Cluster.Node(i).AdminAddr, Token: e.Cluster.Token}
	if _, err := c.Delay(admin.DelayRequest{Kind: kind, By: "0s", Drop: drop, Seed: seed, For: d.String()}); err != nil {
		e.release(i)
		return err
	}
	e.count(Drop)
	fmt.Fprintf(e.cfg.Log, "%s fault drop %.2f of node%d's %s messages for %v\n", stamp(), drop, i, kind, d)
	time.AfterFunc(d, func() { e.release(i) })
	return nil
}

var errBusy = errors.New("chaos: the node is under a fault already")

// inject runs one fault of kind on a random free node.
func (e *Env) inject(rng *rand.Rand, kind string) error {
	free := []int{}
	for i := range e.cfg.Nodes {
		e.mu.Lock()
		if !e.busy[i] && e.Cluster.Node(i).Alive() {
			free = append(free, i)
		}
		e.mu.Unlock()
	}
	if len(free) == 0 {
		return errBusy
	}
	i := free[rng.IntN(len(free))]
	switch kind {
	case Kill:
		return e.KillNode(i, time.Duration(500+rng.IntN(2000))*time.Millisecond)
	case Pause:
		return e.PauseNode(i, []time.Duration{time.Second, 3 * time.Second, time.Second, 3 * time.Second, 10 * time.Second}[rng.IntN(5)])
	case Partition:
		d := time.Duration(1000+rng.IntN(3000)) * time.Millisecond
		variants := 3
		if e.cfg.EtcdMembers >= 3 {
			variants = 4 // and an etcd member cut off from the others
		}
		switch rng.IntN(variants) {
		case 3:
			return e.PartitionEtcdMember(rng.IntN(e.cfg.EtcdMembers), d)
		case 0:
			return e.PartitionNode(i, d, false, false)
		case 1:
			return e.PartitionNode(i, d, true, false)
		default:
			return e.PartitionNode(i, d, true, true)
		}
	case Delay:
		by, d := time.Duration(100+rng.IntN(400))*time.Millisecond, time.Duration(1000+rng.IntN(3000))*time.Millisecond
		if rng.IntN(2) == 0 {
			// Not sessions: a held-back result lets the room's Terminated
			// (a system message, never held) overtake it, which no link
			// between nodes does; the session then voids a settled round.
			kinds := []string{actors.KindRoom, actors.KindPlayer}
			return e.DelayActors(i, kinds[rng.IntN(len(kinds))], by, d)
		}
		return e.DelayNode(i, by, d)
	case Drop:
		d := time.Duration(1000+rng.IntN(3000)) * time.Millisecond
		if rng.IntN(2) == 0 {
			// Rooms and player actors, as for delay.
			kinds := []string{actors.KindRoom, actors.KindPlayer}
			return e.DropActors(i, kinds[rng.IntN(len(kinds))], 0.05+0.25*rng.Float64(), rng.Uint64()>>11+1, d)
		}
		// Linux retransmits a lost segment after 200 ms at the least, and
		// waits twice as long each time it is lost again.
		loss := multihost.Loss{
			Stall:    0.05 + 0.25*rng.Float64(),
			StallFor: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}[rng.IntN(3)],
			Seed:     rng.Uint64(),
		}
		if rng.IntN(3) == 0 {
			loss.Reset = 0.005 // a link bad enough that TCP gives up now and then
		}
		return e.DropNode(i, loss, d)
	}
	return fmt.Errorf("chaos: unknown fault kind %q", kind)
}

// Faults injects one fault every cfg.Every until ctx ends, going through
// the kinds in a shuffled cycle so that each comes up as often.
func (e *Env) Faults(ctx context.Context) {
	if e.cfg.Every < 0 {
		<-ctx.Done()
		return
	}
	rng := rand.New(rand.NewPCG(e.cfg.Seed, 0xfa))
	var cycle []string
	t := time.NewTicker(e.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if len(cycle) == 0 {
			cycle = slices.Clone(e.cfg.Kinds)
			rng.Shuffle(len(cycle), func(i, j int) { cycle[i], cycle[j] = cycle[j], cycle[i] })
		}
		if err := e.inject(rng, cycle[0]); err == nil {
			cycle = cycle[1:]
		} else if !errors.Is(err, errBusy) {
			fmt.Fprintf(e.cfg.Log, "%s fault %s: %v\n", stamp(), cycle[0], err)
			cycle = cycle[1:]
		}
	}
}

// Finish waits for the faults to end and the nodes to be back, lets every
// player end its round and stop, reads the store, and checks the history.
func (e *Env) Finish() (Result, error) {
	// Faults end within seconds, and restarts within readyTimeout each.
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		e.mu.Lock()
		settled := len(e.busy) == 0 && !e.etcdCut && e.down == 0
		e.mu.Unlock()
		if settled {
			break
		}
	}
	for _, p := range e.players {
		p.Quit()
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(e.cfg.RoundTime + 8*time.Second):
		e.cancel()
		<-done
	}
	e.mu.Lock()
	e.stopping = true
	faults := maps(e.faults)
	e.mu.Unlock()
	if err := e.rec.Err(); err != nil {
		return Result{}, err
	}
	e.histF.Close()
	res := Result{Faults: faults, History: e.histF.Name(), Store: filepath.Join(e.cfg.Dir, "store.jsonl")}
	records, err := e.storeRecords(res.Store)
	if err != nil {
		return res, err
	}
	f, err := os.Open(res.History)
	if err != nil {
		return res, err
	}
	defer f.Close()
	events, err := history.ReadEvents(f)
	if err != nil {
		return res, err
	}
	res.Report = history.Check(events, records, history.Options{})
	return res, nil
}

// storeRecords loads every player's record from PostgreSQL and writes them
// as JSON lines to path.
func (e *Env) storeRecords(path string) ([]history.Record, error) {
	var uids []string
	for _, p := range e.players {
		uids = append(uids, p.UID)
	}
	out, err := ReadStore(e.Cluster.PGURL, uids)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := history.WriteRecords(f, out); err != nil {
		return nil, err
	}
	return out, f.Close()
}

// ReadStore loads the records of uids from the PostgreSQL at url, for the
// checker; a uid without a record is left out.
func ReadStore(url string, uids []string) ([]history.Record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var out []history.Record
	for _, uid := range uids {
		rec, err := st.Load(uid)
		if errors.Is(err, caiquan.ErrNoPlayer) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("chaos: load %s: %w", uid, err)
		}
		r := history.Record{UID: uid, Total: rec.Total, Streak: rec.Streak, Rounds: rec.Rounds}
		for _, a := range rec.Recent {
			r.Recent = append(r.Recent, history.Applied{Round: a.RoundID, Score: a.RoundScore, Total: a.Total, Streak: a.Streak})
		}
		out = append(out, r)
	}
	return out, nil
}

func maps(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// FaultsLine is "faults: kill=N pause=N partition=N delay=N drop=N".
func FaultsLine(f map[string]int) string {
	var parts []string
	for _, k := range AllKinds {
		parts = append(parts, fmt.Sprintf("%s=%d", k, f[k]))
	}
	return "faults: " + strings.Join(parts, " ")
}

// Run starts a cluster and players, injects faults for cfg.For, checks
// the history, and removes the lab.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	e, err := Start(cfg)
	if err != nil {
		return Result{}, err
	}
	defer e.Close()
	fctx, cancel := context.WithTimeout(ctx, cfg.For)
	defer cancel()
	e.Faults(fctx)
	fmt.Fprintf(cfg.Log, "%s faults over; %d rounds ended so far\n", stamp(), e.Rounds())
	res, err := e.Finish()
	if err != nil {
		return res, err
	}
	sort.SliceStable(res.Report.Anomalies, func(i, j int) bool { return res.Report.Anomalies[i].At.Before(res.Report.Anomalies[j].At) })
	return res, nil
}

// LobbyNode is the index of the node that holds the lobby now, by the
// placement every node computes over the member addresses.
func (e *Env) LobbyNode() int {
	var addrs []string
	for _, n := range e.Cluster.Nodes() {
		addrs = append(addrs, n.ClusterAddr)
	}
	return slices.Index(addrs, cluster.PlaceAmong(cluster.LobbyKey, addrs))
}

// PartitionEtcdMember cuts etcd member m off from the other members (the
// nodes still reach it) for d.
func (e *Env) PartitionEtcdMember(m int, d time.Duration) error {
	e.mu.Lock()
	if e.etcdCut || e.stopping {
		e.mu.Unlock()
		return errBusy
	}
	e.etcdCut = true
	e.mu.Unlock()
	release := func() { e.mu.Lock(); e.etcdCut = false; e.mu.Unlock() }
	hs := e.Cluster.EtcdHosts()
	me := multihost.Side{Hosts: []*multihost.Host{hs[m]}, IPs: []string{hs[m].IP}}
	var others multihost.Side
	for j, h := range hs {
		if j != m {
			others.Hosts = append(others.Hosts, h)
			others.IPs = append(others.IPs, h.IP)
		}
	}
	if err := multihost.Partition(me, others); err != nil {
		multihost.HealPartition(me, others)
		release()
		return err
	}
	e.count(Partition)
	fmt.Fprintf(e.cfg.Log, "%s fault partition etcd member %d from the others for %v\n", stamp(), m, d)
	time.AfterFunc(d, func() { multihost.HealPartition(me, others); release() })
	return nil
}

// Rest waits d while the players play.
func (e *Env) Rest(d time.Duration) {
	select {
	case <-time.After(d):
	case <-e.ctx.Done():
	}
}

// Highlights are the lines of the nodes' logs that explain most anomalies
// (fencing, rounds whose player actors did not answer, panics), at most max.
func (e *Env) Highlights(max int) []string {
	files, _ := filepath.Glob(filepath.Join(e.cfg.Dir, "node*-caiquan.log"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "FENCED") || strings.Contains(line, "did not answer") || strings.Contains(line, "panic") {
				if len(out) == max {
					return append(out, "...")
				}
				out = append(out, filepath.Base(f)+": "+line)
			}
		}
	}
	return out
}
