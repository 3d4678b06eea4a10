package gateway

import (
	"errors"
	"time"
)

// Config is what the gateway needs of the server's settings. cmd/caiquan
// fills it from config.Config, which has already defaulted and validated
// every value; New only refuses values that would turn a limit off.
type Config struct {
	// SocketIOPrefix is the path under which Socket.IO answers.
	SocketIOPrefix string
	// MaxFrameBytes is the largest frame a client may send.
	MaxFrameBytes int
	// RateLimit and RateBurst bound the messages a connection may send.
	RateLimit float64
	RateBurst int
	// HandshakeTimeout bounds the time to a hello.
	HandshakeTimeout time.Duration
	// PingInterval is how often the server pings; IdleTimeout closes a
	// connection that sent nothing for that long.
	PingInterval time.Duration
	IdleTimeout  time.Duration
	// OutboundQueue is how many messages may wait for a slow client.
	OutboundQueue int
	// AllowedOrigins and AllowNoOrigin decide which Origin headers may
	// upgrade.
	AllowedOrigins []string
	AllowNoOrigin  bool
}

func (c Config) validate() error {
	switch {
	case c.SocketIOPrefix == "":
		return errors.New("gateway: no Socket.IO prefix")
	case c.MaxFrameBytes <= 0, c.RateLimit <= 0, c.RateBurst <= 0, c.OutboundQueue <= 0:
		return errors.New("gateway: frame size, rate limit, burst and outbound queue must be positive")
	case c.HandshakeTimeout <= 0, c.PingInterval <= 0, c.IdleTimeout <= 0:
		return errors.New("gateway: handshake timeout, ping interval and idle timeout must be positive")
	}
	return nil
}
