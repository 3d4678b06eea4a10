package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/internal/testing/pgtest"
	"github.com/caiquan/caiquan/internal/testing/storetest"
)

func TestStore(t *testing.T) {
	pg := pgtest.Start(t)
	db := 0
	storetest.Run(t, func(t *testing.T) (caiquan.Store, func() caiquan.Store) {
		// A database per subtest: each starts empty.
		db++
		url := pg.CreateDB(t, db)
		s := open(t, url)
		return s, func() caiquan.Store {
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

// TestOpenTogether: the nodes of a cluster start at once on an empty
// database; each must find the table ready, none may fail creating it.
func TestOpenTogether(t *testing.T) {
	pg := pgtest.Start(t)
	for try := 0; try < 5; try++ {
		url := pg.CreateDB(t, 100+try)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Open(context.Background(), url)
				if err != nil {
					errs <- err
					return
				}
				s.Close()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("database %d: %v", try, err)
		}
	}
}
