// Package postgres is the caiquan.Store on PostgreSQL, through pgx, for
// nodes that share their players.
//
// One table, caiquan_players: a row per uid with the standing, rounds
// played, name, avatar, last seen, the last applied round ids as jsonb,
// and the record's version v (package store: a release reads the versions
// up to its own and writes store_write_version). Save is one upsert
// statement, so a total and the round ids that made it are written
// together or not at all. The leaderboard is a partial index on
// (total desc, uid) over the players who finished a round; uids compare in
// byte order (COLLATE "C"), as in every store, whatever the database's
// collation. Top reads the first n rows of that index; Around reads 2k+1
// rows around the player and, for each, counts the rows above its total
// in the index (competition ranks). Table caiquan_meta holds the format
// version (row "format"): a database of a newer format is refused at
// Open. Open creates the tables and indexes when missing.
//
// Every call is bounded by opTimeout, so a database that stops answering
// fails the call (the player actor then refuses to confirm, or restarts)
// instead of hanging it.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/store"
)

// opTimeout bounds one call to the database.
const opTimeout = 5 * time.Second

// schema runs as one implicit transaction (one simple-protocol query). The
// advisory lock makes nodes that start together take turns: CREATE ... IF
// NOT EXISTS is not safe against a concurrent create of the same table.
const meta = `
SELECT pg_advisory_xact_lock(5203040771);
CREATE TABLE IF NOT EXISTS caiquan_meta (key text PRIMARY KEY, value integer NOT NULL);
`

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
ALTER TABLE caiquan_players ADD COLUMN IF NOT EXISTS v integer NOT NULL DEFAULT 1;
ALTER TABLE caiquan_players ADD COLUMN IF NOT EXISTS renamed boolean NOT NULL DEFAULT false;
ALTER TABLE caiquan_players ADD COLUMN IF NOT EXISTS banned boolean NOT NULL DEFAULT false;
ALTER TABLE caiquan_players ADD COLUMN IF NOT EXISTS refused jsonb NOT NULL DEFAULT '[]';
CREATE TABLE IF NOT EXISTS caiquan_avatars (
	uid  text PRIMARY KEY,
	name text NOT NULL UNIQUE,
	data bytea NOT NULL
);
INSERT INTO caiquan_meta (key, value) VALUES ('format', 1) ON CONFLICT (key) DO NOTHING;
`

// Store is a PostgreSQL-backed caiquan.Store.
type Store struct {
	pool      *pgxpool.Pool
	version   int
	log       *slog.Logger
	onDamaged func(key string, err error)
	reported  sync.Map // keys of damaged rows logged
}

// Options are Open's settings; the zero value is usable.
type Options struct {
	Log *slog.Logger
	// WriteVersion is the record version Save writes (setting
	// store_write_version); 0 is store.RecordVersion.
	WriteVersion int
	// OnDamaged is told of each damaged record met (after it is logged).
	OnDamaged func(key string, err error)
}

var (
	_ caiquan.Store   = (*Store)(nil)
	_ caiquan.Players = (*Store)(nil)
)

// Open connects to url (a postgres:// URL or a key=value string), checks
// the connection and prepares the table.
func Open(ctx context.Context, url string, o Options) (*Store, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.WriteVersion == 0 {
		o.WriteVersion = store.RecordVersion
	}
	if err := store.CheckVersion(o.WriteVersion); err != nil {
		return nil, fmt.Errorf("store_write_version: %w", err)
	}
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
	if _, err := pool.Exec(ctx, meta); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: prepare the tables: %w", err)
	}
	var format int
	err = pool.QueryRow(ctx, `SELECT value FROM caiquan_meta WHERE key = 'format'`).Scan(&format)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		pool.Close()
		return nil, fmt.Errorf("postgres: read the format version: %w", err)
	}
	if format > store.FormatVersion {
		pool.Close()
		return nil, fmt.Errorf("postgres: the database has format version %d; this release knows format versions up to %d: "+
			"run the release that wrote it, or a newer one", format, store.FormatVersion)
	}
	if _, err := pool.Exec(ctx, schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: prepare the tables: %w", err)
	}
	return &Store{pool: pool, version: o.WriteVersion, log: o.Log, onDamaged: o.OnDamaged}, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

func (s *Store) Load(uid string) (caiquan.PlayerRecord, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rec, err := s.scan(uid, s.pool.QueryRow(ctx, `SELECT `+columns+` FROM caiquan_players WHERE uid = $1`, uid))
	if errors.Is(err, pgx.ErrNoRows) {
		return caiquan.PlayerRecord{}, nil
	}
	return rec, err
}

// columns are what scan reads, in its order.
const columns = `uname, uavatar, total, streak, rounds, last_seen, recent, writes, v, renamed, banned, refused`

// scan reads one row of columns. A row that does not read as a record (a
// version this release does not know, a recent list that does not decode)
// is reported and returned as a store.DamageError.
func (s *Store) scan(uid string, row pgx.Row) (caiquan.PlayerRecord, error) {
	var r store.Record
	var lastSeen *time.Time
	err := row.Scan(&r.Uname, &r.Uavatar, &r.Total, &r.Streak, &r.Rounds, &lastSeen, &r.Recent, &r.Writes, &r.Version, &r.Renamed, &r.Banned, &r.Refused)
	var scanErr pgx.ScanArgError
	if errors.As(err, &scanErr) {
		return caiquan.PlayerRecord{}, s.damaged(uid, err)
	}
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return caiquan.PlayerRecord{}, err
		}
		return caiquan.PlayerRecord{}, fmt.Errorf("postgres: load %s: %w", uid, err)
	}
	if lastSeen != nil {
		r.LastSeen = lastSeen.UTC()
	}
	rec, err := store.FromRecord(r)
	if err != nil {
		return caiquan.PlayerRecord{}, s.damaged(uid, err)
	}
	return rec, nil
}

// damaged reports a damaged row once per uid (a player actor that cannot
// load its record tries again with growing pauses) and returns its error.
func (s *Store) damaged(uid string, err error) error {
	key := "caiquan_players uid=" + uid
	if _, seen := s.reported.LoadOrStore(key, true); !seen {
		s.log.Error("store: damaged record", "key", key, "err", err)
		if s.onDamaged != nil {
			s.onDamaged(key, err)
		}
	}
	return &store.DamageError{Key: key, Err: err}
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
	tag, err := s.pool.Exec(ctx, upsert+`
		WHERE caiquan_players.writes = $9`,
		uid, rec.Uname, rec.Uavatar, rec.Total, rec.Streak, rec.Rounds, lastSeen, store.RecentOf(rec), rec.Writes, s.version, 1, rec.Renamed, rec.Banned, refusedOf(rec))
	if err != nil {
		return saveError(uid, err)
	}
	if tag.RowsAffected() == 0 {
		return caiquan.ErrStale
	}
	return nil
}

// saveError is a failed write's error. One that may have reached the
// database (sent, and no answer) carries caiquan.ErrMaybeStored; one
// the database refused, or that never left (pgconn.SafeToRetry), does not.
func saveError(uid string, err error) error {
	var refused *pgconn.PgError
	if pgconn.SafeToRetry(err) || errors.As(err, &refused) {
		return fmt.Errorf("postgres: save %s: %w", uid, err)
	}
	return fmt.Errorf("postgres: save %s: %w: %w", uid, caiquan.ErrMaybeStored, err)
}

// SaveBy is Save, done only while the database's clock is before by (see
// caiquan.SaverBy): a write held up in a cut network arrives after it.
func (s *Store) SaveBy(uid string, rec caiquan.PlayerRecord, by time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var lastSeen *time.Time
	if !rec.LastSeen.IsZero() {
		lastSeen = &rec.LastSeen
	}
	tag, err := s.pool.Exec(ctx, upsertBy,
		uid, rec.Uname, rec.Uavatar, rec.Total, rec.Streak, rec.Rounds, lastSeen, store.RecentOf(rec), rec.Writes, s.version, 1, rec.Renamed, rec.Banned, by, refusedOf(rec))
	if err != nil {
		return saveError(uid, err)
	}
	if tag.RowsAffected() == 0 {
		if !time.Now().Before(by) {
			return caiquan.ErrTooLate
		}
		return caiquan.ErrStale
	}
	return nil
}

// upsertBy is upsert over the record it was made from ($9), only while the
// database's clock is before $14.
const upsertBy = `
		INSERT INTO caiquan_players (uid, uname, uavatar, total, streak, rounds, last_seen, recent, writes, v, renamed, banned, refused)
		SELECT $1::text, $2::text, $3::text, $4::integer, $5::integer, $6::integer, $7::timestamptz, $8::jsonb,
			$9::bigint + $11::bigint, $10::integer, $12::boolean, $13::boolean, $15::jsonb
		WHERE clock_timestamp() < $14::timestamptz
		ON CONFLICT (uid) DO UPDATE SET
			uname = EXCLUDED.uname, uavatar = EXCLUDED.uavatar, total = EXCLUDED.total,
			streak = EXCLUDED.streak, rounds = EXCLUDED.rounds, last_seen = EXCLUDED.last_seen,
			recent = EXCLUDED.recent, writes = EXCLUDED.writes, v = EXCLUDED.v,
			renamed = EXCLUDED.renamed, banned = EXCLUDED.banned, refused = EXCLUDED.refused
		WHERE caiquan_players.writes = $9 AND clock_timestamp() < $14::timestamptz`

// upsert writes a whole record; $9 is the Writes it was made from, $11
// what Save adds to it. A release before refused keeps the column as it
// finds it.
const upsert = `
		INSERT INTO caiquan_players (uid, uname, uavatar, total, streak, rounds, last_seen, recent, writes, v, renamed, banned, refused)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::bigint + $11::bigint, $10, $12, $13, $14)
		ON CONFLICT (uid) DO UPDATE SET
			uname = EXCLUDED.uname, uavatar = EXCLUDED.uavatar, total = EXCLUDED.total,
			streak = EXCLUDED.streak, rounds = EXCLUDED.rounds, last_seen = EXCLUDED.last_seen,
			recent = EXCLUDED.recent, writes = EXCLUDED.writes, v = EXCLUDED.v,
			renamed = EXCLUDED.renamed, banned = EXCLUDED.banned, refused = EXCLUDED.refused`

// Put stores rec as it is, Writes included, over whatever uid has: for
// import.
func (s *Store) Put(uid string, rec caiquan.PlayerRecord) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var lastSeen *time.Time
	if !rec.LastSeen.IsZero() {
		lastSeen = &rec.LastSeen
	}
	_, err := s.pool.Exec(ctx, upsert,
		uid, rec.Uname, rec.Uavatar, rec.Total, rec.Streak, rec.Rounds, lastSeen, store.RecentOf(rec), rec.Writes, s.version, 0, rec.Renamed, rec.Banned, refusedOf(rec))
	if err != nil {
		return fmt.Errorf("postgres: put %s: %w", uid, err)
	}
	return nil
}

// Each calls fn with every record in uid order; a damaged one comes with
// its error instead.
func (s *Store) Each(fn func(uid string, rec caiquan.PlayerRecord, err error) error) error {
	ctx := context.Background()
	rows, err := s.pool.Query(ctx, `SELECT uid, `+columns+` FROM caiquan_players ORDER BY uid COLLATE "C"`)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uid string
		rec, err := s.scan("", uidRow{&uid, rows})
		if err != nil && !errors.Is(err, store.ErrDamaged) {
			return err
		}
		if err != nil {
			err = &store.DamageError{Key: "caiquan_players uid=" + uid, Err: errors.Unwrap(err)}
		}
		if err := fn(uid, rec, err); err != nil {
			return err
		}
	}
	return rows.Err()
}

// uidRow scans a row's uid, then the record's columns.
type uidRow struct {
	uid *string
	row pgx.Row
}

func (r uidRow) Scan(dest ...any) error { return r.row.Scan(append([]any{r.uid}, dest...)...) }

// Expire removes guests' records unseen since before in one statement.
func (s *Store) Expire(before time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var n int
	err := s.pool.QueryRow(ctx, `
		WITH gone AS (
			DELETE FROM caiquan_players
			WHERE left(uid, length($2)) <> $2 AND last_seen < $1 RETURNING uid
		), pictures AS (
			DELETE FROM caiquan_avatars a USING gone WHERE a.uid = gone.uid
		)
		SELECT count(*) FROM gone`, before, caiquan.WeChatPrefix).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: expire guests: %w", err)
	}
	return n, nil
}

// PutAvatar replaces uid's picture in one statement.
func (s *Store) PutAvatar(uid string, a caiquan.Avatar) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, err := s.pool.Exec(ctx, `
		INSERT INTO caiquan_avatars (uid, name, data) VALUES ($1, $2, $3)
		ON CONFLICT (uid) DO UPDATE SET name = EXCLUDED.name, data = EXCLUDED.data`, uid, a.Name, a.Data)
	if err != nil {
		return fmt.Errorf("postgres: save the avatar of %s: %w", uid, err)
	}
	return nil
}

func (s *Store) Avatar(name string) (caiquan.Avatar, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM caiquan_avatars WHERE name = $1`, name).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return caiquan.Avatar{}, caiquan.ErrNoAvatar
	}
	if err != nil {
		return caiquan.Avatar{}, fmt.Errorf("postgres: read avatar %s: %w", name, err)
	}
	return caiquan.Avatar{Name: name, Data: data}, nil
}

