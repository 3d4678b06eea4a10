package cluster

import (
	"errors"
	"fmt"
	"log/slog"

	"go.uber.org/zap"
	"net"
	"strconv"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
)

// Providers of membership.
const (
	ProviderNone        = "none"        // a single node; Start refuses it
	ProviderEtcd        = "etcd"        // members register under a lease in etcd
	ProviderAutomanaged = "automanaged" // members health-check a static list of peers
)

// Defaults of the knobs a deployment rarely turns.
const (
	// DefaultHeartbeatExpiry is the gossip heartbeat expiry: a member not
	// heard from for this long is blocked by the others (automanaged; see
	// doc.go for etcd).
	DefaultHeartbeatExpiry = 10 * time.Second
	// DefaultCallTimeout bounds a Call whose context has no deadline.
	DefaultCallTimeout = 5 * time.Second
	// etcdLeaseTTL is the etcd provider's lease, fixed at 3 s in the
	// library (etcd_provider.go:50); keep-alives go out every TTL/3.
	etcdLeaseTTL = 3 * time.Second
	// automanagedRefresh is how often automanaged members health-check
	// their peers; a peer that misses one check leaves.
	automanagedRefresh = 2 * time.Second
	// startTimeout bounds reaching the provider when Start's context has
	// no deadline.
	startTimeout = 5 * time.Second
	// handshakeTimeout bounds a new connection to the remote's listener
	// from accept to a finished handshake (TLS included).
	handshakeTimeout = 10 * time.Second
)

// Config is one member's view of the cluster.
type Config struct {
	// Provider is ProviderEtcd or ProviderAutomanaged.
	Provider string
	// Name is the cluster's name; members of different names ignore each other.
	Name string
	// EtcdEndpoints are etcd's client addresses, host:port.
	EtcdEndpoints []string
	// Peers are every member's automanaged health address, host:port,
	// this member's own (PeerListen) included.
	Peers []string
	// PeerListen is where this member answers the peers' health checks
	// (automanaged only).
	PeerListen string
	// Bind is the host:port the member's remote (gRPC) listener binds;
	// port 0 picks one.
	Bind string
	// Advertise is the host:port other members dial; empty means the
	// address Bind ended up on.
	Advertise string
	// Kinds are the grain kinds this member hosts.
	Kinds []*pcluster.Kind
	// HeartbeatExpiry is the gossip heartbeat expiry; 0 means
	// DefaultHeartbeatExpiry.
	HeartbeatExpiry time.Duration
	// PauseLimit is the longest stall of this process (SIGSTOP, a frozen
	// VM) after which it fences itself; 0 means the provider's limit (see
	// pauseLimit).
	PauseLimit time.Duration
	// TLS is this member's certificate, key and the CA of every member's
	// certificate: with it, members talk mutual TLS and accept only peers
	// whose certificate the CA signed for Name. Without it the remote is
	// plain gRPC, which Validate allows on a loopback Bind only.
	TLS TLSFiles
	// EtcdTLS is the etcd client's TLS: the CA of etcd's certificate and,
	// for an etcd that checks clients, our certificate and key. Without
	// it etcd is spoken to in plain text, which Validate allows only to
	// loopback endpoints.
	EtcdTLS TLSFiles
	// Vocabulary is the number of the set of message types this member
	// speaks (messages.Vocabulary); it tells the others by a kind it
	// registers. 0 means 1, and registers nothing.
	Vocabulary int
	// VocabularyOf is the vocabulary a member must speak to take a
	// message; a message whose type the receiving member's vocabulary
	// lacks is withheld. Nil sends everything.
	VocabularyOf func(msg any) int
	// Withheld, if set, is told the type name of each message withheld.
	Withheld func(typeName string)
	// Logger receives this package's own notes; nil means slog.Default().
	Logger *slog.Logger
	// EtcdLogger is the etcd clients' log (ours and the provider's); nil
	// discards it.
	EtcdLogger *zap.Logger
}

