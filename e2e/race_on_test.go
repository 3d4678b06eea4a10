//go:build race

package e2e

// raceEnabled builds the server under test with -race too, so a data race in
// the server fails the test whose traffic provoked it.
const raceEnabled = true
