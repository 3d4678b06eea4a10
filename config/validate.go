package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Validate reports every setting that is out of range, each on its own
// line naming the setting; nil means the server may start.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: "+format, args...))
	}

	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		bad(`listen must be host:port such as ":8080", got %q`, c.Listen)
	}
	switch p := c.SocketIOPrefix; {
	case !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/"):
		bad(`socketio_prefix must start and end with "/", got %q`, p)
	case p == "/":
		bad(`socketio_prefix must not be "/", which would take every path`)
	case p == "/ws/":
		bad(`socketio_prefix must not be "/ws/", the native protocol's path`)
	}
	if c.RoomSize < 2 || c.RoomSize > 16 {
		bad("room_size must be between 2 and 16, got %d", c.RoomSize)
	}
	// Below 100 ms a round is shorter than a phone's round trip; the wire's
	// gameTime rounds up to whole seconds for the 2016 client.
	if c.RoundTime < 100*time.Millisecond || c.RoundTime > 600*time.Second {
		bad("round_time must be between 100ms and 600s, got %v", c.RoundTime)
	}
	if c.BotFill <= 0 || c.BotFill > time.Minute {
		bad("bot_fill must be more than 0 and at most 1m0s, got %v", c.BotFill)
	}
	if c.BotFirstChoice < 0 || c.BotFirstChoice >= c.RoundTime {
		bad("bot_first_choice must be at least 0 and less than round_time (%v), got %v", c.RoundTime, c.BotFirstChoice)
	}
	if c.BotRechooseMin <= 0 {
		bad("bot_rechoose_min must be more than 0, got %v", c.BotRechooseMin)
	}
	if c.BotRechooseMax < c.BotRechooseMin {
		bad("bot_rechoose_max must be at least bot_rechoose_min (%v), got %v", c.BotRechooseMin, c.BotRechooseMax)
	}
	if c.MaxFrameBytes < 256 || c.MaxFrameBytes > 1<<20 {
		bad("max_frame_bytes must be between 256 and 1048576, got %d", c.MaxFrameBytes)
	}
	if !(c.RateLimit > 0) || math.IsInf(c.RateLimit, 0) {
		bad("rate_limit must be a number more than 0, got %v", c.RateLimit)
	}
	if c.RateBurst < 1 {
		bad("rate_burst must be at least 1, got %d", c.RateBurst)
	}
	if c.HandshakeTimeout <= 0 {
		bad("handshake_timeout must be more than 0, got %v", c.HandshakeTimeout)
	}
	if c.PingInterval <= 0 {
		bad("ping_interval must be more than 0, got %v", c.PingInterval)
	}
	// A pong can only arrive after a ping, so a shorter idle timeout would
	// close every quiet but healthy connection.
	if c.IdleTimeout <= c.PingInterval {
		bad("idle_timeout must be more than ping_interval (%v), got %v", c.PingInterval, c.IdleTimeout)
	}
	if c.OutboundQueue < 1 || c.OutboundQueue > 100000 {
		bad("outbound_queue must be between 1 and 100000, got %d", c.OutboundQueue)
	}
	for i, o := range c.AllowedOrigins {
		if !validOrigin(o) {
			bad(`allowed_origins[%d] must be "*" or an origin such as "https://example.com:8443" (no path), got %q`, i, o)
		}
	}
	if c.DrainTimeout <= 0 {
		bad("drain_timeout must be more than 0, got %v", c.DrainTimeout)
	}
	if c.AdminListen != "" {
		host, port, err := net.SplitHostPort(c.AdminListen)
		switch {
		case err != nil || port == "":
			bad(`admin_listen must be host:port such as "127.0.0.1:8081", or empty, got %q`, c.AdminListen)
		case !IsLoopback(host) && c.AdminToken == "":
			bad("admin_listen %q is not a loopback address, so admin_token is required", c.AdminListen)
		}
	}
	if c.PprofListen != "" {
		host, port, err := net.SplitHostPort(c.PprofListen)
		if err != nil || port == "" || !IsLoopback(host) {
			bad(`pprof_listen must be a loopback host:port such as "127.0.0.1:6060", or empty, got %q`, c.PprofListen)
		}
	}
	if c.MemoryLimitMiB != 0 && (c.MemoryLimitMiB < 64 || c.MemoryLimitMiB > 1<<20) {
		bad("memory_limit_mib must be 0 (off) or between 64 and 1048576, got %d", c.MemoryLimitMiB)
	}
	if c.GCPercent < 10 || c.GCPercent > 10000 {
		bad("gc_percent must be between 10 and 10000, got %d", c.GCPercent)
	}
	switch c.Store {
	case StoreBolt:
		if c.StorePath == "" {
			bad("store_path must name the bbolt file when store is bolt")
		}
		if c.ClusterProvider == "etcd" || c.ClusterProvider == "automanaged" {
			// A uid's player moves between nodes with the member list; its
			// record must be where every node reads it.
			bad("store bolt keeps player records in one node's file; with cluster_provider %s use store postgres, shared by every node (or memory, which forgets)", c.ClusterProvider)
		}
	case StorePostgres:
		if c.PostgresURL == "" {
			bad("postgres_url is required when store is postgres, e.g. postgres://user:pass@127.0.0.1:5432/caiquan")
		}
	case StoreMemory:
	default:
		bad("store must be bolt, postgres or memory, got %q", c.Store)
	}
	switch c.AuthMode {
	case AuthWeChat:
		// The hint comes once, on the first line it applies to.
		hint := " (or auth_mode: anonymous, as make run does, for the demo without login)"
		need := func(format string, args ...any) { bad(format+hint, args...); hint = "" }
		if len(c.AuthSecret) < minAuthSecret {
			if c.AuthSecret == "" {
				need("auth_secret is required when auth_mode is wechat: at least %d bytes, e.g. from `openssl rand -base64 48`", minAuthSecret)
			} else {
				need("auth_secret must be at least %d bytes, got %d", minAuthSecret, len(c.AuthSecret))
			}
		}
		if c.WeChatAppID == "" {
			need("wechat_appid is required when auth_mode is wechat: the mini-program's AppID")
		}
		if c.WeChatSecret == "" {
			need("wechat_secret is required when auth_mode is wechat: the mini-program's AppSecret")
		}
	case AuthAnonymous:
	default:
		bad("auth_mode must be wechat or anonymous, got %q", c.AuthMode)
	}
	if c.TokenTTL < time.Second {
		bad("token_ttl must be at least 1s, got %v", c.TokenTTL)
	}
	if u, err := url.Parse(c.WeChatAPIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad(`wechat_api_base must be an http or https URL such as "https://api.weixin.qq.com", got %q`, c.WeChatAPIBase)
	}
	if c.LoginTimeout <= 0 {
		bad("login_timeout must be more than 0, got %v", c.LoginTimeout)
	}

	c.validateCluster(bad)
	return errors.Join(errs...)
}

