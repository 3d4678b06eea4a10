package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// TestAdminDelayCLI: `caiquan admin delay` sets a delay on a running
// server, delay-status lists it, -by 0s ends it, and an unknown kind is
// refused with the reason and exit status 1.
func TestAdminDelayCLI(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-admin-token", "delay-test-token-0123456789abcdef")
	admin := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(testserver.Binary(t), append([]string{"admin", "-addr", s.AdminAddr(), "-token", "delay-test-token-0123456789abcdef"}, args...)...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := admin("delay", "-kind", "room", "-by", "200ms", "-for", "30s"); code != 0 || !strings.Contains(out, "room: 200ms until") {
		t.Fatalf("delay: exit %d\n%s", code, out)
	}
	if out, code := admin("delay-status"); code != 0 || !strings.Contains(out, "room: 200ms") {
		t.Fatalf("delay-status: exit %d\n%s", code, out)
	}
	if out, code := admin("delay", "-kind", "castle", "-by", "1s", "-for", "1s"); code != 1 || !strings.Contains(out, "castle") {
		t.Fatalf("an unknown kind: exit %d\n%s", code, out)
	}
	if out, code := admin("delay", "-kind", "room", "-by", "0s"); code != 0 || !strings.Contains(out, "no delays") {
		t.Fatalf("-by 0s: exit %d\n%s", code, out)
	}
}
