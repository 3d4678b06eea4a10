package config

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// setting is one row of the table that drives the file, the environment,
// the flags and Usage, so the three spellings of a name cannot drift apart.
type setting struct {
	name string // the yaml name; env and flag names derive from it
	kind string // the value's kind, shown by Usage
	help string
	set  func(c *Config, raw string) error
	get  func(c Config) string
	// items sets a list setting from a YAML sequence; nil for scalars.
	items func(c *Config, items []string)
}

func (s setting) env() string  { return "CAIQUAN_" + strings.ToUpper(s.name) }
func (s setting) flag() string { return strings.ReplaceAll(s.name, "_", "-") }

// settings lists every field of Config; a test checks it against the yaml tags.
var settings = []setting{
	str("listen", "HTTP address (host:port) of the game listener", func(c *Config) *string { return &c.Listen }),
	str("socketio_prefix", "path under which the Socket.IO endpoint answers", func(c *Config) *string { return &c.SocketIOPrefix }),
	integer("room_size", "seats in a room, 2 to 16", func(c *Config) *int { return &c.RoomSize }),
	duration("round_time", "time from start to settlement, 100ms to 600s", func(c *Config) *time.Duration { return &c.RoundTime }),
	duration("bot_fill", "how long a waiting player waits before bots fill the room", func(c *Config) *time.Duration { return &c.BotFill }),
	duration("bot_first_choice", "how long after start a bot first chooses", func(c *Config) *time.Duration { return &c.BotFirstChoice }),
	duration("bot_rechoose_min", "shortest pause between a bot's choices", func(c *Config) *time.Duration { return &c.BotRechooseMin }),
	duration("bot_rechoose_max", "longest pause between a bot's choices", func(c *Config) *time.Duration { return &c.BotRechooseMax }),
	integer("max_frame_bytes", "largest frame a client may send, in bytes", func(c *Config) *int { return &c.MaxFrameBytes }),
	number("rate_limit", "messages per second a connection may send, sustained", func(c *Config) *float64 { return &c.RateLimit }),
	integer("rate_burst", "messages a connection may send at once", func(c *Config) *int { return &c.RateBurst }),
	duration("handshake_timeout", "how long a new connection has to say hello", func(c *Config) *time.Duration { return &c.HandshakeTimeout }),
	duration("ping_interval", "how often the server pings a connection", func(c *Config) *time.Duration { return &c.PingInterval }),
	duration("idle_timeout", "silence after which a connection is closed", func(c *Config) *time.Duration { return &c.IdleTimeout }),
	duration("ping_timeout", "how long an Engine.IO 4 client has to answer a ping", func(c *Config) *time.Duration { return &c.PingTimeout }),
	integer("outbound_queue", "messages that may wait for a slow client before it is dropped", func(c *Config) *int { return &c.OutboundQueue }),
	list("allowed_origins", `Origin values accepted on upgrade, comma-separated; "*" accepts any`, func(c *Config) *[]string { return &c.AllowedOrigins }),
	boolean("allow_no_origin", "accept clients that send no Origin (mini-programs, apps)", func(c *Config) *bool { return &c.AllowNoOrigin }),
	duration("resume_window", "how long a dropped player keeps its session for a reconnect to resume; 0 turns resume off", func(c *Config) *time.Duration { return &c.ResumeWindow }),
	duration("http_read_header_timeout", "time a client may take to send a request's headers, on every HTTP listener", func(c *Config) *time.Duration { return &c.HTTPReadHeaderTimeout }),
	duration("http_idle_timeout", "how long a keep-alive HTTP connection may wait for its next request", func(c *Config) *time.Duration { return &c.HTTPIdleTimeout }),
	integer("http_max_header_bytes", "largest request headers, in bytes, on every HTTP listener", func(c *Config) *int { return &c.HTTPMaxHeaderBytes }),
	integer("max_connections", "open connections the game listener takes; 0: the open-file limit minus 256", func(c *Config) *int { return &c.MaxConnections }),
	integer("max_connections_per_ip", "WebSockets one client address may hold; 0 turns the limit off", func(c *Config) *int { return &c.MaxConnectionsPerIP }),
	list("trusted_proxies", "proxies (CIDRs or addresses) whose X-Forwarded-For is believed, comma-separated", func(c *Config) *[]string { return &c.TrustedProxies }),
	number("http_rate_limit", "requests per second one client address may make to /login and to /leaderboard, sustained", func(c *Config) *float64 { return &c.HTTPRateLimit }),
	integer("http_rate_burst", "requests one client address may make to /login and to /leaderboard at once", func(c *Config) *int { return &c.HTTPRateBurst }),
	str("tls_cert_file", "PEM certificate (and chain) for HTTPS and wss:// on the game listener; empty serves plain HTTP; SIGHUP reloads it", func(c *Config) *string { return &c.TLSCertFile }),
	str("tls_key_file", "PEM private key of tls_cert_file", func(c *Config) *string { return &c.TLSKeyFile }),
	duration("drain_timeout", "how long SIGTERM waits for rounds in progress", func(c *Config) *time.Duration { return &c.DrainTimeout }),
	str("admin_listen", "address of the admin API (actors, kills, chaos); empty turns it off", func(c *Config) *string { return &c.AdminListen }),
	str("admin_token", "bearer token the admin API requires, at least 32 bytes; none: one is made and kept in admin_token_file", func(c *Config) *string { return &c.AdminToken }),
	str("admin_token_file", "file (mode 0640) holding the admin token the server made, read by caiquan admin", func(c *Config) *string { return &c.AdminTokenFile }),
	str("metrics_listen", "address serving Prometheus metrics at /metrics only; empty turns it off", func(c *Config) *string { return &c.MetricsListen }),
	str("metrics_token", "bearer token /metrics requires, at least 32 bytes; none: no token", func(c *Config) *string { return &c.MetricsToken }),
	str("pprof_listen", "loopback address of Go's profiler (net/http/pprof) for performance work; empty turns it off", func(c *Config) *string { return &c.PprofListen }),
	str("log_level", "least level logged: debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }),
	str("log_format", "how log lines are written to standard error: text (key=value) or json (one object a line)", func(c *Config) *string { return &c.LogFormat }),
	integer("memory_limit_mib", "soft memory limit in MiB; near it new connections and rounds are refused; 0 turns it off (GOMEMLIMIT wins)", func(c *Config) *int { return &c.MemoryLimitMiB }),
	integer("gc_percent", "the garbage collector's GOGC (GOGC in the environment wins)", func(c *Config) *int { return &c.GCPercent }),
	str("store", "where player records live: pebble (a directory), postgres or memory", func(c *Config) *string { return &c.Store }),
	str("store_path", "the store's directory when store is pebble; a bbolt file found there is migrated at start", func(c *Config) *string { return &c.StorePath }),
	str("postgres_url", "the PostgreSQL URL when store is postgres, e.g. postgres://user:pass@host/db", func(c *Config) *string { return &c.PostgresURL }),
	integer("store_write_version", "record version the server writes; the previous one during a rolling upgrade", func(c *Config) *int { return &c.StoreWriteVersion }),
	integer("store_min_free_mib", "free disk space in MiB below which no new rounds are seated (store pebble); 0 turns it off", func(c *Config) *int { return &c.StoreMinFreeMiB }),
	duration("guest_record_ttl", "how long a record of a non-WeChat player is kept after it was last seen; 0 keeps them", func(c *Config) *time.Duration { return &c.GuestRecordTTL }),
	str("auth_mode", "wechat (log in with WeChat, tokens), guest (POST /guest hands out uids and tokens) or anonymous (clients name their uid, so anyone can play as anyone; the 2016 client)", func(c *Config) *string { return &c.AuthMode }),
	list("auth_secrets", "keys of session tokens, comma-separated, each at least 32 bytes: the first signs, all verify; required when auth_mode is wechat or guest", func(c *Config) *[]string { return &c.AuthSecrets }),
	str("auth_secret", "the one key of session tokens (a list of one; use auth_secrets to rotate)", func(c *Config) *string { return &c.AuthSecret }),
	duration("token_ttl", "how long a session token is valid", func(c *Config) *time.Duration { return &c.TokenTTL }),
	duration("guest_refresh_window", "how long after expiry a guest's token may still be renewed for the same uid at POST /guest", func(c *Config) *time.Duration { return &c.GuestRefreshWindow }),
	str("wechat_appid", "the mini-program's AppID; required when auth_mode is wechat", func(c *Config) *string { return &c.WeChatAppID }),
	str("wechat_secret", "the mini-program's AppSecret; required when auth_mode is wechat", func(c *Config) *string { return &c.WeChatSecret }),
	str("wechat_api_base", "base URL of WeChat's API (code2Session)", func(c *Config) *string { return &c.WeChatAPIBase }),
	duration("login_timeout", "how long POST /login waits for WeChat", func(c *Config) *time.Duration { return &c.LoginTimeout }),
	integer("wechat_max_concurrent", "code2Session calls (and, apart, content checks) under way at once; more logins get wechat_busy, more checks content_check", func(c *Config) *int { return &c.WeChatMaxConcurrent }),
	boolean("wechat_content_check", "in wechat mode, show player names and pictures to WeChat's content check first; a refused one is not shown", func(c *Config) *bool { return &c.WeChatContentCheck }),
	str("cluster_provider", "none (one node), etcd or automanaged", func(c *Config) *string { return &c.ClusterProvider }),
	str("cluster_name", "name of the cluster this node joins", func(c *Config) *string { return &c.ClusterName }),
	list("cluster_etcd_endpoints", "etcd client addresses (host:port), comma-separated", func(c *Config) *[]string { return &c.ClusterEtcdEndpoints }),
	list("cluster_peers", "every node's automanaged peer address (host:port), comma-separated", func(c *Config) *[]string { return &c.ClusterPeers }),
	str("cluster_peer_listen", "this node's automanaged peer address (host:port)", func(c *Config) *string { return &c.ClusterPeerListen }),
	str("cluster_bind", "host:port this node listens on for the other nodes", func(c *Config) *string { return &c.ClusterBind }),
	str("cluster_advertise", "host:port the other nodes dial; empty: the bound address", func(c *Config) *string { return &c.ClusterAdvertise }),
	duration("cluster_heartbeat_expiry", "silence after which the nodes block a node", func(c *Config) *time.Duration { return &c.ClusterHeartbeatExpiry }),
	str("cluster_tls_cert_file", "this node's certificate (PEM) for mutual TLS between nodes; must name cluster_name as a DNS SAN", func(c *Config) *string { return &c.ClusterTLSCertFile }),
	str("cluster_tls_key_file", "the key (PEM) of cluster_tls_cert_file", func(c *Config) *string { return &c.ClusterTLSKeyFile }),
	str("cluster_tls_ca_file", "CA (PEM) that signs every node's certificate", func(c *Config) *string { return &c.ClusterTLSCAFile }),
	str("cluster_etcd_tls_cert_file", "client certificate (PEM) this node presents to etcd, if etcd checks clients", func(c *Config) *string { return &c.ClusterEtcdTLSCertFile }),
	str("cluster_etcd_tls_key_file", "the key (PEM) of cluster_etcd_tls_cert_file", func(c *Config) *string { return &c.ClusterEtcdTLSKeyFile }),
	str("cluster_etcd_tls_ca_file", "CA (PEM) of etcd's certificate; turns on TLS to etcd", func(c *Config) *string { return &c.ClusterEtcdTLSCAFile }),
}

// lookup finds a setting by its yaml name.
// retired are settings of earlier releases that do nothing now, with what
// took their place. A rolling upgrade runs the new release on the previous
// release's settings, so setting one starts the server with a warning
// instead of stopping it; Usage does not list them.
var retired = map[string]string{
	"heap_budget_mib": "the collector's pacing is gone: memory_limit_mib and gc_percent set the heap now",
}

// RetiredNote is what took the place of retired setting name.
func RetiredNote(name string) string { return retired[name] }

func lookup(name string) (setting, bool) {
	for _, s := range settings {
		if s.name == name {
			return s, true
		}
	}
	return setting{}, false
}

func field[T any](name, kind, help string, p func(*Config) *T, parse func(string) (T, error), format func(T) string) setting {
	return setting{
		name: name, kind: kind, help: help,
		set: func(c *Config, raw string) error {
			v, err := parse(raw)
			if err != nil {
				return err
			}
			*p(c) = v
			return nil
		},
		get: func(c Config) string { return format(*p(&c)) },
	}
}

func str(name, help string, p func(*Config) *string) setting {
	return field(name, "string", help, p,
		func(s string) (string, error) { return s, nil },
		func(v string) string { return v })
}

func integer(name, help string, p func(*Config) *int) setting {
	return field(name, "int", help, p,
		func(s string) (int, error) {
			v, err := strconv.Atoi(s)
			if err != nil {
				return 0, errors.New("is not a whole number")
			}
			return v, nil
		},
		strconv.Itoa)
}

func number(name, help string, p func(*Config) *float64) setting {
	return field(name, "number", help, p,
		func(s string) (float64, error) {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return 0, errors.New("is not a number")
			}
			return v, nil
		},
		func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) })
}

func duration(name, help string, p func(*Config) *time.Duration) setting {
	return field(name, "duration", help, p,
		func(s string) (time.Duration, error) {
			v, err := time.ParseDuration(s)
			if err != nil {
				return 0, errors.New(`is not a duration such as "3s" or "250ms"`)
			}
			return v, nil
		},
		time.Duration.String)
}

func boolean(name, help string, p func(*Config) *bool) setting {
	return field(name, "bool", help, p,
		func(s string) (bool, error) {
			v, err := strconv.ParseBool(s)
			if err != nil {
				return false, errors.New("is not true or false")
			}
			return v, nil
		},
		strconv.FormatBool)
}

func list(name, help string, p func(*Config) *[]string) setting {
	s := field(name, "list", help, p,
		func(s string) ([]string, error) { return splitList(s), nil },
		func(v []string) string { return strings.Join(v, ",") })
	s.items = func(c *Config, items []string) { *p(c) = clean(items) }
	return s
}

// splitList reads a comma-separated list, ignoring blanks around and
// between entries.
func splitList(s string) []string { return clean(strings.Split(s, ",")) }

// clean trims entries and drops empty ones; an empty list is nil, as in
// Default, so "none given" looks the same from every source.
func clean(items []string) []string {
	var out []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}