// Delete removes uid's row and picture in one statement (one transaction).
func (s *Store) Delete(uid string) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_, err := s.pool.Exec(ctx, `
		WITH p AS (DELETE FROM caiquan_players WHERE uid = $1)
		DELETE FROM caiquan_avatars WHERE uid = $1`, uid)
	if err != nil {
		return fmt.Errorf("postgres: delete %s: %w", uid, err)
	}
	return nil
}

// topSQL reads the first $1 lines of the board index.
const topSQL = `
		SELECT uid, uname, uavatar, total, streak, 0
		FROM caiquan_players WHERE rounds > 0
		ORDER BY total DESC, uid COLLATE "C" LIMIT $1`

// aroundSQL reads $2 lines of the board index either side of uid $1 (each
// side two index ranges: the player's total, then the totals beyond), and
// each line's rank: one more than the players of higher totals, which
// PostgreSQL counts (through the index or the table, as it plans).
const aroundSQL = `
		WITH me AS MATERIALIZED (SELECT total, uid COLLATE "C" AS uid FROM caiquan_players WHERE uid = $1 AND rounds > 0),
		before AS (
			SELECT * FROM (
				(SELECT uid, uname, uavatar, total, streak FROM caiquan_players
				 WHERE rounds > 0 AND total = (SELECT total FROM me) AND uid COLLATE "C" < (SELECT uid FROM me)
				 ORDER BY total DESC, uid COLLATE "C" DESC LIMIT $2)
				UNION ALL
				(SELECT uid, uname, uavatar, total, streak FROM caiquan_players
				 WHERE rounds > 0 AND total > (SELECT total FROM me)
				 ORDER BY total ASC, uid COLLATE "C" DESC LIMIT $2)
			) b ORDER BY total ASC, uid COLLATE "C" DESC LIMIT $2
		),
		after AS (
			SELECT * FROM (
				(SELECT uid, uname, uavatar, total, streak FROM caiquan_players
				 WHERE rounds > 0 AND total = (SELECT total FROM me) AND uid COLLATE "C" >= (SELECT uid FROM me)
				 ORDER BY total DESC, uid COLLATE "C" LIMIT $2 + 1)
				UNION ALL
				(SELECT uid, uname, uavatar, total, streak FROM caiquan_players
				 WHERE rounds > 0 AND total < (SELECT total FROM me)
				 ORDER BY total DESC, uid COLLATE "C" LIMIT $2 + 1)
			) a ORDER BY total DESC, uid COLLATE "C" LIMIT $2 + 1
		),
		win AS (SELECT * FROM before UNION ALL SELECT * FROM after)
		SELECT w.uid, w.uname, w.uavatar, w.total, w.streak,
			1 + (SELECT count(*) FROM caiquan_players q WHERE q.rounds > 0 AND q.total > w.total)
		FROM win w ORDER BY w.total DESC, w.uid COLLATE "C"`

func (s *Store) Top(n int) ([]caiquan.RankedPlayer, error) {
	out, err := s.query(topSQL, n)
	var r caiquan.Ranker
	for i := range out {
		out[i] = r.Next(out[i])
	}
	return out, err
}

// Around's two halves each walk the board index from the player, and each
// line's rank counts the index entries above its total.
func (s *Store) Around(uid string, k int) ([]caiquan.RankedPlayer, error) {
	out, err := s.query(aroundSQL, uid, k)
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

// refusedOf is rec's refused rounds as the refused column holds them: a
// JSON array, never null.
func refusedOf(rec caiquan.PlayerRecord) []string {
	if rec.Refused == nil {
		return []string{}
	}
	return rec.Refused
}
