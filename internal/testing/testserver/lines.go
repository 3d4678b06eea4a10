package testserver

import (
	"strings"
	"time"
)

// Line waits up to launchTimeout for a line of the server's standard
// output that starts with prefix, and returns the rest of it; it fails the
// test if none comes.
func (s *Server) Line(prefix string) string {
	s.t.Helper()
	for end := time.Now().Add(launchTimeout); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(s.stdout.String(), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
				return rest
			}
		}
	}
	s.t.Fatalf("testserver: the server printed no line starting %q", prefix)
	return ""
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }
