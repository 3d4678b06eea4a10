// Package quietlog keeps a log readable while a client, or an attacker,
// repeats the same mistake thousands of times a second: it writes at most
// one line per kind of event per window (10 s), and the next line of that
// kind says how many it stands for: "… (499 more like this since
// 15:04:05)". Counting every event is the metrics' job; the log only has
// to show that it happens, and a sample.
//
// Kinds must come from a fixed set in the code, never from what a client
// sends, or the set of kinds would grow without bound.
package quietlog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Window is how long a kind stays quiet after a line.
const Window = 10 * time.Second

// Logger rate-limits lines by kind. A nil *Logger logs nothing.
type Logger struct {
	log    *slog.Logger
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	kinds map[string]*kind
}

type kind struct {
	last       time.Time // the last line written
	suppressed int       // events since last that wrote no line
}

// New returns a Logger over log with the usual window and clock.
func New(log *slog.Logger) *Logger { return NewWith(log, Window, time.Now) }

// NewWith returns a Logger with its own window and clock, for tests.
func NewWith(log *slog.Logger, window time.Duration, now func() time.Time) *Logger {
	return &Logger{log: log, window: window, now: now, kinds: make(map[string]*kind)}
}

// Log writes msg and args at level, unless a line of the same kind was
// written less than the window ago: then it only counts the event. An
// event at a level the log does not write costs no lock and is not counted.
func (l *Logger) Log(level slog.Level, kindName, msg string, args ...any) {
	if l == nil || !l.log.Enabled(context.Background(), level) {
		return
	}
	now := l.now()
	l.mu.Lock()
	k := l.kinds[kindName]
	if k == nil {
		k = &kind{}
		l.kinds[kindName] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < l.window {
		k.suppressed++
		l.mu.Unlock()
		return
	}
	n, since := k.suppressed, k.last
	k.last, k.suppressed = now, 0
	l.mu.Unlock()
	if n > 0 {
		msg = fmt.Sprintf("%s (%d more like this since %s)", msg, n, since.Format(time.TimeOnly))
		args = append(args, "suppressed", n)
	}
	l.log.Log(context.Background(), level, msg, args...)
}

// Debug, Info and Warn are Log at their level.
func (l *Logger) Debug(kind, msg string, args ...any) { l.Log(slog.LevelDebug, kind, msg, args...) }
func (l *Logger) Info(kind, msg string, args ...any)  { l.Log(slog.LevelInfo, kind, msg, args...) }
func (l *Logger) Warn(kind, msg string, args ...any)  { l.Log(slog.LevelWarn, kind, msg, args...) }
