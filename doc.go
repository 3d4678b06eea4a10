// Package caiquan is the domain of the game server: a player's record, the
// leaderboard's order and the Store interface that keeps them. It imports
// only the pure rules, so storage packages (store/...) and the leaderboard
// depend on it and not on the actor runtime.
package caiquan
