package pebble

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/internal/testing/storetest"
)

// logBuf is a slog handler's output that a test can read while the store
// writes to it.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func testLog(t *testing.T) (*slog.Logger, *logBuf) {
	b := &logBuf{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("store log:\n%s", b)
		}
	})
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

func open(t *testing.T, dir string, o Options) *Store {
	t.Helper()
	if o.Log == nil {
		o.Log, _ = testLog(t)
	}
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (caiquan.Store, func() caiquan.Store) {
		dir := filepath.Join(t.TempDir(), "caiquan.db")
		s := open(t, dir, Options{})
		return s, func() caiquan.Store {
			s.Close()
			s = open(t, dir, Options{})
			return s
		}
	})
}
