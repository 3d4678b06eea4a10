package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/caiquan/caiquan/cluster"
	"github.com/caiquan/caiquan/gateway"
	"github.com/caiquan/caiquan/internal/zapslog"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/metrics"
)

const (
	// clusterStartTimeout bounds reaching the membership provider.
	clusterStartTimeout = 10 * time.Second
	// clusterStopTimeout bounds leaving the cluster; protoactor's graceful
	// leave alone sleeps 2 s.
	clusterStopTimeout = 5 * time.Second
	// exitFenced is the exit code of a node that cut itself off.
	exitFenced = 3
	// peerProbeEvery paces the probes of the other members whose round
	// trips caiquan_cluster_peer_rtt_seconds shows; peerProbeTimeout
	// bounds one.
	peerProbeEvery   = 5 * time.Second
	peerProbeTimeout = 2 * time.Second
)

// openCluster joins the cluster the settings name; with cluster_provider
// none it does nothing.
func (m *Main) openCluster() error {
	c := m.Config
	if c.ClusterProvider == "" || c.ClusterProvider == cluster.ProviderNone {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartTimeout)
	defer cancel()
	node, err := cluster.Start(ctx, m.system, cluster.Config{
		Provider:        c.ClusterProvider,
		Name:            c.ClusterName,
		EtcdEndpoints:   c.ClusterEtcdEndpoints,
		Peers:           c.ClusterPeers,
		PeerListen:      c.ClusterPeerListen,
		Bind:            c.ClusterBind,
		Advertise:       c.ClusterAdvertise,
		HeartbeatExpiry: c.ClusterHeartbeatExpiry,
		TLS:             cluster.TLSFiles{Cert: c.ClusterTLSCertFile, Key: c.ClusterTLSKeyFile, CA: c.ClusterTLSCAFile},
		EtcdTLS:         cluster.TLSFiles{Cert: c.ClusterEtcdTLSCertFile, Key: c.ClusterEtcdTLSKeyFile, CA: c.ClusterEtcdTLSCAFile},
		Kinds:           []*cluster.Kind{cluster.PingKindDef(), cluster.HTTPKindDef(m.ln.Addr().(*net.TCPAddr).Port)},
		Vocabulary:      messages.Vocabulary,
		VocabularyOf:    messages.VocabularyOf,
		Withheld:        func(string) { m.metrics.Withheld.Inc() },
		Logger:          m.log,
		EtcdLogger:      zapslog.New(withLib(m.log.Handler(), libEtcd), slog.LevelInfo),
	})
	if err != nil {
		return err
	}
	m.cluster = node
	return nil
}

// Fenced is closed when this node cut itself off from its cluster; never
// without a cluster.
func (m *Main) Fenced() <-chan struct{} {
	if m.cluster == nil {
		return nil
	}
	return m.cluster.Fenced()
}

// printCluster writes the cluster lines of the start-up banner.
func (m *Main) printCluster(w io.Writer) {
	if m.cluster == nil {
		return
	}
	var addrs []string
	for _, mem := range m.cluster.Members() {
		addrs = append(addrs, mem.Address)
	}
	fmt.Fprintf(w, "cluster %s node %s\n", m.Config.ClusterName, m.cluster.Address())
	fmt.Fprintf(w, "cluster members %s\n", strings.Join(addrs, " "))
}

// observeCluster points the cluster gauges at the node, and probes the
// other members every peerProbeEvery until stopProbe. protoactor's remote
// has no hook for a message's latency, so the probe's round trip over the
// same connection stands for it.
func (m *Main) observeCluster() {
	if m.cluster == nil {
		return
	}
	node := m.cluster
	m.metrics.ObserveCluster(metrics.ClusterState{
		Members: func() int { return len(node.Members()) },
		Fenced:  func() bool { return node.FenceReason() != nil },
	})
	stop, done := make(chan struct{}), make(chan struct{})
	m.stopProbe = func() { close(stop); <-done }
	go func() {
		defer close(done)
		t := time.NewTicker(peerProbeEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			m.server.PingMembers(peerProbeTimeout, func(member string, rtt time.Duration, err error) {
				if err != nil {
					m.metrics.PeerProbeFailures.Inc()
					m.quiet.Debug("probe:"+member, "cluster: a member did not answer a probe", "member", member, "err", err)
					return
				}
				m.metrics.PeerRTT.Observe(rtt.Seconds())
			})
		}
	}()
}

// stopActors leaves the cluster, which also shuts the actor system down,
// or just shuts it down on a single node.
func (m *Main) stopActors() {
	if m.cluster == nil {
		m.system.Shutdown()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterStopTimeout)
	defer cancel()
	if err := m.cluster.Stop(ctx); err != nil {
		m.log.Warn("leaving the cluster", "err", err)
	}
}

// clusterPeers tells the gateway where the other nodes' game listeners are,
// from the member list: each member publishes its HTTP port
// (cluster.HTTPKindDef) and is reached on the host of its cluster address.
type clusterPeers struct{ node *cluster.Node }

func (p clusterPeers) SelfTag() string { return gateway.NodeTag(p.node.Address()) }

func (p clusterPeers) HTTPAddr(tag string) (string, bool) {
	for _, m := range p.node.Members() {
		if gateway.NodeTag(m.Address) == tag {
			return m.HTTPAddr()
		}
	}
	return "", false
}
