// Package postgres is the caiquan.Store on PostgreSQL, through pgx, for
// nodes that share their players.
//
// One table, caiquan_players: a row per uid with the standing, rounds
// played, name, avatar, last seen, and the last applied round ids as jsonb.
// Save is one upsert statement, so a total and the round ids that made it
// are written together or not at all. The leaderboard is a partial index on
// (total desc, uid) over the players who finished a round; uids compare in
// byte order (COLLATE "C"), as in every store, whatever the database's
// collation. Open creates the table and index when missing.
//
// Every call is bounded by opTimeout, so a database that stops answering
// fails the call (the player actor then refuses to confirm, or restarts)
// instead of hanging it.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store"
)

// opTimeout bounds one call to the database.
const opTimeout = 5 * time.Second

// schema runs as one implicit transaction (one simple-protocol query). The
// advisory lock makes nodes that start together take turns: CREATE ... IF
// NOT EXISTS is not safe against a concurrent create of the same table.
const schema = `
SELECT pg_advisory_xact_lock(5203040771);
CREATE TABLE IF NOT EXISTS caiquan_players (
	uid       text PRIMARY KEY,
	uname     text NOT NULL DEFAULT '',
	uavatar   text NOT NULL DEFAULT '',
	total     integer NOT NULL DEFAULT 0,
	streak    integer NOT NULL DEFAULT 0,
	rounds    integer NOT NULL DEFAULT 0,
	last_seen timestamptz,
	recent    jsonb NOT NULL DEFAULT '[]'
);
ALTER TABLE caiquan_players ADD COLUMN IF NOT EXISTS writes bigint NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS caiquan_players_board
	ON caiquan_players (total DESC, uid COLLATE "C") WHERE rounds > 0;
`

// Store is a PostgreSQL-backed caiquan.Store.
type Store struct {
	pool *pgxpool.Pool
}

var _ caiquan.Store = (*Store)(nil)

// Open connects to url (a postgres:// URL or a key=value string), checks
// the connection and prepares the table.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: postgres_url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := pool.Exec(ctx, schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: prepare the table: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

func (s *Store) Load(uid string) (caiquan.PlayerRecord, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var rec caiquan.PlayerRecord
	var lastSeen *time.Time
	var recent []store.Applied
	err := s.pool.QueryRow(ctx,
		`SELECT uname, uavatar, total, streak, rounds, last_seen, recent, writes FROM caiquan_players WHERE uid = $1`, uid,
	).Scan(&rec.Uname, &rec.Uavatar, &rec.Total, &rec.Streak, &rec.Rounds, &lastSeen, &recent, &rec.Writes)
	if errors.Is(err, pgx.ErrNoRows) {
		return caiquan.PlayerRecord{}, nil
	}
	if err != nil {
		return caiquan.PlayerRecord{}, fmt.Errorf("postgres: load %s: %w", uid, err)
	}
	if lastSeen != nil {
		rec.LastSeen = lastSeen.UTC()
	}
	rec.Recent = store.FromStored(recent)
	return rec, nil
}

func (s *Store) Save(uid string, rec caiquan.PlayerRecord) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var lastSeen *time.Time
	if !rec.LastSeen.IsZero() {
		lastSeen = &rec.LastSeen
	}
	// The update applies only over the record rec was made from: a player
	// actor on another node that saved meanwhile makes this one ErrStale.
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO caiquan_players (uid, uname, uavatar, total, streak, rounds, last_seen, recent, writes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9 + 1)
		ON CONFLICT (uid) DO UPDATE SET
			uname = EXCLUDED.uname, uavatar = EXCLUDED.uavatar, total = EXCLUDED.total,
			streak = EXCLUDED.streak, rounds = EXCLUDED.rounds, last_seen = EXCLUDED.last_seen,
			recent = EXCLUDED.recent, writes = EXCLUDED.writes
		WHERE caiquan_players.writes = $9`,
		uid, rec.Uname, rec.Uavatar, rec.Total, rec.Streak, rec.Rounds, lastSeen, store.ToStored(rec.Recent), rec.Writes)
	if err != nil {
		return fmt.Errorf("postgres: save %s: %w", uid, err)
	}
	if tag.RowsAffected() == 0 {
		return caiquan.ErrStale
	}
	return nil
}

func (s *Store) Top(n int) ([]caiquan.RankedPlayer, error) {
	return s.query(`
		SELECT uid, uname, uavatar, total, streak, rank() OVER (ORDER BY total DESC)
		FROM caiquan_players WHERE rounds > 0
		ORDER BY total DESC, uid COLLATE "C" LIMIT $1`, n)
}

func (s *Store) Around(uid string, k int) ([]caiquan.RankedPlayer, error) {
	out, err := s.query(`
		WITH board AS (
			SELECT uid, uname, uavatar, total, streak,
				rank() OVER (ORDER BY total DESC) AS rank,
				row_number() OVER (ORDER BY total DESC, uid COLLATE "C") AS pos
			FROM caiquan_players WHERE rounds > 0
		), me AS (SELECT pos FROM board WHERE uid = $1)
		SELECT b.uid, b.uname, b.uavatar, b.total, b.streak, b.rank
		FROM board b, me WHERE b.pos BETWEEN me.pos - $2 AND me.pos + $2
		ORDER BY b.pos`, uid, k)
	if err == nil && len(out) == 0 {
		return nil, caiquan.ErrNoPlayer
	}
	return out, err
}

func (s *Store) query(sql string, args ...any) ([]caiquan.RankedPlayer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: leaderboard: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (caiquan.RankedPlayer, error) {
		var p caiquan.RankedPlayer
		var rank int64
		err := row.Scan(&p.UID, &p.Uname, &p.Uavatar, &p.Total, &p.Streak, &rank)
		p.Rank = int(rank)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: leaderboard: %w", err)
	}
	return out, nil
}
