// Package e2e holds black-box tests of whole server processes: WeChat login
// against a fake code2Session, tokens on every wire, scores that survive
// SIGKILL on bbolt and PostgreSQL, and the leaderboard over HTTP. It has no
// code of its own.
package e2e