// minAuthSecret is the shortest auth_secret, in bytes (auth.MinSecret).
const minAuthSecret = 32

// validateCluster checks the cluster settings; with cluster_provider none
// the others are not used, so only their form is checked.
func (c Config) validateCluster(bad func(string, ...any)) {
	switch c.ClusterProvider {
	case "none", "etcd", "automanaged":
	default:
		bad(`cluster_provider must be "none", "etcd" or "automanaged", got %q`, c.ClusterProvider)
		return
	}
	if c.ClusterProvider == "none" {
		return
	}
	if c.ClusterName == "" || strings.ContainsAny(c.ClusterName, "/@ ") {
		bad(`cluster_name must be a name without "/", "@" or spaces, got %q`, c.ClusterName)
	}
	if c.ClusterProvider == "etcd" {
		if len(c.ClusterEtcdEndpoints) == 0 {
			bad("cluster_etcd_endpoints must list at least one host:port when cluster_provider is etcd")
		}
		for i, e := range c.ClusterEtcdEndpoints {
			if !isHostPort(e, false) {
				bad(`cluster_etcd_endpoints[%d] must be host:port such as "127.0.0.1:2379", got %q`, i, e)
			} else if host, _, _ := net.SplitHostPort(e); !IsLoopback(host) && c.ClusterEtcdTLSCAFile == "" {
				bad("cluster_etcd_endpoints[%d] %q is beyond loopback, so cluster_etcd_tls_ca_file is required (and cluster_etcd_tls_cert_file and cluster_etcd_tls_key_file if etcd checks clients)", i, e)
			}
		}
		if (c.ClusterEtcdTLSCertFile != "" || c.ClusterEtcdTLSKeyFile != "") && c.ClusterEtcdTLSCAFile == "" {
			bad("cluster_etcd_tls_ca_file is required with cluster_etcd_tls_cert_file and cluster_etcd_tls_key_file: the CA of etcd's certificate")
		}
		if c.ClusterEtcdTLSCertFile == "" && c.ClusterEtcdTLSKeyFile != "" {
			bad("cluster_etcd_tls_cert_file is required with cluster_etcd_tls_key_file")
		}
		if c.ClusterEtcdTLSKeyFile == "" && c.ClusterEtcdTLSCertFile != "" {
			bad("cluster_etcd_tls_key_file is required with cluster_etcd_tls_cert_file")
		}
	}
	if c.ClusterProvider == "automanaged" {
		if !isHostPort(c.ClusterPeerListen, false) {
			bad(`cluster_peer_listen must be host:port such as "127.0.0.1:6330" when cluster_provider is automanaged, got %q`, c.ClusterPeerListen)
		}
		if len(c.ClusterPeers) == 0 {
			bad("cluster_peers must list every node's peer address when cluster_provider is automanaged")
		}
		for i, p := range c.ClusterPeers {
			if !isHostPort(p, false) {
				bad(`cluster_peers[%d] must be host:port, got %q`, i, p)
			}
		}
		// protoactor's automanaged provider health-checks peers over plain
		// HTTP (echo), which nothing authenticates: loopback only.
		const why = "is beyond loopback: cluster_provider automanaged health-checks peers over plain HTTP, so it runs on loopback only; across machines use cluster_provider etcd"
		if host, _, err := net.SplitHostPort(c.ClusterPeerListen); err == nil && !IsLoopback(host) {
			bad("cluster_peer_listen %q %s", c.ClusterPeerListen, why)
		}
		for i, p := range c.ClusterPeers {
			if host, _, err := net.SplitHostPort(p); err == nil && !IsLoopback(host) {
				bad("cluster_peers[%d] %q %s", i, p, why)
			}
		}
	}
	tlsSet := c.ClusterTLSCertFile != "" || c.ClusterTLSKeyFile != "" || c.ClusterTLSCAFile != ""
	for _, f := range []struct{ name, val string }{
		{"cluster_tls_cert_file", c.ClusterTLSCertFile},
		{"cluster_tls_key_file", c.ClusterTLSKeyFile},
		{"cluster_tls_ca_file", c.ClusterTLSCAFile},
	} {
		if tlsSet && f.val == "" {
			bad("%s is required: mutual TLS needs cluster_tls_cert_file, cluster_tls_key_file and cluster_tls_ca_file together", f.name)
		}
	}
	if !isHostPort(c.ClusterBind, true) {
		bad(`cluster_bind must be host:port such as "127.0.0.1:8090", got %q`, c.ClusterBind)
	} else if host, _, _ := net.SplitHostPort(c.ClusterBind); !IsLoopback(host) && !tlsSet {
		bad("cluster_bind %q listens beyond loopback, so mutual TLS is required: set cluster_tls_cert_file, cluster_tls_key_file and cluster_tls_ca_file (caiquan cert makes a development set)", c.ClusterBind)
	}
	if c.ClusterAdvertise != "" && !isHostPort(c.ClusterAdvertise, false) {
		bad(`cluster_advertise must be host:port with a port, or empty, got %q`, c.ClusterAdvertise)
	}
	if c.ClusterHeartbeatExpiry < time.Second || c.ClusterHeartbeatExpiry > 10*time.Minute {
		bad("cluster_heartbeat_expiry must be between 1s and 10m0s, got %v", c.ClusterHeartbeatExpiry)
	}
}

// isHostPort reports whether s is host:port with a host and a port number,
// 0 only when zeroOK.
func isHostPort(s string, zeroOK bool) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return false
	}
	p, err := strconv.Atoi(port)
	return err == nil && p >= 0 && p <= 65535 && (p > 0 || zeroOK)
}

// IsLoopback reports whether host names only this machine: "localhost" or
// an address in 127.0.0.0/8 or ::1. An empty host means every interface.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validOrigin accepts "*" or what a browser sends as Origin: scheme, host
// and optional port, nothing else.
func validOrigin(o string) bool {
	if o == "*" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	// Rebuilding the origin from its parts rules out a path, query,
	// fragment or user info in one comparison.
	return u.Hostname() != "" && !strings.HasSuffix(u.Host, ":") && o == u.Scheme+"://"+u.Host
}
