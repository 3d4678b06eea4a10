package postgres

import (
	"context"
	"testing"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/internal/pgtest"
	"github.com/caiquan/caiquan/internal/storetest"
)

func TestStore(t *testing.T) {
	pg := pgtest.Start(t)
	db := 0
	storetest.Run(t, func(t *testing.T) (actors.Store, func() actors.Store) {
		// A database per subtest: each starts empty.
		db++
		url := pg.CreateDB(t, db)
		s := open(t, url)
		return s, func() actors.Store {
			s.Close()
			s = open(t, url)
			return s
		}
	})
}

func open(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