// Validate checks the settings Start needs.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("cluster: "+format, args...)) }
	switch c.Provider {
	case ProviderEtcd:
		if len(c.EtcdEndpoints) == 0 {
			bad("the etcd provider needs at least one etcd endpoint")
		}
		for _, e := range c.EtcdEndpoints {
			if !hostPort(e, false) {
				bad("etcd endpoint %q is not host:port", e)
			} else if host, _, _ := net.SplitHostPort(e); !isLoopback(host) && c.EtcdTLS.CA == "" {
				bad("etcd endpoint %q is beyond loopback: the etcd client needs TLS (a CA, and a certificate and key if etcd checks clients)", e)
			}
		}
	case ProviderAutomanaged:
		if !hostPort(c.PeerListen, false) {
			bad("the automanaged provider needs a peer listen address host:port, got %q", c.PeerListen)
		}
		if len(c.Peers) == 0 {
			bad("the automanaged provider needs its peers")
		}
		for _, p := range c.Peers {
			if !hostPort(p, false) {
				bad("peer %q is not host:port", p)
			}
		}
		// The library's health checks are plain HTTP that anyone who
		// reaches them can answer or read; etcd is for real networks.
		for _, a := range append([]string{c.PeerListen}, c.Peers...) {
			if host, _, err := net.SplitHostPort(a); err == nil && !isLoopback(host) {
				bad("automanaged peer address %q is beyond loopback: its health checks are plain HTTP; use the etcd provider", a)
			}
		}
	default:
		bad("provider must be %q or %q, got %q", ProviderEtcd, ProviderAutomanaged, c.Provider)
	}
	if c.Name == "" {
		bad("the cluster needs a name")
	}
	if !hostPort(c.Bind, true) {
		bad("bind must be host:port, got %q", c.Bind)
	} else if host, _, _ := net.SplitHostPort(c.Bind); !isLoopback(host) && !c.TLS.set() {
		bad("bind %q listens beyond loopback: members must talk mutual TLS (a certificate, key and CA)", c.Bind)
	}
	if c.TLS.set() && (c.TLS.Cert == "" || c.TLS.Key == "" || c.TLS.CA == "") {
		bad("TLS needs all three of a certificate, a key and a CA")
	}
	if c.EtcdTLS.set() && (c.EtcdTLS.CA == "" || (c.EtcdTLS.Cert == "") != (c.EtcdTLS.Key == "")) {
		bad("etcd TLS needs a CA, and a certificate and key together or neither")
	}
	if c.Advertise != "" && !hostPort(c.Advertise, false) {
		bad("advertise must be host:port with a port other than 0, got %q", c.Advertise)
	} else if host, _, _ := net.SplitHostPort(c.Advertise); c.Advertise != "" && !isLoopback(host) && !c.TLS.set() {
		bad("advertise %q is beyond loopback: members must talk mutual TLS (a certificate, key and CA)", c.Advertise)
	}
	if c.HeartbeatExpiry < 0 || c.PauseLimit < 0 {
		bad("heartbeat expiry and pause limit must not be negative")
	}
	return errors.Join(errs...)
}

// hostPort reports whether s is host:port with a host and a port number
// (0 only when zeroOK).
func hostPort(s string, zeroOK bool) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return false
	}
	p, err := strconv.Atoi(port)
	return err == nil && p >= 0 && p <= 65535 && (p > 0 || zeroOK)
}

func (c Config) heartbeatExpiry() time.Duration {
	if c.HeartbeatExpiry > 0 {
		return c.HeartbeatExpiry
	}
	return DefaultHeartbeatExpiry
}

// pauseLimit is the longest stall the others cannot have noticed: less
// than the etcd lease (whose last keep-alive may be a third of it old), or
// than automanaged's health-check period, and than the heartbeat expiry.
func (c Config) pauseLimit() time.Duration {
	if c.PauseLimit > 0 {
		return c.PauseLimit
	}
	limit := automanagedRefresh
	if c.Provider == ProviderEtcd {
		limit = etcdLeaseTTL * 2 / 3
	}
	return min(limit, c.heartbeatExpiry()/2)
}
