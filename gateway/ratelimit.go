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
// goroutine only, and time is passed in so tests need no clock.
type limiter struct {
	rate   float64 // tokens per second; <= 0 means unlimited
	burst  float64
	tokens float64
	last   time.Time

	lastNotice  time.Time
	windowStart time.Time
	dropped     int
}

func newLimiter(rate float64, burst int, now time.Time) limiter {
	if burst < 1 {
		burst = 1
	}
	return limiter{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// take counts one inbound message at time now.
func (l *limiter) take(now time.Time) verdict {
	if l.rate <= 0 {
		return allowed
	}
	if elapsed := now.Sub(l.last).Seconds(); elapsed > 0 {
		l.tokens = min(l.burst, l.tokens+elapsed*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return allowed
	}

	if now.Sub(l.windowStart) > floodWindow {
		l.windowStart, l.dropped = now, 0
	}
	l.dropped++
	if l.dropped > floodFactor*int(l.burst) {
		return floodClosed
	}
	if l.lastNotice.IsZero() || now.Sub(l.lastNotice) >= rateNoticeSpacing {
		l.lastNotice = now
		return dropNotify
	}
	return dropSilent
}
