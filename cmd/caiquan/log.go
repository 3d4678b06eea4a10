package main

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net/url"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/config"
	"github.com/caiquan/caiquan/internal/quietlog"
	"github.com/caiquan/caiquan/internal/zapslog"
	"go.uber.org/zap/zapgrpc"
	"google.golang.org/grpc/grpclog"
)

// newLogger is the server's log: text (key=value) or JSON lines at the
// configured level, with every secret of cfg (and any added to sec later)
// redacted.
func newLogger(out io.Writer, cfg config.Config, sec *secrets) *slog.Logger {
	sec.add(cfg.WeChatSecret, cfg.AuthSecret, cfg.AdminToken, cfg.MetricsToken, postgresPassword(cfg.PostgresURL))
	sec.add(cfg.AuthSecrets...)
	opts := &slog.HandlerOptions{Level: parseLevel(cfg.LogLevel)}
	if cfg.LogFormat == config.LogJSON {
		// A duration reads "1.5s" as in text, not as nanoseconds.
		opts.ReplaceAttr = func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindDuration {
				return slog.String(a.Key, a.Value.Duration().String())
			}
			return a
		}
		return slog.New(redacting{slog.NewJSONHandler(out, opts), sec, true})
	}
	return slog.New(redacting{slog.NewTextHandler(out, opts), sec, false})
}

// Libraries' own log lines go through the server's handler (its format,
// level and redaction), each marked with the attribute lib. Their chattier
// levels are a trace of every call, so each has a floor: protoactor
// warnings (warnOnly), the etcd client info (at debug it notes every
// request, and the member probes etcd four times a second), gRPC errors
// (as gRPC's own default does: its warnings repeat every reconnect to a
// member that died).
const (
	libKey        = "lib"
	libProtoactor = "protoactor"
	libEtcd       = "etcd"
	libGRPC       = "grpc"
)

// withLib marks h's lines as lib's.
func withLib(h slog.Handler, lib string) slog.Handler {
	return h.WithAttrs([]slog.Attr{slog.String(libKey, lib)})
}

// takeProcessLogs sends what logs through the process's defaults to log:
// the log package and slog's default (through slog.SetDefault), and gRPC's
// logger (which the cluster's remote and the etcd client use). Only the
// binary calls it: the defaults are the process's, not one Main's.
func takeProcessLogs(log *slog.Logger) {
	slog.SetDefault(log)
	grpclog.SetLoggerV2(zapgrpc.NewLogger(zapslog.New(withLib(log.Handler(), libGRPC), slog.LevelError)))
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
	failed := strings.HasPrefix(r.Message, actorFailed)
	if r.Level < slog.LevelWarn && !failed {
		return nil
	}
	if failed {
		r = withRound(r)
	}
	return w.Handler.Handle(ctx, r)
}

// withRound adds the round to protoactor's line about a failed room or
// bot, which names the actor only by its PID (attribute self).
func withRound(r slog.Record) slog.Record {
	var round string
	r.Attrs(func(a slog.Attr) bool {
		if pid, ok := a.Value.Any().(*actor.PID); ok && a.Key == "self" && pid != nil {
			round, _ = actors.RoundOfPID(pid.Id)
			return false
		}
		return true
	})
	if round == "" {
		return r
	}
	r = r.Clone()
	r.AddAttrs(slog.String(actors.LogRound, round))
	return r
}

func (w warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{w.Handler.WithAttrs(attrs)}
}

func (w warnOnly) WithGroup(name string) slog.Handler {
	return warnOnly{w.Handler.WithGroup(name)}
}
