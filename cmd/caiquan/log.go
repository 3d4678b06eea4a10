package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/caiquan/caiquan/config"
)

// warnOnly passes records of level warning and above to the handler inside.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{w.Handler.WithAttrs(attrs)}
}

func (w warnOnly) WithGroup(name string) slog.Handler {
	return warnOnly{w.Handler.WithGroup(name)}
}

func usage(w io.Writer) {
	io.WriteString(w, "usage: caiquan [flags]\n\nEvery flag can also be set in the YAML file (-config) or as CAIQUAN_<NAME>.\n\n")
	config.Usage(w)
}
