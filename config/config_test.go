package config

import (
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/caiquan/caiquan/auth"
)

// anon is Default with auth_mode anonymous: the settings of make run, and
// the smallest valid configuration.
func anon() Config {
	c := Default()
	c.AuthMode = AuthAnonymous
	return c
}

// wechat is Default with what WeChat login needs.
func wechat() Config {
	c := Default()
	c.AuthSecret = strings.Repeat("s", 32)
	c.WeChatAppID, c.WeChatSecret = "wxapp", "wxsecret"
	return c
}

// guest turns c into guest mode with two secrets.
func guest(c *Config) {
	c.AuthMode = AuthGuest
	c.AuthSecrets = []string{strings.Repeat("a", 32), strings.Repeat("b", 48)}
}

// The key id config checks for repeats is the one tokens carry.
func TestKeyIDIsAuths(t *testing.T) {
	for _, s := range []string{strings.Repeat("a", 32), "another secret of at least 32 bytes"} {
		if keyID(s) != auth.KeyID(s) {
			t.Errorf("keyID(%q) = %s, auth.KeyID = %s", s, keyID(s), auth.KeyID(s))
		}
	}
}

// The secrets never show in what Validate says.
func TestValidateHidesSecrets(t *testing.T) {
	c := anon()
	guest(&c)
	c.AuthSecrets = append(c.AuthSecrets, "tooshort-SECRET", c.AuthSecrets[0])
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	for _, s := range c.AuthSecrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
}

func TestSecrets(t *testing.T) {
	c := anon()
	if c.Secrets() != nil {
		t.Errorf("no secret: %q", c.Secrets())
	}
	c.AuthSecret = "one"
	if !reflect.DeepEqual(c.Secrets(), []string{"one"}) {
		t.Errorf("auth_secret: %q", c.Secrets())
	}
	c.AuthSecret, c.AuthSecrets = "", []string{"a", "b"}
	if !reflect.DeepEqual(c.Secrets(), []string{"a", "b"}) {
		t.Errorf("auth_secrets: %q", c.Secrets())
	}
}

func TestDefaultIsValid(t *testing.T) {
	for name, c := range map[string]Config{"anonymous": anon(), "wechat": wechat()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", name, err)
		}
	}
}

// TestDefaultNamesWhatIsMissing: the binary with no settings at all says
// which ones WeChat login needs, and how to do without.
func TestDefaultNamesWhatIsMissing(t *testing.T) {
	err := Default().Validate()
	if err == nil {
		t.Fatal("Default().Validate() = nil; WeChat login cannot work without its settings")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"config: auth_secrets (or auth_secret) is required when auth_mode is wechat", "config: wechat_appid is required", "config: wechat_secret is required"}
	if len(lines) != len(want) {
		t.Fatalf("Validate() =\n%v\nwant %d lines", err, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want it to start %q", i, lines[i], w)
		}
	}
	if !strings.Contains(lines[0], "auth_mode: guest") {
		t.Errorf("the first line does not say how to run without login: %q", lines[0])
	}
}

// TestTableCoversConfig keeps the settings table, and so the env and flag
// names, in step with the fields of Config.
func TestTableCoversConfig(t *testing.T) {
	var tags []string
	typ := reflect.TypeOf(Config{})
	for i := range typ.NumField() {
		if tag := typ.Field(i).Tag.Get("yaml"); tag != "-" {
			tags = append(tags, tag)
		}
	}
	var names []string
	for _, s := range settings {
		names = append(names, s.name)
	}
	if !reflect.DeepEqual(tags, names) {
		t.Fatalf("settings table %v\ndoes not match Config's yaml tags %v", names, tags)
	}
}

// TestExampleMatchesDefault keeps caiquan.example.yaml from drifting: it
// must name every setting and load to exactly anon().
func TestExampleMatchesDefault(t *testing.T) {
	got, err := Load([]string{"-config", "caiquan.example.yaml", "-auth-mode", "anonymous"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.AuthMode = AuthWeChat; !reflect.DeepEqual(got, Default()) {
		t.Errorf("example loads to\n%+v\nwant Default()\n%+v", got, Default())
	}
	b, err := os.ReadFile("caiquan.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := yaml.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if _, ok := keys[s.name]; !ok {
			t.Errorf("example does not mention %s", s.name)
		}
	}
}

func TestValidateNamesSetting(t *testing.T) {
	tests := []struct {
		name   string // the setting the message must name
		change func(*Config)
		want   string
	}{
		{"listen", func(c *Config) { c.Listen = "" }, `listen must be host:port`},
		{"listen", func(c *Config) { c.Listen = "8080" }, `got "8080"`},
		{"listen", func(c *Config) { c.Listen = "localhost:" }, `listen must be host:port`},
		{"socketio_prefix", func(c *Config) { c.SocketIOPrefix = "socket.io/" }, `must start and end with "/"`},
		{"socketio_prefix", func(c *Config) { c.SocketIOPrefix = "/socket.io" }, `must start and end with "/"`},
		{"socketio_prefix", func(c *Config) { c.SocketIOPrefix = "" }, `must start and end with "/"`},
		{"socketio_prefix", func(c *Config) { c.SocketIOPrefix = "/" }, `must not be "/"`},
		{"socketio_prefix", func(c *Config) { c.SocketIOPrefix = "/ws/" }, `must not be "/ws/"`},
		{"room_size", func(c *Config) { c.RoomSize = 1 }, "room_size must be between 2 and 16, got 1"},
		{"room_size", func(c *Config) { c.RoomSize = 17 }, "got 17"},
		{"round_time", func(c *Config) { c.RoundTime = 0 }, "round_time must be between 100ms and 600s"},
		{"round_time", func(c *Config) { c.RoundTime = 99 * time.Millisecond }, "got 99ms"},
		{"round_time", func(c *Config) { c.RoundTime = 601 * time.Second }, "between 100ms and 600s"},
		{"bot_fill", func(c *Config) { c.BotFill = 0 }, "bot_fill must be more than 0"},
		{"bot_fill", func(c *Config) { c.BotFill = 61 * time.Second }, "at most 1m0s, got 1m1s"},
		{"bot_first_choice", func(c *Config) { c.BotFirstChoice = -time.Millisecond }, "bot_first_choice must be at least 0"},
		{"bot_first_choice", func(c *Config) { c.BotFirstChoice = 3 * time.Second }, "less than round_time (3s), got 3s"},
		{"bot_rechoose_min", func(c *Config) { c.BotRechooseMin = 0 }, "bot_rechoose_min must be more than 0"},
		{"bot_rechoose_max", func(c *Config) { c.BotRechooseMax = 50 * time.Millisecond }, "at least bot_rechoose_min (100ms), got 50ms"},
		{"max_frame_bytes", func(c *Config) { c.MaxFrameBytes = 255 }, "max_frame_bytes must be between 256 and 1048576, got 255"},
		{"max_frame_bytes", func(c *Config) { c.MaxFrameBytes = 1<<20 + 1 }, "got 1048577"},
		{"rate_limit", func(c *Config) { c.RateLimit = 0 }, "rate_limit must be a number more than 0"},
		{"rate_limit", func(c *Config) { c.RateLimit = math.NaN() }, "got NaN"},
		{"rate_limit", func(c *Config) { c.RateLimit = math.Inf(1) }, "got +Inf"},
		{"rate_burst", func(c *Config) { c.RateBurst = 0 }, "rate_burst must be at least 1, got 0"},
		{"handshake_timeout", func(c *Config) { c.HandshakeTimeout = 0 }, "handshake_timeout must be more than 0"},
		{"ping_interval", func(c *Config) { c.PingInterval = -time.Second }, "ping_interval must be more than 0"},
		{"ping_timeout", func(c *Config) { c.PingTimeout = 0 }, "ping_timeout must be more than 0, got 0s"},
		{"idle_timeout", func(c *Config) { c.IdleTimeout = c.PingInterval }, "idle_timeout must be more than ping_interval (25s), got 25s"},
		{"outbound_queue", func(c *Config) { c.OutboundQueue = 0 }, "outbound_queue must be between 1 and 100000"},
		{"outbound_queue", func(c *Config) { c.OutboundQueue = 100001 }, "got 100001"},
		{"allowed_origins", func(c *Config) { c.AllowedOrigins = []string{"https://ok.example", "example.com"} }, `allowed_origins[1] must be "*" or an origin`},
		{"allowed_origins", func(c *Config) { c.AllowedOrigins = []string{"https://a.example/"} }, `got "https://a.example/"`},
		{"allowed_origins", func(c *Config) { c.AllowedOrigins = []string{"https://a.example/game"} }, "allowed_origins[0]"},
		{"allowed_origins", func(c *Config) { c.AllowedOrigins = []string{"ftp://a.example"} }, "allowed_origins[0]"},
		{"allowed_origins", func(c *Config) { c.AllowedOrigins = []string{"https://a.example?x"} }, "allowed_origins[0]"},
		{"allowed_origins", func(c *Config) { c.AllowedOrigins = []string{"https://u@a.example"} }, "allowed_origins[0]"},
		{"allowed_origins", func(c *Config) { c.AllowedOrigins = []string{"https://a.example:"} }, "allowed_origins[0]"},
		{"allowed_origins", func(c *Config) { c.AllowedOrigins = []string{"https://"} }, "allowed_origins[0]"},
		{"allowed_origins", func(c *Config) { c.AllowedOrigins = []string{""} }, "allowed_origins[0]"},
		{"http_read_header_timeout", func(c *Config) { c.HTTPReadHeaderTimeout = 0 }, "http_read_header_timeout must be more than 0"},
		{"http_idle_timeout", func(c *Config) { c.HTTPIdleTimeout = -time.Second }, "http_idle_timeout must be more than 0, got -1s"},
		{"http_max_header_bytes", func(c *Config) { c.HTTPMaxHeaderBytes = 1023 }, "http_max_header_bytes must be between 1024 and 1048576, got 1023"},
		{"max_connections", func(c *Config) { c.MaxConnections = -1 }, "max_connections must be 0 (the open-file limit minus 256) or more, got -1"},
		{"max_connections_per_ip", func(c *Config) { c.MaxConnectionsPerIP = -1 }, "max_connections_per_ip must be 0 (off) or more"},
		{"trusted_proxies", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "nginx"} }, `trusted_proxies[1] must be a CIDR such as "10.0.0.0/8" or an address such as "127.0.0.1", got "nginx"`},
		{"trusted_proxies", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/33"} }, `got "10.0.0.0/33"`},
		{"http_rate_limit", func(c *Config) { c.HTTPRateLimit = 0 }, "http_rate_limit must be a number more than 0"},
		{"http_rate_limit", func(c *Config) { c.HTTPRateLimit = math.Inf(1) }, "got +Inf"},
		{"http_rate_burst", func(c *Config) { c.HTTPRateBurst = 0 }, "http_rate_burst must be at least 1, got 0"},
		{"drain_timeout", func(c *Config) { c.DrainTimeout = 0 }, "drain_timeout must be more than 0"},
		{"admin_listen", func(c *Config) { c.AdminListen = "8081" }, "admin_listen must be host:port"},
		{"admin_token", func(c *Config) { c.AdminToken = "hunter2" }, "admin_token must be at least 32 bytes, got 7"},
		{"admin_token", func(c *Config) { c.AdminListen = ""; c.AdminToken = strings.Repeat("t", 31) }, "got 31"},
		{"admin_token_file", func(c *Config) { c.AdminTokenFile = "" }, "admin_token_file must name a file"},
		{"metrics_listen", func(c *Config) { c.MetricsListen = "9100" }, "metrics_listen must be host:port"},
		{"metrics_token", func(c *Config) { c.MetricsToken = "short" }, "metrics_token must be at least 32 bytes, got 5"},
		{"log_level", func(c *Config) { c.LogLevel = "verbose" }, `log_level must be debug, info, warn or error, got "verbose"`},
		{"log_format", func(c *Config) { c.LogFormat = "yaml" }, `log_format must be text or json, got "yaml"`},
		{"pprof_listen", func(c *Config) { c.PprofListen = "0.0.0.0:6060" }, "pprof_listen must be a loopback host:port"},
		{"memory_limit_mib", func(c *Config) { c.MemoryLimitMiB = 63 }, "memory_limit_mib must be 0 (off) or between 64 and 1048576, got 63"},
		{"memory_limit_mib", func(c *Config) { c.MemoryLimitMiB = -1 }, "got -1"},
		{"gc_percent", func(c *Config) { c.GCPercent = 0 }, "gc_percent must be between 10 and 10000, got 0"},
		{"store", func(c *Config) { c.Store = "sqlite" }, `store must be pebble, postgres or memory, got "sqlite"`},
		{"store_path", func(c *Config) { c.StorePath = "" }, "store_path must name the store's directory"},
		{"store", func(c *Config) { c.Store = "bolt" }, "store bolt is gone: use store pebble"},
		{"store_write_version", func(c *Config) { c.StoreWriteVersion = 2 }, "store_write_version must be from 1 to 1"},
		{"store_write_version", func(c *Config) { c.StoreWriteVersion = 0 }, "got 0"},
		{"store_min_free_mib", func(c *Config) { c.StoreMinFreeMiB = -1 }, "store_min_free_mib must be 0 (off) or more"},
		{"guest_record_ttl", func(c *Config) { c.GuestRecordTTL = time.Minute }, "guest_record_ttl must be 0 (keep) or at least 1h"},
		{"postgres_url", func(c *Config) { c.Store = StorePostgres }, "postgres_url is required when store is postgres"},
		{"auth_mode", func(c *Config) { c.AuthMode = "none" }, `auth_mode must be wechat, guest or anonymous, got "none"`},
		{"auth_secrets", func(c *Config) { *c = wechat(); c.AuthSecret = "" }, "auth_secrets (or auth_secret) is required when auth_mode is wechat"},
		{"auth_secrets", func(c *Config) { c.AuthMode = AuthGuest }, "auth_secrets (or auth_secret) is required when auth_mode is guest"},
		{"auth_secret", func(c *Config) { *c = wechat(); c.AuthSecret = strings.Repeat("s", 31) }, "at least 32 bytes, got 31"},
		{"auth_secret", func(c *Config) { *c = wechat(); c.AuthSecrets = []string{strings.Repeat("t", 32)} }, "auth_secret and auth_secrets are both set"},
		{"auth_secrets", func(c *Config) { guest(c); c.AuthSecrets = append(c.AuthSecrets, "short") }, "auth_secrets[2] must be at least 32 bytes, got 5"},
		{"auth_secrets", func(c *Config) { guest(c); c.AuthSecrets = append(c.AuthSecrets, c.AuthSecrets[0]) }, "auth_secrets[2] is the same secret as auth_secrets[0]"},
		{"auth_secrets", func(c *Config) { guest(c); c.AuthSecrets = make([]string, 9) }, "at most 8 secrets, got 9"},
		{"guest_refresh_window", func(c *Config) { c.GuestRefreshWindow = -time.Second }, "guest_refresh_window must be between 0s and 8760h0m0s, got -1s"},
		{"guest_refresh_window", func(c *Config) { c.GuestRefreshWindow = 8761 * time.Hour }, "got 8761h0m0s"},
		{"wechat_appid", func(c *Config) { *c = wechat(); c.WeChatAppID = "" }, "wechat_appid is required"},
		{"wechat_secret", func(c *Config) { *c = wechat(); c.WeChatSecret = "" }, "wechat_secret is required"},
		{"token_ttl", func(c *Config) { c.TokenTTL = 0 }, "token_ttl must be at least 1s"},
		{"wechat_api_base", func(c *Config) { c.WeChatAPIBase = "api.weixin.qq.com" }, "wechat_api_base must be an http or https URL"},
		{"login_timeout", func(c *Config) { c.LoginTimeout = 0 }, "login_timeout must be more than 0"},
		{"wechat_max_concurrent", func(c *Config) { c.WeChatMaxConcurrent = 0 }, "wechat_max_concurrent must be at least 1, got 0"},
		{"cluster_provider", func(c *Config) { c.ClusterProvider = "consul" }, `cluster_provider must be "none", "etcd" or "automanaged", got "consul"`},
		{"cluster_provider", func(c *Config) { c.ClusterProvider = "" }, `got ""`},
		{"cluster_name", func(c *Config) { etcd(c); c.ClusterName = "" }, "cluster_name must be a name"},
		{"cluster_name", func(c *Config) { etcd(c); c.ClusterName = "a/b" }, `got "a/b"`},
		{"cluster_etcd_endpoints", func(c *Config) { c.Store = StoreMemory; c.ClusterProvider = "etcd" }, "cluster_etcd_endpoints must list at least one host:port when cluster_provider is etcd"},
		{"cluster_etcd_endpoints", func(c *Config) { etcd(c); c.ClusterEtcdEndpoints = []string{"127.0.0.1:2379", "http://x"} }, `cluster_etcd_endpoints[1] must be host:port`},
		{"cluster_etcd_endpoints", func(c *Config) { etcd(c); c.ClusterEtcdEndpoints = []string{"127.0.0.1:0"} }, `got "127.0.0.1:0"`},
		{"cluster_peers", func(c *Config) {
			c.Store = StoreMemory
			c.ClusterProvider = "automanaged"
			c.ClusterPeerListen = "127.0.0.1:6330"
		}, "cluster_peers must list every node's peer address"},
		{"cluster_peers", func(c *Config) { automanaged(c); c.ClusterPeers = []string{"6331"} }, `cluster_peers[0] must be host:port, got "6331"`},
		{"cluster_peer_listen", func(c *Config) { automanaged(c); c.ClusterPeerListen = "" }, "cluster_peer_listen must be host:port"},
		{"cluster_bind", func(c *Config) { etcd(c); c.ClusterBind = "8090" }, `cluster_bind must be host:port such as "127.0.0.1:8090", got "8090"`},
		{"cluster_advertise", func(c *Config) { etcd(c); c.ClusterAdvertise = "10.0.0.5" }, `cluster_advertise must be host:port with a port`},
		{"cluster_heartbeat_expiry", func(c *Config) { etcd(c); c.ClusterHeartbeatExpiry = 500 * time.Millisecond }, "cluster_heartbeat_expiry must be between 1s and 10m0s, got 500ms"},
		{"cluster_bind", func(c *Config) { etcd(c); c.ClusterBind = "0.0.0.0:8090" }, `cluster_bind "0.0.0.0:8090" listens beyond loopback, so mutual TLS is required: set cluster_tls_cert_file, cluster_tls_key_file and cluster_tls_ca_file`},
		{"cluster_bind", func(c *Config) { etcd(c); c.ClusterBind = "[::]:8090" }, "cluster_tls_cert_file, cluster_tls_key_file and cluster_tls_ca_file"},
		{"cluster_bind", func(c *Config) { etcd(c); c.ClusterBind = "10.0.0.5:0" }, "listens beyond loopback"},
		{"cluster_advertise", func(c *Config) { etcd(c); c.ClusterAdvertise = "10.0.0.5:8090" }, `cluster_advertise "10.0.0.5:8090" is beyond loopback, so mutual TLS is required`},
		{"cluster_tls_ca_file", func(c *Config) { etcd(c); withTLS(c); c.ClusterTLSCAFile = "" }, "cluster_tls_ca_file is required: mutual TLS needs"},
		{"cluster_tls_cert_file", func(c *Config) { etcd(c); c.ClusterTLSKeyFile = "k.pem" }, "mutual TLS needs"},
		{"cluster_etcd_endpoints", func(c *Config) { etcd(c); c.ClusterEtcdEndpoints = []string{"127.0.0.1:2379", "10.0.0.7:2379"} }, `cluster_etcd_endpoints[1] "10.0.0.7:2379" is beyond loopback, so cluster_etcd_tls_ca_file is required`},
		{"cluster_etcd_tls_ca_file", func(c *Config) { etcd(c); c.ClusterEtcdTLSCertFile, c.ClusterEtcdTLSKeyFile = "c.pem", "k.pem" }, "cluster_etcd_tls_ca_file is required with"},
		{"cluster_etcd_tls_key_file", func(c *Config) { etcd(c); c.ClusterEtcdTLSCAFile, c.ClusterEtcdTLSCertFile = "ca.pem", "c.pem" }, "cluster_etcd_tls_key_file is required with cluster_etcd_tls_cert_file"},
		{"cluster_peers", func(c *Config) { automanaged(c); c.ClusterPeers = []string{"127.0.0.1:6330", "10.0.0.5:6330"} }, `cluster_peers[1] "10.0.0.5:6330" is beyond loopback: cluster_provider automanaged health-checks peers over plain HTTP`},
		{"cluster_peer_listen", func(c *Config) { automanaged(c); withTLS(c); c.ClusterPeerListen = "0.0.0.0:6330" }, "health-checks peers over plain HTTP"},
		{"store", func(c *Config) { etcd(c); c.Store = StorePebble }, "store pebble keeps player records in one node's directory; with cluster_provider etcd use store postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.want, func(t *testing.T) {
			c := anon()
			tt.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			// A bad setting may upset one that depends on it (round_time and
			// bot_first_choice); its own problem comes first.
			msg, _, _ := strings.Cut(err.Error(), "\n")
			if !strings.HasPrefix(msg, "config: "+tt.name+" ") && !strings.HasPrefix(msg, "config: "+tt.name+"[") {
				t.Errorf("error %q does not start by naming %s", msg, tt.name)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
		})
	}
}

func TestValidateAcceptsEdges(t *testing.T) {
	tests := map[string]func(*Config){
		"room_size 16":            func(c *Config) { c.RoomSize = 16 },
		"round_time 600s":         func(c *Config) { c.RoundTime = 600 * time.Second },
		"round_time 100ms":        func(c *Config) { c.RoundTime, c.BotFirstChoice = 100*time.Millisecond, 0 },
		"round_time 1.5s":         func(c *Config) { c.RoundTime = 1500 * time.Millisecond },
		"bot_fill 60s":            func(c *Config) { c.BotFill = time.Minute },
		"bot_first_choice 0":      func(c *Config) { c.BotFirstChoice = 0 },
		"rechoose min == max":     func(c *Config) { c.BotRechooseMax = c.BotRechooseMin },
		"max_frame_bytes 1MiB":    func(c *Config) { c.MaxFrameBytes = 1 << 20 },
		"outbound_queue 100000":   func(c *Config) { c.OutboundQueue = 100000 },
		"origins star and ports":  func(c *Config) { c.AllowedOrigins = []string{"*", "http://localhost:8080", "https://[::1]:8443"} },
		"listen ipv6 port 0":      func(c *Config) { c.Listen = "[::1]:0" },
		"socketio_prefix nested":  func(c *Config) { c.SocketIOPrefix = "/a/b/" },
		"fractional rate_limit":   func(c *Config) { c.RateLimit = 0.5 },
		"bot_first_choice < 1 rt": func(c *Config) { c.RoundTime = time.Second; c.BotFirstChoice = 999 * time.Millisecond },
		"memory_limit_mib off":    func(c *Config) { c.MemoryLimitMiB = 0 },
		"memory_limit_mib 64":     func(c *Config) { c.MemoryLimitMiB = 64 },
		"trusted proxies":         func(c *Config) { c.TrustedProxies = []string{"127.0.0.1", "10.0.0.0/8", "fd00::/8", "::1"} },
		"fractional http rate":    func(c *Config) { c.HTTPRateLimit = 0.01 },
		"per-ip limit":            func(c *Config) { c.MaxConnections, c.MaxConnectionsPerIP = 10, 2 },
		"cluster etcd":            etcd,
		"guest, two secrets":      guest,
		"guest, auth_secret":      func(c *Config) { c.AuthMode, c.AuthSecret = AuthGuest, strings.Repeat("s", 32) },
		"guest_refresh_window 0":  func(c *Config) { guest(c); c.GuestRefreshWindow = 0 },
		"cluster automanaged":     automanaged,
		"cluster none ignores":    func(c *Config) { c.ClusterBind = "junk"; c.ClusterEtcdEndpoints = []string{"junk"} },
		"cluster advertise": func(c *Config) {
			etcd(c)
			withTLS(c)
			c.ClusterBind = "0.0.0.0:8090"
			c.ClusterAdvertise = "10.0.0.5:8090"
		},
		"cluster tls on loopback": func(c *Config) { etcd(c); withTLS(c) },
		"etcd beyond loopback with tls": func(c *Config) {
			etcd(c)
			c.ClusterEtcdEndpoints = []string{"etcd.internal:2379"}
			c.ClusterEtcdTLSCAFile = "etcd-ca.pem"
		},
		"etcd client certificate": func(c *Config) {
			etcd(c)
			c.ClusterEtcdTLSCAFile, c.ClusterEtcdTLSCertFile, c.ClusterEtcdTLSKeyFile = "ca.pem", "c.pem", "k.pem"
		},
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			c := anon()
			change(&c)
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestValidateReportsAll checks that one run names every wrong setting, so
// an operator fixes them in one go.
func TestValidateReportsAll(t *testing.T) {
	c := anon()
	c.RoomSize = 0
	c.DrainTimeout = 0
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "room_size") || !strings.Contains(lines[1], "drain_timeout") {
		t.Errorf("Validate() = %q, want one line for room_size then one for drain_timeout", err)
	}
}

// The admin API may listen anywhere: it always has a token, made by the
// server when none is given, so no address needs one by hand.
func TestAdminListensAnywhereWithAToken(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:8081", "localhost:0", "[::1]:9000", ":8081", "10.0.0.5:8081", ""} {
		c := anon()
		c.AdminListen = addr
		if err := c.Validate(); err != nil {
			t.Errorf("admin_listen %q: %v", addr, err)
		}
	}
	c := anon()
	c.AdminListen, c.AdminToken, c.AdminTokenFile = ":8081", strings.Repeat("t", 32), ""
	if err := c.Validate(); err != nil {
		t.Errorf("admin token of 32 bytes and no file: %v", err)
	}
}

