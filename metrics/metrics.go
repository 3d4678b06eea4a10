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
	DamagedRecords   prometheus.Counter     // store records that failed to read
	StoreLowSpace    prometheus.Gauge       // 1 while the store's disk is below store_min_free_mib
	JoinsRefused     prometheus.Counter     // joins answered server_busy for low disk space
	GuestsExpired    prometheus.Counter     // guest records removed by the sweep
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
	for _, c := range []prometheus.Collector{
		m.DamagedRecords, m.StoreLowSpace, m.JoinsRefused, m.GuestsExpired,
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
