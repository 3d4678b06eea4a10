package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/internal/testing/pgtest"
)

// A write that went out and got no answer (here: it waits on a row lock
// past its time) may have been stored, and its error says so; a player
// actor must not refuse a round such a write carried.
func TestUnansweredSaveMayHaveBeenStored(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.CreateDB(t, 1)
	s := open(t, url)
	rec := caiquan.PlayerRecord{Uname: "a"}
	rec.Total, rec.Rounds = 1, 1
	if err := s.Save("a", rec); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM caiquan_players WHERE uid = 'a' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	next, _ := s.Load("a")
	next.Total = 2
	for name, save := range map[string]func() error{
		"Save":   func() error { return s.Save("a", next) },
		"SaveBy": func() error { return s.SaveBy("a", next, time.Now().Add(time.Minute)) },
	} {
		if err := save(); !errors.Is(err, caiquan.ErrMaybeStored) {
			t.Errorf("%s held past its time: %v, want ErrMaybeStored", name, err)
		}
	}
}

// An error the database answered, or one from before anything was sent,
// is a write that stored nothing.
func TestSaveErrorsThatStoredNothing(t *testing.T) {
	for name, err := range map[string]error{
		"refused by the database": &pgconn.PgError{Code: "23505", Message: "duplicate key"},
		"never sent":              notSent{},
	} {
		if got := saveError("a", err); errors.Is(got, caiquan.ErrMaybeStored) {
			t.Errorf("%s: %v says maybe stored", name, got)
		}
	}
	if got := saveError("a", context.DeadlineExceeded); !errors.Is(got, caiquan.ErrMaybeStored) {
		t.Errorf("a timeout: %v does not say maybe stored", got)
	}
}

type notSent struct{}

func (notSent) Error() string     { return "dial: connection refused" }
func (notSent) SafeToRetry() bool { return true }
