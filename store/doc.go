// Package store holds the durable implementations of caiquan.Store, one
// package per technology:
//
//   - store/bolt: an embedded bbolt file, the single-node default
//     (store: bolt, store_path).
//   - store/postgres: PostgreSQL through pgx, for nodes that share their
//     players (store: postgres, postgres_url).
//
// Both write a record and its applied round ids in one transaction, and
// both keep the leaderboard order of caiquan.Store: total, higher first, then
// uid in byte order, with competition ranks by total. Package store itself
// has the codec they share.
package store
