package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestHTTPLimit: an address gets burst requests, then 429 rate_limited
// with a Retry-After that is right; other addresses are not affected;
// buckets that filled up again are forgotten, so memory follows the
// addresses active recently.
func TestHTTPLimit(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := NewHTTPLimit("/login", 0.5, 3, nil) // one token every 2 s
	l.now = func() time.Time { return now }
	calls := 0
	h := l.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
	get := func(addr string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		r.RemoteAddr = addr + ":5000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	for i := range 3 {
		if rec := get("203.0.113.1"); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i, rec.Code)
		}
	}
	rec := get("203.0.113.1")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" ||
		rec.Header().Get("Content-Type") != "application/json" || !strings.Contains(rec.Body.String(), `"code":"rate_limited"`) {
		t.Fatalf("over the burst: %d Retry-After %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := get("203.0.113.2"); rec.Code != http.StatusOK {
		t.Errorf("another address: %d", rec.Code)
	}
	if rec := get("2001:db8:1:2::5"); rec.Code != http.StatusOK {
		t.Errorf("an IPv6 address: %d", rec.Code)
	}
	for range 2 {
		get("2001:db8:1:2::5")
	}
	if rec := get("2001:db8:1:2:ffff::7"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64 after its burst: %d, want 429", rec.Code)
	}
	now = now.Add(2 * time.Second)
	if rec := get("203.0.113.1"); rec.Code != http.StatusOK {
		t.Errorf("a token later: %d", rec.Code)
	}
	if calls != 3+1+1+2+1 {
		t.Errorf("the handler ran %d times", calls)
	}
	if n := l.size(); n != 3 {
		t.Fatalf("%d buckets, want 3", n)
	}
	now = now.Add(10 * time.Second) // every bucket is full again
	get("198.51.100.1")
	if n := l.size(); n != 1 {
		t.Errorf("%d buckets after the others filled up, want only the new one", n)
	}
}

// TestHTTPLimitBounded: with maxBuckets addresses all busy, a new one is
// refused rather than remembered.
func TestHTTPLimitBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := NewHTTPLimit("/leaderboard", 0.001, 1, nil)
	l.now = func() time.Time { return now }
	for i := range maxBuckets {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if _, ok := l.take(addrKey(a)); !ok {
			t.Fatalf("address %d refused", i)
		}
	}
	if _, ok := l.take(addrKey(netip.MustParseAddr("192.0.2.1"))); ok {
		t.Fatal("a new address was taken with every bucket in use")
	}
	if n := l.size(); n != maxBuckets {
		t.Fatalf("%d buckets, want %d", n, maxBuckets)
	}
}
