// Package rules is the game of seed-game.md as pure functions: judging,
// settlement, streaks and the matchmaking policy. Nothing here touches an
// actor, a socket, a clock or a global random source: time and players come
// in as values, decisions go out as values, so every rule is table-tested.
package rules
