// Package metrics is the server's one set of Prometheus metrics. The actors
// and the gateway update them; the admin listener serves them at /metrics.
package metrics

import (
	"net/http"

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
	ActorRestarts    *prometheus.CounterVec // kind
	ActorKills       *prometheus.CounterVec // kind, mode
	MessagesRejected *prometheus.CounterVec // reason (an error code or a close reason)
	// ConnectionsRefused counts connections refused before the upgrade,
	// by the limit that refused them; HTTPRefused requests of the HTTP
	// API refused by a limit, by endpoint and reason. Every series the
	// server can produce is present from the start, at zero.
	ConnectionsRefused *prometheus.CounterVec // reason
	HTTPRefused        *prometheus.CounterVec // endpoint, reason
}

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
		Name: "caiquan_connections_refused_total", Help: "Client connections refused with 503 by max_connections or max_connections_per_ip.",
	}, []string{"reason"})
	for _, r := range []string{"max_connections", "max_connections_per_ip"} {
		m.ConnectionsRefused.WithLabelValues(r)
	}
	m.HTTPRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "caiquan_http_refused_total", Help: "HTTP API requests refused by a limit (rate_limited: 429, wechat_busy: 503), by endpoint.",
	}, []string{"endpoint", "reason"})
	for _, e := range [][2]string{{"/login", "rate_limited"}, {"/login", "wechat_busy"}, {"/leaderboard", "rate_limited"}} {
		m.HTTPRefused.WithLabelValues(e[0], e[1])
	}
	for _, c := range []prometheus.Collector{
		m.ConnectionsRefused, m.HTTPRefused,
		m.Connections, m.PlayersWaiting, m.RoomsInProgress, m.RoundsSettled, m.RoundsVoided,
		m.TimeToMatch, m.BotFill, m.SettlementLag, m.ActorRestarts, m.ActorKills, m.MessagesRejected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		f(c)
	}
	return m
}

// Handler serves the metrics in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
