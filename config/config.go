package config

import "time"

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
	// OutboundQueue is how many messages may wait for a slow client before
	// it is disconnected.
	OutboundQueue int `yaml:"outbound_queue"`
	// AllowedOrigins lists the Origin header values accepted on upgrade;
	// "*" accepts any. AllowNoOrigin accepts clients that send none
	// (mini-programs, native apps).
	AllowedOrigins []string `yaml:"allowed_origins"`
	AllowNoOrigin  bool     `yaml:"allow_no_origin"`

	// DrainTimeout bounds how long SIGTERM waits for rounds in progress.
	DrainTimeout time.Duration `yaml:"drain_timeout"`

	// AdminListen is the address of the admin API (actors, kills, chaos,
	// metrics); empty turns it off. AdminToken is the bearer token it
	// requires; it must be set when AdminListen is not a loopback address.
	AdminListen string `yaml:"admin_listen"`
	// PprofListen serves Go's profiler (net/http/pprof) for performance
	// work; empty (the default) turns it off. Loopback addresses only.
	PprofListen string `yaml:"pprof_listen"`
	AdminToken  string `yaml:"admin_token"`

	// MemoryLimitMiB is the process's soft memory limit (Go's
	// debug.SetMemoryLimit); near it the server refuses new connections
	// and new rounds until memory falls back. 0 turns both off.
	// GCPercent is the collector's fixed GOGC. GOMEMLIMIT and GOGC in the
	// environment win over both.
	MemoryLimitMiB int `yaml:"memory_limit_mib"`
	GCPercent      int `yaml:"gc_percent"`

	// Store is where player records live: "bolt" (the file StorePath, one
	// node), "postgres" (PostgresURL, shared by nodes) or "memory" (gone
	// with the process; for tests).
	Store       string `yaml:"store"`
	StorePath   string `yaml:"store_path"`
	PostgresURL string `yaml:"postgres_url"`

	// AuthMode is "wechat" (players log in with WeChat at POST /login and
	// present the token; the player id is the server's) or "anonymous" (the
	// 2016 behaviour: the client names its uid; for the demo).
	AuthMode string `yaml:"auth_mode"`
	// AuthSecret signs the tokens; at least 32 bytes. TokenTTL is how long
	// a token is valid.
	AuthSecret string        `yaml:"auth_secret"`
	TokenTTL   time.Duration `yaml:"token_ttl"`
	// WeChatAppID and WeChatSecret are the mini-program's credentials for
	// code2Session at WeChatAPIBase; LoginTimeout bounds that call.
	WeChatAppID   string        `yaml:"wechat_appid"`
	WeChatSecret  string        `yaml:"wechat_secret"`
	WeChatAPIBase string        `yaml:"wechat_api_base"`
	LoginTimeout  time.Duration `yaml:"login_timeout"`

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
}

// Store and auth modes.
const (
	StoreMemory   = "memory"
	StoreBolt     = "bolt"
	StorePostgres = "postgres"

	AuthWeChat    = "wechat"
	AuthAnonymous = "anonymous"
)

// Default returns the defaults: the demo's game on port 8080, players in
// caiquan.db, WeChat login. Auth needs auth_secret, wechat_appid and
// wechat_secret, which have no defaults, so Default alone does not
// validate; `make run` adds -auth-mode anonymous.
func Default() Config {
	return Config{
		Listen:           ":8080",
		SocketIOPrefix:   "/applet/websocket/socket.io/",
		RoomSize:         2,
		RoundTime:        3 * time.Second,
		BotFill:          time.Second,
		BotFirstChoice:   10 * time.Millisecond,
		BotRechooseMin:   100 * time.Millisecond,
		BotRechooseMax:   4099 * time.Millisecond,
		MaxFrameBytes:    4096,
		RateLimit:        20,
		RateBurst:        40,
		HandshakeTimeout: 10 * time.Second,
		PingInterval:     25 * time.Second,
		IdleTimeout:      60 * time.Second,
		OutboundQueue:    64,
		AllowedOrigins:   nil,
		AllowNoOrigin:    true,
		DrainTimeout:     15 * time.Second,
		AdminListen:      "127.0.0.1:8081",
		MemoryLimitMiB:   1024,
		GCPercent:        200,
		Store:            StoreBolt,
		StorePath:        "caiquan.db",
		AuthMode:         AuthWeChat,
		TokenTTL:         24 * time.Hour,
		WeChatAPIBase:    "https://api.weixin.qq.com",
		LoginTimeout:     5 * time.Second,

		ClusterProvider:        "none",
		ClusterName:            "caiquan",
		ClusterBind:            "127.0.0.1:0",
		ClusterHeartbeatExpiry: 10 * time.Second,
	}
}
