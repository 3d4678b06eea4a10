package actors

import (
	"testing"
	"time"
)

// The pauses before a failed player's restarts double up to the maximum.
func TestBackoffDelays(t *testing.T) {
	b := backoffRestart{first: 50 * time.Millisecond, max: 400 * time.Millisecond}
	ms := time.Millisecond
	want := []time.Duration{0, 0, 50 * ms, 100 * ms, 200 * ms, 400 * ms, 400 * ms, 400 * ms}
	for n, w := range want {
		if got := b.backoffDelay(n); got != w {
			t.Errorf("failure %d: %v, want %v", n, got, w)
		}
	}
}
