package gateway

import "github.com/caiquan/caiquan/metrics"

// WithMetrics counts connections by protocol and refused messages by reason.
func WithMetrics(m *metrics.Metrics) Option { return func(g *Gateway) { g.metrics = m } }

func (g *Gateway) countConn(wire string, delta float64) {
	if g.metrics != nil {
		g.metrics.Connections.WithLabelValues(wire).Add(delta)
	}
}

func (g *Gateway) countRefused(reason string) {
	if g.metrics != nil {
		g.metrics.ConnectionsRefused.WithLabelValues(reason).Inc()
	}
}

func (g *Gateway) countRejected(reason string) {
	if g.metrics != nil {
		g.metrics.MessagesRejected.WithLabelValues(reason).Inc()
	}
}
