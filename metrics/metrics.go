// Package metrics is the server's one set of Prometheus metrics. The actors
// and the gateway update them; a listener of their own (metrics_listen)
// serves them at /metrics (Endpoint), apart from the admin API, so that a
// scraper never holds the token that kills actors.
package metrics

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/caiquan/caiquan/messages"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every collector. Its zero value is not usable; call New.
type Metrics struct {
	registry *prometheus.Registry

	Connections      *prometheus.GaugeVec   // protocol
	PlayersWaiting   prometheus.Gauge       //
	RoomsInProgress  prometheus.Gauge       //
	RoundsSettled    prometheus.Counter     //
	RoundsVoided     prometheus.Counter     //
	TimeToMatch      prometheus.Histogram   // join to seat, humans seated with humans
	BotFill          prometheus.Histogram   // join to seat, rooms that needed a bot
	SettlementLag    prometheus.Histogram   // deadline to result sent
	RelayLag         prometheus.Histogram   // a move handed to its session to the others' sessions sending it on
	ActorRestarts    *prometheus.CounterVec // kind
	ActorKills       *prometheus.CounterVec // kind, mode
	MessagesRejected *prometheus.CounterVec // reason (an error code or a close reason)
	// ConnectionsRefused counts connections refused before the upgrade,
	// by reason; ConnectionsDropped connections the server closed because
	// of what the client did; HTTPRefused requests of the HTTP API refused
	// by a limit, by endpoint and reason. Every series the server can
	// produce is present from the start, at zero.
	ConnectionsRefused *prometheus.CounterVec // reason: Refused*
	ConnectionsDropped *prometheus.CounterVec // reason: Dropped*
	HTTPRefused        *prometheus.CounterVec // endpoint, reason
	DamagedRecords     prometheus.Counter     // store records that failed to read
	StoreLowSpace      prometheus.Gauge       // 1 while the store's disk is below store_min_free_mib
	JoinsRefused       prometheus.Counter     // joins answered server_busy for low disk space
	GuestsExpired      prometheus.Counter     // guest records removed by the sweep

	BuildInfo       *prometheus.GaugeVec     // version, commit, go: one series at 1 (SetBuildInfo)
	StoreSeconds    *prometheus.HistogramVec // op: every call through Store
	StoreErrors     *prometheus.CounterVec   // op
	StoreStaleSaves prometheus.Counter       // Save answered ErrStale
	Logins          *prometheus.CounterVec   // method, outcome ("ok", "renewed" or a refusal code)
	// PeerRTT is the round trip of a probe to another member's node
	// actor, over the remote connection the game's messages take;
	// PeerProbeFailures the probes that got no answer in time.
	PeerRTT           prometheus.Histogram
	PeerProbeFailures prometheus.Counter
	// Withheld counts messages not sent to a member whose release does
	// not know their type (mid-upgrade).
	Withheld prometheus.Counter
	// cluster is read at each scrape by the members and fenced gauges.
	cluster atomic.Pointer[ClusterState]
}

// ClusterState is what the cluster gauges read at each scrape.
type ClusterState struct {
	Members func() int  // members this node sees, itself included
	Fenced  func() bool // this node has cut itself off
}

// RejectedFrameTooBig is the reason of MessagesRejected for a frame over
// max_frame_bytes; the others are the error codes sent to the client.
const RejectedFrameTooBig = "frame_too_big"

// Reasons of ConnectionsRefused.
const (
	RefusedOrigin     = "origin"                 // Origin not in allowed_origins
	RefusedDraining   = "draining"               // the server is shutting down
	RefusedBadUpgrade = "bad_upgrade"            // not a valid WebSocket handshake
	RefusedMemory     = "memory"                 // the process is near memory_limit_mib
	RefusedTotal      = "max_connections"        // over max_connections
	RefusedPerIP      = "max_connections_per_ip" // over max_connections_per_ip
)

// Reasons of ConnectionsDropped.
const (
	DroppedFlood        = "flood"         // far over the message rate limit
	DroppedFrameTooBig  = "frame_too_big" // a frame over max_frame_bytes
	DroppedSlowConsumer = "slow_consumer" // the outbound queue filled up
	DroppedHelloTimeout = "hello_timeout" // no hello within handshake_timeout
)

