// Package store holds the durable implementations of caiquan.Store, one
// package per technology:
//
//   - store/pebble: an embedded Pebble store in one directory, the
//     single-node default (store: pebble, store_path).
//   - store/postgres: PostgreSQL through pgx, for nodes that share their
//     players (store: postgres, postgres_url).
//   - store/bolt: only a reader of the bbolt store of earlier releases,
//     for the migration into store/pebble at start.
//
// Both write a record and its leaderboard index in one atomic step, and
// both keep the leaderboard order of caiquan.Store: total, higher first,
// then uid in byte order, with competition ranks by total. Package store
// itself has the record codec they share, with the record and format
// versions (docs/storage.md says what each promises).
package store
