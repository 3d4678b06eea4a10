package gateway

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/metrics"
)

// maxBuckets bounds the addresses an HTTPLimit remembers at once (about
// 100 B each). When they are all in use, a new address is refused until
// buckets are evicted: this fails closed, as the endpoints it guards
// cost the server or its WeChat quota.
const maxBuckets = 100_000

// HTTPLimit is a token bucket per client address (ClientAddrOf; an IPv6
// client's /64) in front of one HTTP endpoint. A request without a token
// is answered 429 {"code":"rate_limited"} with Retry-After. A bucket that
// has filled up again is the same as a new one, so it is dropped: memory
// follows the addresses active within the time the bucket takes to fill.
type HTTPLimit struct {
	endpoint string
	limit    rate.Limit
	burst    int
	metrics  *metrics.Metrics // nil: not counted
	now      func() time.Time // a field so tests can move time

	mu        sync.Mutex
	buckets   map[netip.Prefix]*rate.Limiter
	lastSweep time.Time
}

// NewHTTPLimit makes the limit for endpoint (its name in metrics and
// answers): perSecond requests per second sustained, burst at once.
func NewHTTPLimit(endpoint string, perSecond float64, burst int, m *metrics.Metrics) *HTTPLimit {
	return &HTTPLimit{
		endpoint: endpoint,
		limit:    rate.Limit(perSecond),
		burst:    max(burst, 1),
		metrics:  m,
		now:      time.Now,
		buckets:  make(map[netip.Prefix]*rate.Limiter),
	}
}

// Wrap puts the limit in front of h.
func (l *HTTPLimit) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wait, ok := l.take(addrKey(ClientAddrOf(r)))
		if ok {
			h.ServeHTTP(w, r)
			return
		}
		if l.metrics != nil {
			l.metrics.HTTPRefused.WithLabelValues(l.endpoint, messages.CodeRateLimited).Inc()
		}
		secs := max(1, int(math.Ceil(wait.Seconds())))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeJSON(w, http.StatusTooManyRequests, apiError{Code: messages.CodeRateLimited,
			Message: fmt.Sprintf("too many requests to %s from this address; try again in %d s", l.endpoint, secs)})
	})
}

// take spends a token of key's bucket; when there is none it returns how
// long until there is.
func (l *HTTPLimit) take(key netip.Prefix) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			return time.Second, false
		}
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	if b.AllowN(now, 1) {
		return 0, true
	}
	return time.Duration((1 - b.TokensAt(now)) / float64(l.limit) * float64(time.Second)), false
}

// sweep drops full buckets, at most once per the time a bucket takes to
// fill from empty (at least a second), or once a second when the map is
// full. l.mu held.
func (l *HTTPLimit) sweep(now time.Time) {
	every := max(time.Second, time.Duration(float64(l.burst)/float64(l.limit)*float64(time.Second)))
	if len(l.buckets) >= maxBuckets {
		every = time.Second
	}
	if now.Sub(l.lastSweep) < every {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
}

// size is the number of buckets kept (for tests).
func (l *HTTPLimit) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

type clientAddrKey struct{}

// ClientAddrOf is the client address of a request the gateway routed
// (WithRoute), as ClientAddr found it; for any other request, its TCP
// peer. Handlers log and limit by it.
func ClientAddrOf(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(clientAddrKey{}).(netip.Addr); ok {
		return a
	}
	return remoteAddr(r.RemoteAddr)
}

// withClientAddr notes ClientAddr in r's context for the route's handler.
func (g *Gateway) withClientAddr(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, g.ClientAddr(r)))
}
