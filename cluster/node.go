package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/etcd"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/remote"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// etcdBaseKey is the prefix of every key the etcd provider writes: a
// member is /caiquan/NAME/NAME@SYSTEM-ID, under a lease.
const etcdBaseKey = "/caiquan"

// Member is one member of the cluster as the provider reports it.
type Member struct {
	ID      string   // the provider's member id
	Address string   // host:port of its remote listener
	Kinds   []string // grain kinds it hosts
}

// Fence says why this member cut itself off.
type Fence struct {
	Reason string
	At     time.Time
}

// Node is this process's membership in a cluster, started on an actor
// system that the caller owns until Stop (which shuts it down).
type Node struct {
	cfg    Config
	system *actor.ActorSystem
	c      *pcluster.Cluster
	log    *slog.Logger
	self   string // our advertised address

	etcd      *clientv3.Client // ours, for the start-up probe and fencing
	memberKey string
	peerLn    net.Listener // automanaged health listener

	topoSub *eventstream.Subscription

	mu      sync.Mutex
	members []*pcluster.Member
	joined  bool // we have appeared in our own member list
	fence   *Fence

	// addrList is the member addresses, sorted, for placement without
	// the lock; onChange is called after it changes.
	addrList atomic.Pointer[[]string]
	vocabs   atomic.Pointer[map[string]int] // member address -> vocabulary
	onChange atomic.Pointer[func()]
	lastTick atomic.Int64 // the pause watch's last tick, unix ns

	fenced   chan struct{} // closed when fenced
	isFenced atomic.Bool
	stopping atomic.Bool
	stop     chan struct{}
	wg       sync.WaitGroup
}

// Start joins the cluster: it checks that the provider answers (an error
// names the endpoint if not), starts protoactor's remote and cluster on
// system, and watches for this member being cut off.
func Start(ctx context.Context, system *actor.ActorSystem, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	n := &Node{
		cfg:    cfg,
		system: system,
		log:    cfg.Logger,
		fenced: make(chan struct{}),
		stop:   make(chan struct{}),
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	n.log = n.log.With("component", "cluster")

	// The remote panics if it cannot bind (remote/server.go:62-65); find
	// out first, so that the error names the setting.
	ln, err := net.Listen("tcp", cfg.Bind)
	if err != nil {
		return nil, fmt.Errorf("cluster: bind %s: %w", cfg.Bind, err)
	}
	ln.Close()
	host, portStr, _ := net.SplitHostPort(cfg.Bind)
	port, _ := strconv.Atoi(portStr)
	var ropts []remote.ConfigOption
	if cfg.Advertise != "" {
		ropts = append(ropts, remote.WithAdvertisedHost(cfg.Advertise))
	}
	// grpc waits 120 s by default for a new connection's handshake; a
	// client that connects and says nothing holds it that long.
	sopts := []grpc.ServerOption{grpc.ConnectionTimeout(handshakeTimeout)}
	if cfg.TLS.set() {
		server, client, err := memberTLS(cfg.TLS, cfg.Name)
		if err != nil {
			return nil, err
		}
		sopt, dopt := grpcOptions(server, client)
		sopts = append(sopts, sopt)
		// WithDialOptions replaces the remote's default, grpc.WithInsecure.
		ropts = append(ropts, remote.WithDialOptions(dopt))
	}
	ropts = append(ropts, remote.WithServerOptions(sopts...))
	remoteCfg := remote.Configure(host, port, ropts...)

	var provider pcluster.ClusterProvider
	switch cfg.Provider {
	case ProviderEtcd:
		provider, err = n.openEtcd(ctx)
	case ProviderAutomanaged:
		provider, err = n.openAutomanaged()
	}
	if err != nil {
		n.closeProviderClients()
		return nil, err
	}

	kinds := cfg.Kinds
	if v := cfg.vocabulary(); v > 1 {
		kinds = append(slices.Clone(kinds), vocabularyKind(v))
	}
	pcfg := pcluster.Configure(cfg.Name, provider, disthash.New(), remoteCfg,
		pcluster.WithKinds(kinds...),
		pcluster.WithHeartbeatExpiration(cfg.heartbeatExpiry()),
	)
	n.c = pcluster.New(system, pcfg)
	n.topoSub = system.EventStream.Subscribe(func(evt any) {
		if t, ok := evt.(*pcluster.ClusterTopology); ok {
			n.onTopology(t.Members)
		}
	})
	n.gateRemote()
	// StartMember panics on a provider error (cluster.go:107-109) and
	// sleeps a second at the end (cluster.go:111).
	if err := startMember(n.c); err != nil {
		system.EventStream.Unsubscribe(n.topoSub)
		n.closeProviderClients()
		return nil, fmt.Errorf("cluster: start member: %w", err)
	}
	n.self = system.Address()

	if cfg.Provider == ProviderEtcd {
		if err := n.startEtcdWatch(ctx); err != nil {
			n.Stop(context.Background())
			return nil, err
		}
	}
	n.wg.Add(1)
	go n.watchPauses()
	n.log.Info("joined the cluster", "name", cfg.Name, "provider", cfg.Provider, "address", n.self, "id", system.ID, "tls", cfg.TLS.set())
	return n, nil
}

func startMember(c *pcluster.Cluster) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	c.StartMember()
	return nil
}