// etcd and automanaged turn on a valid cluster of each provider.
func etcd(c *Config) {
	c.Store = StoreMemory
	c.ClusterProvider = "etcd"
	c.ClusterEtcdEndpoints = []string{"127.0.0.1:2379"}
}

// withTLS names the three files of mutual TLS between nodes.
func withTLS(c *Config) {
	c.ClusterTLSCertFile, c.ClusterTLSKeyFile, c.ClusterTLSCAFile = "node.pem", "node-key.pem", "ca.pem"
}

func automanaged(c *Config) {
	c.Store = StoreMemory
	c.ClusterProvider = "automanaged"
	c.ClusterPeerListen = "127.0.0.1:6330"
	c.ClusterPeers = []string{"127.0.0.1:6330", "127.0.0.1:6331"}
}

func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":           "127.0.0.1/32",
		"10.1.2.3/8":          "10.0.0.0/8",
		"::1":                 "::1/128",
		"::ffff:10.0.0.1":     "10.0.0.1/32",
		"::ffff:10.0.0.0/104": "10.0.0.0/8",
		"2001:db8::/32":       "2001:db8::/32",
	} {
		p, err := ParsePrefix(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"", "nginx", "10.0.0.0/33", "10.0.0.1:80", "10.0.0.0/"} {
		if p, err := ParsePrefix(bad); err == nil {
			t.Errorf("ParsePrefix(%q) = %v, want an error", bad, p)
		}
	}
}
