package config

import (
	"time"

	"github.com/caiquan/caiquan/store"
)

// Config is every setting of the server. Durations are Go duration strings
// ("3s", "250ms") in the YAML file, the environment and the flags.
type Config struct {
	// Listen is the HTTP address of the game listener.
	Listen string `yaml:"listen"`
	// SocketIOPrefix is the path under which the Socket.IO endpoint answers;
	// any path below it is accepted (the 2016 client sends a double slash).
	SocketIOPrefix string `yaml:"socketio_prefix"`

	// RoomSize is the number of seats in a room (2 in the demo).
	RoomSize int `yaml:"room_size"`
	// RoundTime is the time from start to settlement. The wire's gameTime
	// is whole seconds (rounded up); gameTimeMs has it exactly.
	RoundTime time.Duration `yaml:"round_time"`
	// BotFill is how long the first waiting player waits before bots fill the room.
	BotFill time.Duration `yaml:"bot_fill"`
	// BotFirstChoice is how long after start a bot makes its first choice.
	BotFirstChoice time.Duration `yaml:"bot_first_choice"`
	// BotRechooseMin and BotRechooseMax bound the bot's random pause between choices.
	BotRechooseMin time.Duration `yaml:"bot_rechoose_min"`
	BotRechooseMax time.Duration `yaml:"bot_rechoose_max"`

	// MaxFrameBytes is the largest frame a client may send.
	MaxFrameBytes int `yaml:"max_frame_bytes"`
	// RateLimit is the sustained number of messages per second a connection
	// may send; RateBurst how many it may send at once.
	RateLimit float64 `yaml:"rate_limit"`
	RateBurst int     `yaml:"rate_burst"`
	// HandshakeTimeout is how long a new connection has to say hello.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	// PingInterval is how often the server sends WebSocket ping control
	// frames (and Engine.IO 4 pings); IdleTimeout closes a connection from
	// which nothing, not even a pong, arrived for that long.
	PingInterval time.Duration `yaml:"ping_interval"`
	IdleTimeout  time.Duration `yaml:"idle_timeout"`
	// PingTimeout is how long an Engine.IO 4 client has to answer a ping
	// (the open packet's pingTimeout) before it is closed.
	PingTimeout time.Duration `yaml:"ping_timeout"`
	// OutboundQueue is how many messages may wait for a slow client before
	// it is disconnected.
	OutboundQueue int `yaml:"outbound_queue"`
	// AllowedOrigins lists the Origin header values accepted on upgrade;
	// "*" accepts any. AllowNoOrigin accepts clients that send none
	// (mini-programs, native apps).
	AllowedOrigins []string `yaml:"allowed_origins"`
	AllowNoOrigin  bool     `yaml:"allow_no_origin"`

	// ResumeWindow is how long a player whose connection dropped keeps
	// its session (its seat, its choice) for a new connection to resume;
	// 0 turns resume off.
	ResumeWindow time.Duration `yaml:"resume_window"`
	// HTTPReadHeaderTimeout bounds the time a client may take to send a
	// request's headers, HTTPIdleTimeout how long a keep-alive HTTP
	// connection may wait for its next request, and HTTPMaxHeaderBytes the
	// size of a request's headers, on every HTTP listener of the process.
	HTTPReadHeaderTimeout time.Duration `yaml:"http_read_header_timeout"`
	HTTPIdleTimeout       time.Duration `yaml:"http_idle_timeout"`
	HTTPMaxHeaderBytes    int           `yaml:"http_max_header_bytes"`
	// MaxConnections bounds the open connections of the game listener; 0
	// means the process's open-file limit minus 256, read at start.
	// MaxConnectionsPerIP bounds the WebSockets of one client address
	// (an IPv6 client's /64); 0 turns it off.
	MaxConnections      int `yaml:"max_connections"`
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// TrustedProxies lists the proxies (CIDRs or addresses) whose
	// X-Forwarded-For names the client; from anyone else it is ignored.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// HTTPRateLimit and HTTPRateBurst are each client address's token
	// bucket on /login and on /leaderboard (one bucket per endpoint).
	HTTPRateLimit float64 `yaml:"http_rate_limit"`
	HTTPRateBurst int     `yaml:"http_rate_burst"`
	// TLSCertFile and TLSKeyFile, when set, make the game listener serve
	// HTTPS and wss:// itself (PEM files; the certificate file may hold the
	// chain). SIGHUP reads them again; open connections stay.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`

	// DrainTimeout bounds how long SIGTERM waits for rounds in progress.
	DrainTimeout time.Duration `yaml:"drain_timeout"`

	// AdminListen is the address of the admin API (actors, kills, chaos);
	// empty turns it off. AdminToken is the bearer token it requires, at
	// least 32 bytes. Without one the server makes one at start and keeps
	// it in AdminTokenFile (mode 0640), where `caiquan admin` reads it; a
	// valid token already in that file is used again.
	AdminListen    string `yaml:"admin_listen"`
	AdminToken     string `yaml:"admin_token"`
	AdminTokenFile string `yaml:"admin_token_file"`
	// MetricsListen serves Prometheus text at /metrics and nothing else;
	// empty turns it off. MetricsToken, when set (at least 32 bytes), is
	// the bearer token a scraper must send.
	MetricsListen string `yaml:"metrics_listen"`
	MetricsToken  string `yaml:"metrics_token"`
	// PprofListen serves Go's profiler (net/http/pprof) for performance
	// work; empty (the default) turns it off. Loopback addresses only.
	PprofListen string `yaml:"pprof_listen"`
	// LogLevel is the least level logged: debug, info, warn or error.
	// Refusals of clients (origins, floods, oversized frames) are logged at
	// debug, at most one line per kind every 10 s.
	LogLevel string `yaml:"log_level"`
	// LogFormat is how log lines are written to standard error: text
	// (key=value) or json (one object a line, for a log shipper).
	LogFormat string `yaml:"log_format"`

	// MemoryLimitMiB is the process's soft memory limit (Go's
	// debug.SetMemoryLimit); near it the server refuses new connections
	// and new rounds until memory falls back. 0 turns both off.
	// GCPercent is the collector's fixed GOGC. GOMEMLIMIT and GOGC in the
	// environment win over both.
	MemoryLimitMiB int `yaml:"memory_limit_mib"`
	GCPercent      int `yaml:"gc_percent"`

	// Store is where player records live: "pebble" (the directory
	// StorePath, one node), "postgres" (PostgresURL, shared by nodes) or
	// "memory" (gone with the process; for tests). A bbolt file of an
	// earlier release found at StorePath is migrated into pebble at start.
	Store       string `yaml:"store"`
	StorePath   string `yaml:"store_path"`
	PostgresURL string `yaml:"postgres_url"`
	// StoreWriteVersion is the record version the server writes: the
	// newest it knows by default; kept at the previous one while a rolling
	// upgrade has nodes of the previous release on a shared PostgreSQL.
	StoreWriteVersion int `yaml:"store_write_version"`
	// StoreMinFreeMiB is the free space, in MiB, below which the server
	// stops seating new rounds on store pebble (Pebble ends the process on
	// a failed write); 0 turns the guard off.
	StoreMinFreeMiB int `yaml:"store_min_free_mib"`
	// GuestRecordTTL is how long the record of a player who is not a
	// WeChat player (uid not starting "wx_") is kept after it was last
	// seen; an hourly sweep removes older ones. 0 keeps them for ever.
	GuestRecordTTL time.Duration `yaml:"guest_record_ttl"`

	// AuthMode is "wechat" (players log in with WeChat at POST /login and
	// present the token; the player id is the server's), "guest" (POST
	// /guest hands out a player id and its token, no WeChat needed) or
	// "anonymous" (the 2016 behaviour: the client names its uid, so anyone
	// can play as anyone; for the 2016 client).
	AuthMode string `yaml:"auth_mode"`
	// AuthSecrets sign and verify the tokens: the first signs, every one
	// verifies, each at least 32 bytes. AuthSecret is the older spelling of
	// a list of one; only one of the two may be set (see Secrets).
	// TokenTTL is how long a token is valid.
	AuthSecrets []string      `yaml:"auth_secrets"`
	AuthSecret  string        `yaml:"auth_secret"`
	TokenTTL    time.Duration `yaml:"token_ttl"`
	// GuestRefreshWindow is how long after its expiry a guest's token may
	// still be renewed at POST /guest for the same uid.
	GuestRefreshWindow time.Duration `yaml:"guest_refresh_window"`
	// WeChatAppID and WeChatSecret are the mini-program's credentials for
	// code2Session at WeChatAPIBase; LoginTimeout bounds that call.
	WeChatAppID   string        `yaml:"wechat_appid"`
	WeChatSecret  string        `yaml:"wechat_secret"`
	WeChatAPIBase string        `yaml:"wechat_api_base"`
	LoginTimeout  time.Duration `yaml:"login_timeout"`
	// WeChatMaxConcurrent bounds the code2Session calls under way at once;
	// a login beyond it is refused with wechat_busy.
	WeChatMaxConcurrent int `yaml:"wechat_max_concurrent"`
	// WeChatContentCheck shows player names and pictures to WeChat's
	// content check (msg_sec_check, img_sec_check) before anyone else
	// sees them, in wechat mode.
	WeChatContentCheck bool `yaml:"wechat_content_check"`

	// ClusterProvider is "none" (one node, no outside service), "etcd" or
	// "automanaged" (a static list of peers).
	ClusterProvider string `yaml:"cluster_provider"`
	// ClusterName names the cluster; nodes of other names are ignored.
	ClusterName string `yaml:"cluster_name"`
	// ClusterEtcdEndpoints are etcd's client addresses (host:port).
	ClusterEtcdEndpoints []string `yaml:"cluster_etcd_endpoints"`
	// ClusterPeers are every node's automanaged peer address (host:port),
	// this node's included; ClusterPeerListen is this node's.
	ClusterPeers      []string `yaml:"cluster_peers"`
	ClusterPeerListen string   `yaml:"cluster_peer_listen"`
	// ClusterBind is where the node listens for the other nodes;
	// ClusterAdvertise is the host:port they dial (empty: the bound address).
	ClusterBind      string `yaml:"cluster_bind"`
	ClusterAdvertise string `yaml:"cluster_advertise"`
	// ClusterHeartbeatExpiry is how long the nodes go without hearing from
	// one before they block it.
	ClusterHeartbeatExpiry time.Duration `yaml:"cluster_heartbeat_expiry"`
	// ClusterTLSCertFile, ClusterTLSKeyFile and ClusterTLSCAFile (PEM)
	// make the nodes talk mutual TLS: each accepts only a peer whose
	// certificate ClusterTLSCAFile signed with ClusterName as a DNS name
	// in its SAN. Required when ClusterBind is beyond loopback.
	ClusterTLSCertFile string `yaml:"cluster_tls_cert_file"`
	ClusterTLSKeyFile  string `yaml:"cluster_tls_key_file"`
	ClusterTLSCAFile   string `yaml:"cluster_tls_ca_file"`
	// ClusterEtcdTLSCAFile (PEM) checks etcd's certificate; with
	// ClusterEtcdTLSCertFile and ClusterEtcdTLSKeyFile the node presents a
	// client certificate to an etcd that asks for one. Required when an
	// etcd endpoint is beyond loopback.
	ClusterEtcdTLSCertFile string `yaml:"cluster_etcd_tls_cert_file"`
	ClusterEtcdTLSKeyFile  string `yaml:"cluster_etcd_tls_key_file"`
	ClusterEtcdTLSCAFile   string `yaml:"cluster_etcd_tls_ca_file"`

	// Retired names the settings of an earlier release that were given
	// (in the file, the environment or a flag) and are ignored: the server
	// starts, and warns. Not a setting itself.
	Retired []string `yaml:"-"`
}

