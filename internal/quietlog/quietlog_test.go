package quietlog

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTest(level slog.Level) (*Logger, *bytes.Buffer, *clock) {
	var buf bytes.Buffer
	c := &clock{t: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))
	return NewWith(log, 10*time.Second, c.now), &buf, c
}

func lines(buf *bytes.Buffer) []string {
	s := strings.TrimSpace(buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestOneLinePerKindPerWindow(t *testing.T) {
	l, buf, c := newTest(slog.LevelDebug)
	for i := 0; i < 500; i++ {
		l.Debug("origin", "upgrade refused", "origin", "https://evil.example")
		l.Debug("flood", "flood closed")
		c.t = c.t.Add(time.Millisecond) // 0.5 s in all
	}
	got := lines(buf)
	if len(got) != 2 || !strings.Contains(got[0], "upgrade refused") || !strings.Contains(got[1], "flood closed") {
		t.Fatalf("500 events of two kinds in 0.5 s wrote %d lines, want one per kind:\n%s", len(got), buf)
	}
	if strings.Contains(buf.String(), "more like this") {
		t.Fatalf("a first line claims suppressed events:\n%s", buf)
	}
	// Still inside the window: nothing more.
	c.t = c.t.Add(9 * time.Second)
	l.Debug("origin", "upgrade refused")
	if n := len(lines(buf)); n != 2 {
		t.Fatalf("a line inside the window: %d lines", n)
	}
	// After it, the next line carries the count and the time of the last line.
	c.t = c.t.Add(time.Second)
	buf.Reset()
	l.Debug("origin", "upgrade refused", "origin", "https://evil.example")
	got = lines(buf)
	if len(got) != 1 || !strings.Contains(got[0], "upgrade refused (500 more like this since 15:04:05)") || !strings.Contains(got[0], "suppressed=500") {
		t.Fatalf("line after the window: %q", got)
	}
	// And a quiet kind logs again at once, without a count.
	c.t = c.t.Add(time.Minute)
	buf.Reset()
	l.Debug("origin", "upgrade refused")
	if got = lines(buf); len(got) != 1 || strings.Contains(got[0], "more like this") {
		t.Fatalf("after a quiet minute: %q", got)
	}
}

// Below the log's level an event is neither written nor counted, and a
// nil Logger is silent.
func TestLevelAndNil(t *testing.T) {
	l, buf, _ := newTest(slog.LevelInfo)
	for i := 0; i < 10; i++ {
		l.Debug("origin", "upgrade refused")
	}
	l.Warn("login", "login refused")
	if got := lines(buf); len(got) != 1 || !strings.Contains(got[0], "login refused") {
		t.Fatalf("lines: %q", got)
	}
	var none *Logger
	none.Warn("x", "y")
}

func TestConcurrentEventsCountOnce(t *testing.T) {
	l, buf, c := newTest(slog.LevelDebug)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				l.Warn("k", "event")
			}
		}()
	}
	wg.Wait()
	c.t = c.t.Add(10 * time.Second)
	l.Warn("k", "event")
	if got := lines(buf); len(got) != 2 || !strings.Contains(got[1], "(799 more like this") {
		t.Fatalf("800 concurrent events then one: %q", got)
	}
}
