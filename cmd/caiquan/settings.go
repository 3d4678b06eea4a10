package main

import (
	"time"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/config"
	"github.com/caiquan/caiquan/gateway"
)

// Each package takes a small settings struct of its own; this file is the
// one place that maps the validated server configuration onto them.

// Settlement and attach timings are the actors' own, not operator settings.
// settleRetry x settleAttempts is a round's settle window: with the room's
// final asks after it, every round ends within 5 s of its deadline.
const (
	settleRetry    = 300 * time.Millisecond
	settleAttempts = 8
	attachTimeout  = 5 * time.Second
)

func actorSettings(c config.Config) actors.Settings {
	return actors.Settings{
		RoomSize:         c.RoomSize,
		RoundTime:        c.RoundTime,
		BotFill:          c.BotFill,
		BotFirstChoice:   c.BotFirstChoice,
		BotRechooseMin:   c.BotRechooseMin,
		BotRechooseMax:   c.BotRechooseMax,
		SettleRetry:      settleRetry,
		SettleAttempts:   settleAttempts,
		AttachTimeout:    attachTimeout,
		HandshakeTimeout: c.HandshakeTimeout,
		ResumeWindow:     c.ResumeWindow,
		Clock:            actors.RealClock(),
		Seed:             uint64(time.Now().UnixNano()),
	}
}

func gatewayConfig(c config.Config) gateway.Config {
	return gateway.Config{
		SocketIOPrefix:   c.SocketIOPrefix,
		MaxFrameBytes:    c.MaxFrameBytes,
		RateLimit:        c.RateLimit,
		RateBurst:        c.RateBurst,
		HandshakeTimeout: c.HandshakeTimeout,
		PingInterval:     c.PingInterval,
		IdleTimeout:      c.IdleTimeout,
		OutboundQueue:    c.OutboundQueue,
		AllowedOrigins:   c.AllowedOrigins,
		AllowNoOrigin:    c.AllowNoOrigin,
		PingTimeout:      c.PingTimeout,

		MaxConnections:      maxConnections(c),
		MaxConnectionsPerIP: c.MaxConnectionsPerIP,
		TrustedProxies:      trustedProxies(c),
	}
}
