package gateway

import (
	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/metrics"
)

// Protocols: the protocol label of caiquan_connections.
const (
	ProtocolWS          = "ws"           // our own protocol over WebSocket
	ProtocolEIO3        = "eio3"         // Socket.IO v2 / Engine.IO 3 over WebSocket (the 2016 client)
	ProtocolEIO4        = "eio4"         // Socket.IO v4 / Engine.IO 4 over WebSocket
	ProtocolEIO4Polling = "eio4-polling" // Engine.IO 4 long-polling, until it upgrades
)

// Protocols lists every protocol label value.
var Protocols = []string{ProtocolWS, ProtocolEIO3, ProtocolEIO4, ProtocolEIO4Polling}

// WithMetrics counts connections by protocol and refused messages by
// reason. Every protocol's gauge exists from the start, at zero.
func WithMetrics(m *metrics.Metrics) Option {
	return func(g *Gateway) {
		g.metrics = m
		if m == nil {
			return
		}
		for _, p := range Protocols {
			m.Connections.WithLabelValues(p)
		}
	}
}

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

// refused counts an upgrade refused for reason (a metrics.Refused* value)
// and logs it at debug level, one line per reason per 10 s.
func (g *Gateway) refused(reason, msg string, args ...any) {
	if g.metrics != nil {
		g.metrics.ConnectionsRefused.WithLabelValues(reason).Inc()
	}
	g.quiet.Debug("refused:"+reason, msg, args...)
}

// dropped counts a connection closed for what its client did (reason, a
// metrics.Dropped* value) and logs it at debug level, one line per reason
// per 10 s.
func (c *conn) dropped(reason, msg string, args ...any) {
	if c.g.metrics != nil {
		c.g.metrics.ConnectionsDropped.WithLabelValues(reason).Inc()
	}
	c.g.quiet.Debug("dropped:"+reason, msg, append(args, actors.LogConn, c.id, "wire", c.wire.name(), "remote", c.ws.RemoteAddr().String())...)
}

// clip bounds what a client wrote before it goes into a log line.
func clip(s string) string {
	const max = 128
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
