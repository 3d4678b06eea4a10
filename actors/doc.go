// Package actors runs the game as protoactor-go actors that talk only in
// protobuf messages (package messages).
//
// Who owns what:
//   - session (one per connection, under the sessions guardian): the
//     connection's identity and phase (greeting, idle, queued, playing). It
//     is the only actor that touches its Conn.
//   - lobby (one, named "lobby"): the queue of waiting players; it asks the
//     pure rules.Match who sits together, and hands each table to the room host.
//   - room host (one per node, named "rooms"): spawns and counts rooms.
//   - room (one per round, a child of the room host): seats, hands, the round
//     timer. It offers its seats first (SeatOffer) and starts once every
//     offered seat is taken or given to a bot, so no client sees a seat of a
//     player who sits in another round. It settles exactly once: a result,
//     or a void notice if it dies first.
//   - bot (a child of its room): a seat's choices, sent as SubmitChoice like a
//     human's.
//   - directory (one, named "players"): one player actor per uid, created on
//     demand, and the count of sessions online.
//   - player (a child of the directory): a uid's record (streak, total, rounds,
//     name, avatar, last seen, the ids of its last rounds), kept in a caiquan.Store so
//     that a restart loses nothing; applies a round once per round id, and
//     confirms it only once the store has it. The directory restarts a failed
//     player with growing pauses (a store that is down stays down a while).
//     It is also the one writer of an operator's rename, reset, ban and of
//     the player's own deletion (PlayerOp, Server.PlayerOp), so its cached
//     record never writes over them; a ban or deletion kicks its session,
//     and a banned player refuses to attach one.
//   - session also checks a hello's token when Settings.Auth is set: the
//     player is then the token's subject, not the client's claim; with
//     Settings.ContentCheck, a hello's new name waits for WeChat's verdict.
//
// Goroutines: actors run on protoactor's dispatcher; timers are time.AfterFunc
// callbacks that only send a message to the actor that set them (a stale one
// carries an old round id and is ignored). A session's content check runs
// in a goroutine that only sends the verdict to its session. Nothing else
// is shared.
package actors