// RefusedReasons and DroppedReasons list every label value, for tests.
var (
	RefusedReasons = []string{RefusedOrigin, RefusedDraining, RefusedBadUpgrade, RefusedMemory, RefusedTotal, RefusedPerIP}
	DroppedReasons = []string{DroppedFlood, DroppedFrameTooBig, DroppedSlowConsumer, DroppedHelloTimeout}
)

// New makes a fresh set on its own registry, with Go and process metrics.
func New() *Metrics {
	r := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m := &Metrics{registry: r}
	m.Connections = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "caiquan_connections", Help: "Open client connections by protocol.",
	}, []string{"protocol"})
	m.PlayersWaiting = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "caiquan_players_waiting", Help: "Players in the lobby's queue.",
	})
	m.RoomsInProgress = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "caiquan_rooms_in_progress", Help: "Rooms playing a round.",
	})
	m.RoundsSettled = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "caiquan_rounds_settled_total", Help: "Rounds that ended with a result.",
	})
	m.RoundsVoided = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "caiquan_rounds_voided_total", Help: "Rounds that ended with a void notice.",
	})
	fast := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	m.TimeToMatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "caiquan_time_to_match_seconds", Help: "From join to a seat among humans only.", Buckets: fast,
	})
	m.BotFill = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "caiquan_bot_fill_seconds", Help: "From the first join to a seat in a room that needed bots.",
		Buckets: []float64{.25, .5, .75, .9, 1, 1.1, 1.25, 1.5, 2, 5},
	})
	m.SettlementLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "caiquan_settlement_lag_seconds", Help: "From a round's deadline to its result.", Buckets: fast,
	})
	m.RelayLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "caiquan_relay_lag_seconds", Help: "From the gateway handing a player's move to its session to the other players' sessions sending it on (those on the mover's node).", Buckets: fast,
	})
	m.ActorRestarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "caiquan_actor_restarts_total", Help: "Actor restarts by supervision, by kind.",
	}, []string{"kind"})
	m.ActorKills = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "caiquan_actor_kills_total", Help: "Actors killed through the admin API, by kind and mode.",
	}, []string{"kind", "mode"})
	m.MessagesRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "caiquan_messages_rejected_total", Help: "Client messages refused, by reason.",
	}, []string{"reason"})
	m.ConnectionsRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "caiquan_connections_refused_total", Help: "Client connections refused before the upgrade, by reason.",
	}, []string{"reason"})
	m.ConnectionsDropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "caiquan_connections_dropped_total", Help: "Connections closed by the server for what the client did, by reason.",
	}, []string{"reason"})
	// A rate over a series that appears only with its first event misses
	// that event; alerts want the zero.
	for _, r := range RefusedReasons {
		m.ConnectionsRefused.WithLabelValues(r)
	}
	for _, r := range DroppedReasons {
		m.ConnectionsDropped.WithLabelValues(r)
	}
	for _, r := range append([]string{RejectedFrameTooBig}, messages.Codes...) {
		m.MessagesRejected.WithLabelValues(r)
	}
	m.HTTPRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "caiquan_http_refused_total", Help: "HTTP API requests refused by a limit (rate_limited: 429, wechat_busy: 503), by endpoint.",
	}, []string{"endpoint", "reason"})
	for _, e := range [][2]string{{"/login", "rate_limited"}, {"/login", "wechat_busy"}, {"/guest", "rate_limited"}, {"/leaderboard", "rate_limited"}} {
		m.HTTPRefused.WithLabelValues(e[0], e[1])
	}

	m.DamagedRecords = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "caiquan_store_damaged_records_total", Help: "Player records that failed to read (decode, version or checksum); each one's player gets server_busy.",
	})
	m.StoreLowSpace = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "caiquan_store_low_space", Help: "1 while the store's file system has less free space than store_min_free_mib: no new rounds are seated.",
	})
	m.JoinsRefused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "caiquan_store_low_space_joins_refused_total", Help: "Joins answered server_busy because the store's disk is nearly full.",
	})
	m.GuestsExpired = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "caiquan_store_guest_records_expired_total", Help: "Records of non-WeChat players removed after guest_record_ttl unseen.",
	})
	m.BuildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "caiquan_build_info", Help: "1, labelled with the running binary's version, commit and Go version.",
	}, []string{"version", "commit", "go"})
	m.StoreSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "caiquan_store_operation_seconds", Help: "Duration of player store operations, by operation.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"op"})
	m.StoreErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "caiquan_store_errors_total", Help: "Player store operations that failed, by operation (not counting ErrNoPlayer answers or stale saves).",
	}, []string{"op"})
	for _, op := range StoreOps {
		m.StoreSeconds.WithLabelValues(op)
		m.StoreErrors.WithLabelValues(op)
	}
	m.StoreStaleSaves = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "caiquan_store_stale_saves_total", Help: "Saves refused because the record changed since it was loaded (another writer of the same player).",
	})
	m.Logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "caiquan_logins_total", Help: "Answers of POST /login (method wechat) and POST /guest (method guest), by outcome: ok, renewed or the refusal code.",
	}, []string{"method", "outcome"})
	members := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "caiquan_cluster_members", Help: "Cluster members this node sees, itself included; 1 on a single node.",
	}, func() float64 {
		if c := m.cluster.Load(); c != nil {
			return float64(c.Members())
		}
		return 1
	})
	fenced := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "caiquan_cluster_fenced", Help: "1 once this node has fenced itself off its cluster (it drains and exits 3), else 0.",
	}, func() float64 {
		if c := m.cluster.Load(); c != nil && c.Fenced() {
			return 1
		}
		return 0
	})
	m.PeerRTT = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "caiquan_cluster_peer_rtt_seconds", Help: "Round trip of a probe message to another member's node actor and back.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.PeerProbeFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "caiquan_cluster_peer_probe_failures_total", Help: "Probes of another member that got no answer in time.",
	})

	m.Withheld = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "caiquan_cluster_messages_withheld_total", Help: "Messages not sent to a member of an older release that does not know their type (during a rolling upgrade).",
	})

	for _, c := range []prometheus.Collector{
		m.Withheld, m.BuildInfo, m.StoreSeconds, m.StoreErrors, m.StoreStaleSaves, m.Logins,
		members, fenced, m.PeerRTT, m.PeerProbeFailures,
		m.DamagedRecords, m.StoreLowSpace, m.JoinsRefused, m.GuestsExpired, m.HTTPRefused,
		m.Connections, m.PlayersWaiting, m.RoomsInProgress, m.RoundsSettled, m.RoundsVoided,
		m.TimeToMatch, m.BotFill, m.SettlementLag, m.RelayLag, m.ActorRestarts, m.ActorKills, m.MessagesRejected,
		m.ConnectionsRefused, m.ConnectionsDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		f(c)
	}
	return m
}

