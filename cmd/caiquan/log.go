package main

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net/url"
	"strings"

	"github.com/caiquan/caiquan/config"
	"github.com/caiquan/caiquan/internal/quietlog"
)

// newLogger is the server's log: text (key=value) or JSON lines at the
// configured level, with every secret of cfg (and any added to sec later)
// redacted.
func newLogger(out io.Writer, cfg config.Config, sec *secrets) *slog.Logger {
	sec.add(cfg.WeChatSecret, cfg.AuthSecret, cfg.AdminToken, cfg.MetricsToken, postgresPassword(cfg.PostgresURL))
	sec.add(cfg.AuthSecrets...)
	opts := &slog.HandlerOptions{Level: parseLevel(cfg.LogLevel)}
	if cfg.LogFormat == config.LogJSON {
		return slog.New(redacting{slog.NewJSONHandler(out, opts), sec, true})
	}
	return slog.New(redacting{slog.NewTextHandler(out, opts), sec, false})
}

// Libraries' own log lines, each marked with the attribute lib. Their
// chattier levels are a trace of every call (an etcd request, a gRPC
// reconnect), so each has a floor above the server's.
const (
	libKey        = "lib"
	libProtoactor = "protoactor"
	libEtcd       = "etcd"
	libGRPC       = "grpc"
)

// libLog is the log of a library: the server's handler, lines marked lib,
// none below min.
func libLog(h slog.Handler, lib string, min slog.Level) slog.Handler {
	return floor{h.WithAttrs([]slog.Attr{slog.String(libKey, lib)}), min}
}

// floor passes records at min and above.
type floor struct {
	slog.Handler
	min slog.Level
}

func (f floor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f floor) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < f.min {
		return nil
	}
	return f.Handler.Handle(ctx, r)
}

func (f floor) WithAttrs(attrs []slog.Attr) slog.Handler {
	return floor{f.Handler.WithAttrs(attrs), f.min}
}

func (f floor) WithGroup(name string) slog.Handler {
	return floor{f.Handler.WithGroup(name), f.min}
}

// parseLevel reads a validated log_level.
func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// postgresPassword is the password in a PostgreSQL URL, if any.
func postgresPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// httpErrorLog takes net/http's own complaints (a failed accept, a
// panicking handler) into the log, one line per 10 s: a client can
// provoke them at will.
func httpErrorLog(q *quietlog.Logger, listener string) *log.Logger {
	return log.New(quietWriter{q, listener}, "", 0)
}

type quietWriter struct {
	q        *quietlog.Logger
	listener string
}

func (w quietWriter) Write(p []byte) (int, error) {
	w.q.Warn("http:"+w.listener, strings.TrimSpace(string(p)), "listener", w.listener)
	return len(p), nil
}

// warnOnly passes records of level warning and above to the handler
// inside, and protoactor's note that an actor failed, which it logs at info
// ("[ACTOR] Recovering", with the panic): a failure must show in the log.
type warnOnly struct{ slog.Handler }

// actorFailed starts protoactor's log line for a failed actor
// (actor/actor_context.go:706).
const actorFailed = "[ACTOR] Recovering"

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo && w.Handler.Enabled(ctx, l)
}

func (w warnOnly) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn && !strings.HasPrefix(r.Message, actorFailed) {
		return nil
	}
	return w.Handler.Handle(ctx, r)
}

func (w warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{w.Handler.WithAttrs(attrs)}
}

func (w warnOnly) WithGroup(name string) slog.Handler {
	return warnOnly{w.Handler.WithGroup(name)}
}
