package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
)

func TestValidate(t *testing.T) {
	good := Config{Provider: ProviderEtcd, Name: "c", EtcdEndpoints: []string{"127.0.0.1:2379"}, Bind: "127.0.0.1:0"}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" means valid
	}{
		{"etcd", func(c *Config) {}, ""},
		{"automanaged", func(c *Config) {
			c.Provider, c.EtcdEndpoints, c.PeerListen, c.Peers = ProviderAutomanaged, nil, "127.0.0.1:6330", []string{"127.0.0.1:6330"}
		}, ""},
		{"none", func(c *Config) { c.Provider = ProviderNone }, `provider must be "etcd" or "automanaged", got "none"`},
		{"no endpoints", func(c *Config) { c.EtcdEndpoints = nil }, "needs at least one etcd endpoint"},
		{"bad endpoint", func(c *Config) { c.EtcdEndpoints = []string{"http://x:2379"} }, `etcd endpoint "http://x:2379" is not host:port`},
		{"no peer listen", func(c *Config) { c.Provider = ProviderAutomanaged; c.Peers = []string{"127.0.0.1:1"} }, "needs a peer listen address"},
		{"no name", func(c *Config) { c.Name = "" }, "needs a name"},
		{"bad bind", func(c *Config) { c.Bind = "127.0.0.1" }, "bind must be host:port"},
		{"advertise port 0", func(c *Config) { c.Advertise = "127.0.0.1:0" }, "advertise must be host:port"},
		{"bind beyond loopback", func(c *Config) { c.Bind = "0.0.0.0:8090" }, `bind "0.0.0.0:8090" listens beyond loopback: members must talk mutual TLS`},
		{"bind beyond loopback with TLS", func(c *Config) { c.Bind, c.TLS = "0.0.0.0:8090", TLSFiles{"c", "k", "ca"} }, ""},
		{"advertise beyond loopback", func(c *Config) { c.Advertise = "10.0.0.5:8090" }, `advertise "10.0.0.5:8090" is beyond loopback`},
		{"TLS without CA", func(c *Config) { c.TLS = TLSFiles{Cert: "c", Key: "k"} }, "TLS needs all three"},
		{"etcd beyond loopback", func(c *Config) { c.EtcdEndpoints = []string{"10.0.0.2:2379"} }, `etcd endpoint "10.0.0.2:2379" is beyond loopback`},
		{"etcd beyond loopback with TLS", func(c *Config) { c.EtcdEndpoints, c.EtcdTLS = []string{"10.0.0.2:2379"}, TLSFiles{CA: "ca"} }, ""},
		{"etcd cert without key", func(c *Config) { c.EtcdTLS = TLSFiles{Cert: "c", CA: "ca"} }, "etcd TLS needs a CA, and a certificate and key together"},
		{"automanaged beyond loopback", func(c *Config) {
			c.Provider, c.EtcdEndpoints, c.PeerListen, c.Peers = ProviderAutomanaged, nil, "127.0.0.1:6330", []string{"127.0.0.1:6330", "10.0.0.5:6330"}
		}, `automanaged peer address "10.0.0.5:6330" is beyond loopback`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestPauseLimit keeps the pause limit below what the others tolerate.
func TestPauseLimit(t *testing.T) {
	tests := []struct {
		cfg  Config
		want time.Duration
	}{
		{Config{Provider: ProviderEtcd}, 2 * time.Second},                               // 2/3 of the 3 s lease
		{Config{Provider: ProviderEtcd, HeartbeatExpiry: 2 * time.Second}, time.Second}, // half the expiry
		{Config{Provider: ProviderAutomanaged}, automanagedRefresh},                     // one health check
		{Config{Provider: ProviderEtcd, PauseLimit: 7 * time.Second}, 7 * time.Second},  // as set
	}
	for _, tt := range tests {
		if got := tt.cfg.pauseLimit(); got != tt.want {
			t.Errorf("%+v: pauseLimit() = %v, want %v", tt.cfg, got, tt.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	for _, err := range []error{errNoOwner, actor.ErrTimeout, actor.ErrDeadLetter, remote.ErrTimeout, remote.ErrDeadLetter, context.DeadlineExceeded} {
		if !retryable(err) {
			t.Errorf("%v is not retried", err)
		}
	}
	for _, err := range []error{errors.New("answer is not a protobuf message"), ErrFenced} {
		if retryable(err) {
			t.Errorf("%v is retried", err)
		}
	}
}
