package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/caiquan/caiquan/store"
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
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("tls_cert_file and tls_key_file go together: set both or neither (tls_cert_file %q, tls_key_file %q)", c.TLSCertFile, c.TLSKeyFile)
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
	if c.PingTimeout <= 0 {
		bad("ping_timeout must be more than 0, got %v", c.PingTimeout)
	}
	if c.OutboundQueue < 1 || c.OutboundQueue > 100000 {
		bad("outbound_queue must be between 1 and 100000, got %d", c.OutboundQueue)
	}
	for i, o := range c.AllowedOrigins {
		if !validOrigin(o) {
			bad(`allowed_origins[%d] must be "*" or an origin such as "https://example.com:8443" (no path), got %q`, i, o)
		}
	}
	if c.ResumeWindow < 0 || c.ResumeWindow > 10*time.Minute {
		bad("resume_window must be between 0 (off) and 10m0s, got %v", c.ResumeWindow)
	}
	if c.HTTPReadHeaderTimeout <= 0 {
		bad("http_read_header_timeout must be more than 0, got %v", c.HTTPReadHeaderTimeout)
	}
	if c.HTTPIdleTimeout <= 0 {
		bad("http_idle_timeout must be more than 0, got %v", c.HTTPIdleTimeout)
	}
	if c.HTTPMaxHeaderBytes < 1024 || c.HTTPMaxHeaderBytes > 1<<20 {
		bad("http_max_header_bytes must be between 1024 and 1048576, got %d", c.HTTPMaxHeaderBytes)
	}
	if c.MaxConnections < 0 {
		bad("max_connections must be 0 (the open-file limit minus 256) or more, got %d", c.MaxConnections)
	}
	if c.MaxConnectionsPerIP < 0 {
		bad("max_connections_per_ip must be 0 (off) or more, got %d", c.MaxConnectionsPerIP)
	}
	for i, p := range c.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			bad(`trusted_proxies[%d] must be a CIDR such as "10.0.0.0/8" or an address such as "127.0.0.1", got %q`, i, p)
		}
	}
	if !(c.HTTPRateLimit > 0) || math.IsInf(c.HTTPRateLimit, 0) {
		bad("http_rate_limit must be a number more than 0, got %v", c.HTTPRateLimit)
	}
	if c.HTTPRateBurst < 1 {
		bad("http_rate_burst must be at least 1, got %d", c.HTTPRateBurst)
	}
	if c.DrainTimeout <= 0 {
		bad("drain_timeout must be more than 0, got %v", c.DrainTimeout)
	}
	if c.AdminListen != "" {
		if _, port, err := net.SplitHostPort(c.AdminListen); err != nil || port == "" {
			bad(`admin_listen must be host:port such as "127.0.0.1:8081", or empty, got %q`, c.AdminListen)
		}
		if c.AdminToken == "" && c.AdminTokenFile == "" {
			bad("admin_token_file must name a file for the admin token the server makes, as admin_token is not set")
		}
	}
	// The length is not measured to the character: no value shorter than
	// this can hold enough chance to resist guessing over the network.
	if c.AdminToken != "" && len(c.AdminToken) < MinToken {
		bad("admin_token must be at least %d bytes, got %d (for example from `openssl rand -base64 32`; or leave it empty and the server makes one)", MinToken, len(c.AdminToken))
	}
	if c.MetricsListen != "" {
		if _, port, err := net.SplitHostPort(c.MetricsListen); err != nil || port == "" {
			bad(`metrics_listen must be host:port such as "127.0.0.1:9100", or empty, got %q`, c.MetricsListen)
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < MinToken {
		bad("metrics_token must be at least %d bytes, got %d (for example from `openssl rand -base64 32`), or empty for none", MinToken, len(c.MetricsToken))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level must be debug, info, warn or error, got %q", c.LogLevel)
	}
	switch c.LogFormat {
	case LogText, LogJSON:
	default:
		bad("log_format must be text or json, got %q", c.LogFormat)
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
	case StorePebble:
		if c.StorePath == "" {
			bad("store_path must name the store's directory when store is pebble")
		}
		if c.ClusterProvider == "etcd" || c.ClusterProvider == "automanaged" {
			// A uid's player moves between nodes with the member list; its
			// record must be where every node reads it.
			bad("store pebble keeps player records in one node's directory; with cluster_provider %s use store postgres, shared by every node (or memory, which forgets)", c.ClusterProvider)
		}
	case "bolt":
		bad("store bolt is gone: use store pebble (the default); a bbolt file at store_path is migrated into it at start, the file kept as a backup")
	case StorePostgres:
		if c.PostgresURL == "" {
			bad("postgres_url is required when store is postgres, e.g. postgres://user:pass@127.0.0.1:5432/caiquan")
		}
	case StoreMemory:
	default:
		bad("store must be pebble, postgres or memory, got %q", c.Store)
	}
	if c.StoreWriteVersion < 1 || c.StoreWriteVersion > store.RecordVersion {
		bad("store_write_version must be from 1 to %d (the newest record version this release knows), got %d", store.RecordVersion, c.StoreWriteVersion)
	}
	if c.StoreMinFreeMiB < 0 {
		bad("store_min_free_mib must be 0 (off) or more, got %d", c.StoreMinFreeMiB)
	}
	if c.GuestRecordTTL != 0 && c.GuestRecordTTL < time.Hour {
		bad("guest_record_ttl must be 0 (keep) or at least 1h, got %v", c.GuestRecordTTL)
	}
	switch c.AuthMode {
	case AuthWeChat, AuthGuest:
		// The hint comes once, on the first line it applies to.
		hint := " (or auth_mode: guest, as make run does, to play without WeChat)"
		if c.AuthMode == AuthGuest {
			hint = " (make run makes one into caiquan.dev-secret)"
		}
		need := func(format string, args ...any) { bad(format+hint, args...); hint = "" }
		if len(c.Secrets()) == 0 {
			need("auth_secrets (or auth_secret) is required when auth_mode is %s: at least %d bytes, e.g. from `openssl rand -base64 48`", c.AuthMode, minAuthSecret)
		}
		c.validateSecrets(bad)
		if c.AuthMode == AuthWeChat && c.WeChatAppID == "" {
			need("wechat_appid is required when auth_mode is wechat: the mini-program's AppID")
		}
		if c.AuthMode == AuthWeChat && c.WeChatSecret == "" {
			need("wechat_secret is required when auth_mode is wechat: the mini-program's AppSecret")
		}
	case AuthAnonymous:
	default:
		bad("auth_mode must be wechat, guest or anonymous, got %q", c.AuthMode)
	}
	if c.GuestRefreshWindow < 0 || c.GuestRefreshWindow > maxRefreshWindow {
		bad("guest_refresh_window must be between 0s and %v, got %v", maxRefreshWindow, c.GuestRefreshWindow)
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
	if c.WeChatMaxConcurrent < 1 {
		bad("wechat_max_concurrent must be at least 1, got %d", c.WeChatMaxConcurrent)
	}

	c.validateCluster(bad)
	return errors.Join(errs...)
}

// MinToken is the shortest admin_token or metrics_token accepted, in bytes.
const MinToken = 32

// minAuthSecret is the shortest token secret, in bytes (auth.MinSecret).
const minAuthSecret = 32

// maxAuthSecrets bounds auth_secrets: tokens of the format before key ids
// are tried against each.
const maxAuthSecrets = 8

// maxRefreshWindow bounds guest_refresh_window to a year.
const maxRefreshWindow = 8760 * time.Hour

// validateSecrets checks the token secrets of a mode that signs tokens.
// The secrets themselves never appear in an error, only their place and
// length.
func (c Config) validateSecrets(bad func(string, ...any)) {
	switch {
	case len(c.AuthSecrets) > 0 && c.AuthSecret != "":
		bad("auth_secret and auth_secrets are both set: list every secret in auth_secrets (the signing one first) and remove auth_secret")
		return
	case len(c.AuthSecret) > 0 && len(c.AuthSecret) < minAuthSecret:
		bad("auth_secret must be at least %d bytes, got %d", minAuthSecret, len(c.AuthSecret))
		return
	case len(c.AuthSecrets) > maxAuthSecrets:
		bad("auth_secrets may list at most %d secrets, got %d", maxAuthSecrets, len(c.AuthSecrets))
		return
	}
	seen := map[string]int{}
	for i, sec := range c.AuthSecrets {
		if len(sec) < minAuthSecret {
			bad("auth_secrets[%d] must be at least %d bytes, got %d", i, minAuthSecret, len(sec))
		}
		id := keyID(sec)
		if j, dup := seen[id]; dup {
			bad("auth_secrets[%d] is the same secret as auth_secrets[%d] (key id %s)", i, j, id)
		}
		seen[id] = i
	}
}

// keyID is auth.KeyID, which config does not import: the first 8 hex
// digits of the secret's SHA-256, the id its tokens carry.
func keyID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:4])
}

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
	} else if host, _, _ := net.SplitHostPort(c.ClusterAdvertise); c.ClusterAdvertise != "" && !IsLoopback(host) && !tlsSet {
		// Something forwards that address to a loopback cluster_bind: the
		// port is on the network all the same.
		bad("cluster_advertise %q is beyond loopback, so mutual TLS is required: set cluster_tls_cert_file, cluster_tls_key_file and cluster_tls_ca_file", c.ClusterAdvertise)
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

// ParsePrefix reads one trusted_proxies entry: a CIDR, or an address
// standing for itself alone. IPv4-mapped IPv6 forms become IPv4.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
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
