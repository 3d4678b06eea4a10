// Package e2e holds the black-box tests of the caiquan server: each test
// starts the real binary (internal/testserver) on 127.0.0.1:0 and speaks to
// it over real WebSockets and HTTP, the way the 2016 mini-program (Engine.IO
// 3), the npm socket.io-client v4 (node/) and our own protobuf clients do:
// the game, the limits, draining, WeChat login against a fake code2Session,
// tokens on every wire, scores that survive SIGKILL on pebble and PostgreSQL,
// and the leaderboard. Tests that depend on matching start their own server
// process, so they run in parallel without meeting each other's players.
// Helpers wait for events with a timeout; no test sleeps and hopes.
package e2e