// Store and auth modes, and log formats.
const (
	StoreMemory   = "memory"
	StorePebble   = "pebble"
	StorePostgres = "postgres"

	AuthWeChat    = "wechat"
	AuthGuest     = "guest"
	AuthAnonymous = "anonymous"

	LogText = "text"
	LogJSON = "json"
)

// Secrets is the list of token secrets, the signing one first: auth_secrets,
// or auth_secret as a list of one.
func (c Config) Secrets() []string {
	if len(c.AuthSecrets) > 0 {
		return c.AuthSecrets
	}
	if c.AuthSecret != "" {
		return []string{c.AuthSecret}
	}
	return nil
}

// Default returns the defaults: the demo's game on port 8080, players in
// caiquan.db, WeChat login. Auth needs auth_secret, wechat_appid and
// wechat_secret, which have no defaults, so Default alone does not
// validate; `make run` adds -auth-mode guest and a throwaway secret.
func Default() Config {
	return Config{
		Listen:             ":8080",
		SocketIOPrefix:     "/applet/websocket/socket.io/",
		RoomSize:           2,
		RoundTime:          3 * time.Second,
		BotFill:            time.Second,
		BotFirstChoice:     10 * time.Millisecond,
		BotRechooseMin:     100 * time.Millisecond,
		BotRechooseMax:     4099 * time.Millisecond,
		MaxFrameBytes:      4096,
		RateLimit:          20,
		RateBurst:          40,
		HandshakeTimeout:   10 * time.Second,
		PingInterval:       25 * time.Second,
		IdleTimeout:        60 * time.Second,
		PingTimeout:        20 * time.Second,
		OutboundQueue:      64,
		AllowedOrigins:     nil,
		AllowNoOrigin:      true,
		ResumeWindow:       15 * time.Second,
		DrainTimeout:       15 * time.Second,
		AdminListen:        "127.0.0.1:8081",
		AdminTokenFile:     "caiquan.admin-token",
		MetricsListen:      "127.0.0.1:9100",
		LogLevel:           "info",
		LogFormat:          LogText,
		MemoryLimitMiB:     1024,
		GCPercent:          200,
		Store:              StorePebble,
		StorePath:          "caiquan.db",
		StoreWriteVersion:  store.RecordVersion,
		StoreMinFreeMiB:    64,
		GuestRecordTTL:     720 * time.Hour,
		AuthMode:           AuthWeChat,
		TokenTTL:           24 * time.Hour,
		GuestRefreshWindow: 720 * time.Hour,
		WeChatAPIBase:      "https://api.weixin.qq.com",
		LoginTimeout:       5 * time.Second,

		ClusterProvider:        "none",
		ClusterName:            "caiquan",
		ClusterBind:            "127.0.0.1:0",
		ClusterHeartbeatExpiry: 10 * time.Second,

		HTTPReadHeaderTimeout: 10 * time.Second,
		HTTPIdleTimeout:       60 * time.Second,
		HTTPMaxHeaderBytes:    16 << 10,
		MaxConnections:        0, // the open-file limit minus 256
		MaxConnectionsPerIP:   0, // off: carriers put many players behind one address
		HTTPRateLimit:         1,
		HTTPRateBurst:         20,
		WeChatMaxConcurrent:   32,
		WeChatContentCheck:    true,
	}
}
