package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/internal/testing/pgtest"
	"github.com/caiquan/caiquan/internal/testing/storetest"
	"github.com/caiquan/caiquan/store"
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
	s, err := Open(context.Background(), url, Options{})
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
				s, err := Open(context.Background(), url, Options{})
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

// A row of a record version this release does not know is damage (logged,
// counted, Load fails); a database of a newer format is refused at Open
// with both versions named.
func TestVersions(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.CreateDB(t, 200)
	var damaged []string
	s, err := Open(context.Background(), url, Options{OnDamaged: func(key string, _ error) { damaged = append(damaged, key) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Save("new", caiquan.PlayerRecord{Rounds: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(context.Background(), `UPDATE caiquan_players SET v = 2 WHERE uid = 'new'`); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Load("new"); !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("Load of a version 2 row = %+v, %v; want ErrDamaged", rec, err)
	}
	if len(damaged) != 1 || !strings.Contains(damaged[0], "new") {
		t.Errorf("OnDamaged got %v", damaged)
	}
	if _, err := s.pool.Exec(context.Background(), `UPDATE caiquan_meta SET value = 9 WHERE key = 'format'`); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), url, Options{})
	if err == nil || !strings.Contains(err.Error(), "format version 9") || !strings.Contains(err.Error(), "up to 1") {
		t.Fatalf("Open of a format 9 database: %v", err)
	}
}

// Top and Around find their lines through the board index, not by ranking
// the table: with thousands of players the plans read the lines with
// index conditions on caiquan_players_board. (The ranks of Around count
// the players above, as PostgreSQL plans it.)
func TestBoardUsesIndex(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.CreateDB(t, 300)
	s, err := Open(context.Background(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO caiquan_players (uid, total, streak, rounds)
		SELECT 'p' || i, i % 500, 0, 1 + i % 3 FROM generate_series(1, 20000) i;
		ANALYZE caiquan_players`); err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]string{"Top": topSQL, "Around": aroundSQL} {
		args := []any{10}
		if name == "Around" {
			args = []any{"p777", 5}
		}
		rows, err := s.pool.Query(ctx, "EXPLAIN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			rows.Scan(&line)
			plan = append(plan, line)
		}
		text := strings.Join(plan, "\n")
		lines := text
		if i := strings.Index(text, "SubPlan"); i >= 0 {
			lines = text[:i] // Around's count of the players above
		}
		want := 1
		if name == "Around" {
			want = 4 // two index ranges each side
		}
		if n := strings.Count(lines, "Index Scan using caiquan_players_board") + strings.Count(lines, "Index Scan Backward using caiquan_players_board"); n < want ||
			strings.Contains(lines, "Seq Scan") || strings.Contains(lines, "WindowAgg") {
			t.Errorf("%s's plan does not read its lines through the index:\n%s", name, text)
		}
		if name == "Around" && strings.Count(lines, "Index Cond") < 5 {
			t.Errorf("Around's index scans have no index conditions (they filter from the start):\n%s", text)
		}
	}
	got, err := s.Around("p777", 2)
	if err != nil || len(got) != 5 || got[2].UID != "p777" {
		t.Fatalf("Around = %+v, %v", got, err)
	}
	top, _ := s.Top(1)
	if got[0].Rank <= top[0].Rank {
		t.Errorf("ranks: %+v", got)
	}
}

// A write whose time has passed when it reaches the database stores
// nothing, for a record new or old: a player actor's save held up in a
// cut network must not land after a session told its client the round
// was void.
func TestSaveByRefusesALateWrite(t *testing.T) {
	pg := pgtest.Start(t)
	s := open(t, pg.CreateDB(t, 1))
	late := time.Now().Add(-time.Second)
	rec := caiquan.PlayerRecord{Uname: "a"}
	rec.Total, rec.Rounds = 3, 1
	if err := s.SaveBy("new", rec, late); !errors.Is(err, caiquan.ErrTooLate) {
		t.Fatalf("late SaveBy of a new record: %v, want ErrTooLate", err)
	}
	if got, err := s.Load("new"); err != nil || got.Total != 0 || got.Writes != 0 {
		t.Fatalf("after a late SaveBy the store holds %+v (%v)", got, err)
	}
	if err := s.SaveBy("old", rec, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("SaveBy in time: %v", err)
	}
	stored, err := s.Load("old")
	if err != nil || stored.Total != 3 || stored.Writes != 1 {
		t.Fatalf("after SaveBy in time: %+v (%v)", stored, err)
	}
	next := stored
	next.Total = 5
	if err := s.SaveBy("old", next, late); !errors.Is(err, caiquan.ErrTooLate) {
		t.Fatalf("late SaveBy over a record: %v, want ErrTooLate", err)
	}
	if got, _ := s.Load("old"); got.Total != 3 || got.Writes != 1 {
		t.Fatalf("a late SaveBy changed the record: %+v", got)
	}
	if err := s.SaveBy("old", next, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("SaveBy in time over a record: %v", err)
	}
	if got, _ := s.Load("old"); got.Total != 5 || got.Writes != 2 {
		t.Fatalf("after the second SaveBy: %+v", got)
	}
}