// SetBuildInfo sets caiquan_build_info's one series.
func (m *Metrics) SetBuildInfo(version, commit, goVersion string) {
	m.BuildInfo.Reset()
	m.BuildInfo.WithLabelValues(version, commit, goVersion).Set(1)
}

// ObserveCluster makes the cluster gauges read c from now on.
func (m *Metrics) ObserveCluster(c ClusterState) { m.cluster.Store(&c) }

// Handler serves the metrics in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Endpoint is the metrics listener's whole handler: GET /metrics and
// nothing else (404). With a token, /metrics wants
// "Authorization: Bearer <token>" (compared in constant time).
func (m *Metrics) Endpoint(token string) http.Handler {
	h := m.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != "/metrics":
			refuse(w, http.StatusNotFound, "not_found", "this listener serves /metrics only")
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			refuse(w, http.StatusMethodNotAllowed, "method_not_allowed", "GET /metrics")
		case token != "" && !bearer(r, token):
			w.Header().Set("WWW-Authenticate", `Bearer realm="caiquan-metrics"`)
			refuse(w, http.StatusUnauthorized, "unauthorized", "/metrics needs Authorization: Bearer <metrics_token>")
		default:
			h.ServeHTTP(w, r)
		}
	})
}

func bearer(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

func refuse(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "message": message})
}
