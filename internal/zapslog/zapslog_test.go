package zapslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// Every zap entry at or above the floor arrives as one slog record: level,
// message, the logger's name, fields bound with With and the entry's own.
func TestEntriesReachTheHandler(t *testing.T) {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	lg := New(h, slog.LevelInfo).Named("etcd-client").With(zap.String("target", "etcd:///x"))

	lg.Debug("below the floor")
	lg.Info("info line", zap.Int("n", 3))
	lg.Warn("retrying of unary invoker failed", zap.Uint("attempt", 0), zap.Error(errors.New("context deadline exceeded")), zap.Duration("after", time.Second))
	lg.Error("error line", zap.Strings("eps", []string{"a", "b"}))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), buf.String())
	}
	var got []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		if m["logger"] != "etcd-client" || m["target"] != "etcd:///x" {
			t.Errorf("name or bound field missing: %s", l)
		}
		got = append(got, m)
	}
	if got[0]["level"] != "INFO" || got[0]["msg"] != "info line" || got[0]["n"] != float64(3) {
		t.Errorf("info line: %v", got[0])
	}
	if got[1]["level"] != "WARN" || got[1]["error"] != "context deadline exceeded" || got[1]["attempt"] != float64(0) {
		t.Errorf("warn line: %v", got[1])
	}
	if got[2]["level"] != "ERROR" {
		t.Errorf("error line: %v", got[2])
	}
}

// The handler's own level holds too: an info entry to a warn handler is
// dropped before zap encodes anything.
func TestHandlerLevelHolds(t *testing.T) {
	var buf bytes.Buffer
	lg := New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}), slog.LevelDebug)
	if ce := lg.Check(zap.InfoLevel, "x"); ce != nil {
		t.Errorf("an info entry passed a warn handler")
	}
	lg.Warn("kept")
	if !strings.Contains(buf.String(), "msg=kept") {
		t.Errorf("warn entry missing: %q", buf.String())
	}
}
