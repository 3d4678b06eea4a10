// Package testserver starts real caiquan server processes for tests in other
// packages: it builds ./cmd/caiquan once per test binary (with -race when the
// test binary has it, so a race in the server shows up in the test that
// provoked it), runs it on 127.0.0.1:0 with the flags a test gives, and
// stops it when the test ends. A failing test gets the server's log.
//
// By default the server runs with -auth-mode anonymous (clients name their
// uid) and a pebble store of its own in the test's temporary folder; flags
// given to Start come later and win.
//
//	func TestMain(m *testing.M) { os.Exit(testserver.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		s := testserver.Start(t, "-bot-fill", "300ms", "-round-time", "1s")
//		conn := dial(s.WSURL("/ws?format=json"))
//		…
//	}
//
// CAIQUAN_TEST_BIN names a binary to use instead of building one.
package testserver
