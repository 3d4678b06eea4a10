package gateway

import "time"

// Flood policy: a client that has more than floodFactor*burst messages
// dropped within floodWindow is closed; short bursts are only dropped.
const (
	floodFactor       = 5
	floodWindow       = 10 * time.Second
	rateNoticeSpacing = time.Second // at most one rate_limited error per this
)

type verdict int

const (
	allowed     verdict = iota
	dropNotify          // drop and tell the client (rate_limited)
	dropSilent          // drop; the client was told recently
	floodClosed         // drop and close the connection
)

// limiter is a token bucket per connection. It is used by the reader
// goroutine only, and time is passed in so tests need no clock. Times are
// kept as nanoseconds since clockBase (monotonic for time.Now's), 0 for
// never: every connection has one, and three time.Times took 72 B.
type limiter struct {
	rate   float64 // tokens per second; <= 0 means unlimited
	burst  float64
	tokens float64
	last   int64

	lastNotice  int64
	windowStart int64
	dropped     int
}

var clockBase = time.Now()

// stamp is now as a limiter keeps it; never 0.
func stamp(now time.Time) int64 {
	if ns := int64(now.Sub(clockBase)); ns != 0 {
		return ns
	}
	return 1
}

func newLimiter(rate float64, burst int, now time.Time) limiter {
	if burst < 1 {
		burst = 1
	}
	return limiter{rate: rate, burst: float64(burst), tokens: float64(burst), last: stamp(now)}
}

// take counts one inbound message at time now.
func (l *limiter) take(now time.Time) verdict {
	if l.rate <= 0 {
		return allowed
	}
	t := stamp(now)
	if elapsed := time.Duration(t - l.last).Seconds(); elapsed > 0 {
		l.tokens = min(l.burst, l.tokens+elapsed*l.rate)
	}
	l.last = t
	if l.tokens >= 1 {
		l.tokens--
		return allowed
	}

	if l.windowStart == 0 || time.Duration(t-l.windowStart) > floodWindow {
		l.windowStart, l.dropped = t, 0
	}
	l.dropped++
	if l.dropped > floodFactor*int(l.burst) {
		return floodClosed
	}
	if l.lastNotice == 0 || time.Duration(t-l.lastNotice) >= rateNoticeSpacing {
		l.lastNotice = t
		return dropNotify
	}
	return dropSilent
}
