package bolt

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (actors.Store, func() actors.Store) {
		path := filepath.Join(t.TempDir(), "caiquan.db")
		s := open(t, path)
		return s, func() actors.Store {
			s.Close()
			s = open(t, path)
			return s
		}
	})
}

// A second process on the same file is refused with a sentence, not a hang.
func TestFileInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caiquan.db")
	open(t, path)
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second Open = %v; want an in-use error", err)
	}
}

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
