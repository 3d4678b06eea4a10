package main

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/caiquan/caiquan/config"
)

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

func usage(w io.Writer) {
	io.WriteString(w, "usage: caiquan [flags]\n       caiquan admin COMMAND ...   (caiquan admin -h)\n       caiquan store check|export|import ...   (caiquan store -h)\n\nEvery flag can also be set in the YAML file (-config) or as CAIQUAN_<NAME>.\n\n")
	config.Usage(w)
}