// openEtcd checks that etcd answers within ctx and makes the provider.
// The library's own client has no deadline on any call (context.TODO in
// etcd_provider.go), so without this check an unreachable etcd would hang
// start-up for ever.
func (n *Node) openEtcd(ctx context.Context) (pcluster.ClusterProvider, error) {
	endpoints := strings.Join(n.cfg.EtcdEndpoints, ",")
	ccfg := clientv3.Config{
		Endpoints:   n.cfg.EtcdEndpoints,
		DialTimeout: time.Until(deadline(ctx)),
		Logger:      n.cfg.EtcdLogger,
	}
	if ccfg.Logger == nil {
		ccfg.Logger = zap.NewNop() // the client's own default writes to stderr
	}
	if n.cfg.EtcdTLS.set() {
		tc, err := etcdTLS(n.cfg.EtcdTLS)
		if err != nil {
			return nil, err
		}
		ccfg.TLS = tc
	}
	client, err := clientv3.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: cannot reach etcd at %s: %w", endpoints, err)
	}
	n.etcd = client
	if _, err := client.Get(ctx, etcdBaseKey+"/"+n.cfg.Name+"/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		return nil, fmt.Errorf("cluster: cannot reach etcd at %s: %w", endpoints, err)
	}
	ccfg.DialTimeout = startTimeout
	p, err := etcd.NewWithConfig(etcdBaseKey, ccfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: etcd client for %s: %w", endpoints, err)
	}
	return p, nil
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

func (n *Node) closeProviderClients() {
	if n.etcd != nil {
		n.etcd.Close()
	}
	if n.peerLn != nil {
		n.peerLn.Close()
	}
}

// onTopology keeps our copy of the member list (the library's
// MemberList.Members reads its field without the lock, member_list.go:124)
// and fences us once we drop out of it. It runs inside the library's
// UpdateClusterTopology, under its lock: it must not block.
func (n *Node) onTopology(members []*pcluster.Member) {
	self := n.system.Address()
	present := slices.ContainsFunc(members, func(m *pcluster.Member) bool { return m.Address() == self })
	n.mu.Lock()
	n.members = slices.Clone(members)
	wasJoined := n.joined
	if present {
		n.joined = true
	}
	n.mu.Unlock()
	n.setVocabularies(members)
	addrs := make([]string, 0, len(members))
	for _, m := range members {
		addrs = append(addrs, m.Address())
	}
	n.setAddrs(addrs)
	if wasJoined && !present && !n.stopping.Load() {
		n.Fence(fmt.Sprintf("this member (%s) is no longer in the member list the provider reports (%d others)", self, len(members)))
	}
}

// Address is this member's advertised host:port.
func (n *Node) Address() string { return n.self }

// ID is this member's actor system id.
func (n *Node) ID() string { return n.system.ID }

// Cluster is protoactor's cluster underneath, for what this package does
// not wrap. Calls through it have none of Call's deadlines.
func (n *Node) Cluster() *pcluster.Cluster { return n.c }

// Members is the member list as this member last saw it, sorted by
// address; it includes this member unless it was cut off.
func (n *Node) Members() []Member {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Member, 0, len(n.members))
	for _, m := range n.members {
		out = append(out, Member{ID: m.Id, Address: m.Address(), Kinds: slices.Clone(m.Kinds)})
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Address, b.Address) })
	return out
}

// Owner is the address of the member that hosts identity of kind, as this
// member's member list places it (rendezvous hashing, as disthash does).
// "" when no member hosts kind.
func (n *Node) Owner(kind, identity string) string {
	n.mu.Lock()
	members := slices.Clone(n.members)
	n.mu.Unlock()
	r := pcluster.NewRendezvous()
	r.UpdateMembers(members)
	return r.GetByClusterIdentity(pcluster.NewClusterIdentity(identity, kind))
}

// Fenced is closed once this member has cut itself off; FenceReason says why.
func (n *Node) Fenced() <-chan struct{} { return n.fenced }

// FenceReason is why this member fenced itself, or nil.
func (n *Node) FenceReason() *Fence {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.fence
}

// Fence cuts this member off: Call refuses from now on and Fenced is
// closed. It is idempotent; the first reason stays.
func (n *Node) Fence(reason string) {
	n.mu.Lock()
	if n.fence != nil {
		n.mu.Unlock()
		return
	}
	n.fence = &Fence{Reason: reason, At: time.Now()}
	n.isFenced.Store(true)
	n.mu.Unlock()
	n.log.Error("FENCED: this member is cut off from the cluster and must stop taking players", "reason", reason)
	close(n.fenced)
}

// Stop leaves the cluster and shuts the actor system down (protoactor's
// Shutdown does both, cluster.go:141-158). It returns when done or when
// ctx ends; a graceful leave sleeps 2 s on its own (cluster.go:148) and
// deregistering from an unreachable etcd never returns.
func (n *Node) Stop(ctx context.Context) error {
	if !n.stopping.CompareAndSwap(false, true) {
		return nil
	}
	close(n.stop)
	n.wg.Wait()
	n.system.EventStream.Unsubscribe(n.topoSub)
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.c.Shutdown(true)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("cluster: leave did not finish: %w", ctx.Err())
	}
	n.closeProviderClients()
	return err
}

// errNotMember is what Start reports when etcd lost our key before we
// could watch it.
var errNotMember = errors.New("cluster: etcd does not list this member")
