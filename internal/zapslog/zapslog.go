// Package zapslog writes a zap logger's entries to a slog.Handler, so that
// the libraries that log through zap (the etcd client, and gRPC through
// zapgrpc) share the server's log: its format, its level and its
// redaction of secrets.
//
// zap's own adapter (go.uber.org/zap/exp/zapslog) goes the other way round
// and needs a newer zap than the etcd client pins; this one is a
// zapcore.Core of a few lines.
package zapslog

import (
	"context"
	"log/slog"
	"maps"
	"slices"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New is a zap logger that writes to h whatever h takes at level min or
// above (a library's debug lines can be a trace of every call).
func New(h slog.Handler, min slog.Level) *zap.Logger {
	return zap.New(core{h: h, min: min})
}

type core struct {
	h   slog.Handler
	min slog.Level
}

// Level maps zap's levels to slog's; DPanic, Panic and Fatal are errors
// (zap itself panics or exits after writing them).
func Level(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return slog.LevelDebug
	case l == zapcore.InfoLevel:
		return slog.LevelInfo
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func (c core) Enabled(l zapcore.Level) bool {
	sl := Level(l)
	return sl >= c.min && c.h.Enabled(context.Background(), sl)
}

func (c core) With(fields []zapcore.Field) zapcore.Core {
	if len(fields) == 0 {
		return c
	}
	return core{h: c.h.WithAttrs(attrs(fields)), min: c.min}
}

func (c core) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c core) Write(e zapcore.Entry, fields []zapcore.Field) error {
	r := slog.NewRecord(e.Time, Level(e.Level), e.Message, 0)
	if e.LoggerName != "" {
		r.AddAttrs(slog.String("logger", e.LoggerName))
	}
	r.AddAttrs(attrs(fields)...)
	return c.h.Handle(context.Background(), r)
}

func (core) Sync() error { return nil }

// attrs turns zap fields into slog attributes, sorted by key: zap's map
// encoder gives every field type its plain value (an error its text, a
// duration a time.Duration, an object a map).
func attrs(fields []zapcore.Field) []slog.Attr {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	keys := slices.Sorted(maps.Keys(enc.Fields))
	out := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		out = append(out, slog.Any(k, enc.Fields[k]))
	}
	return out
}
