package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// standInWeChat is a code2Session that counts its calls and the most under
// way at once, and answers only once gate is closed (nil: at once).
type standInWeChat struct {
	*httptest.Server
	calls, inFlight, most atomic.Int32
}

func newStandInWeChat(t *testing.T, gate chan struct{}) *standInWeChat {
	t.Helper()
	wx := &standInWeChat{}
	wx.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wx.calls.Add(1)
		n := wx.inFlight.Add(1)
		defer wx.inFlight.Add(-1)
		for m := wx.most.Load(); n > m && !wx.most.CompareAndSwap(m, n); m = wx.most.Load() {
		}
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"openid": "o" + r.URL.Query().Get("js_code"), "session_key": "k"})
	}))
	t.Cleanup(wx.Close)
	return wx
}

func startLoginServer(t *testing.T, wx *standInWeChat, flags ...string) *testserver.Server {
	t.Helper()
	return testserver.Start(t, append([]string{
		"-auth-mode", "wechat", "-auth-secret", secret, "-wechat-appid", appID, "-wechat-secret", appSecret,
		"-wechat-api-base", wx.URL, "-login-timeout", "10s",
	}, flags...)...)
}

// hammer sends n requests (8 at a time) and counts the answers by status;
// every 429 must be a JSON rate_limited refusal with a Retry-After.
func hammer(t *testing.T, n int, do func(i int) (*http.Response, error)) map[int]int {
	t.Helper()
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	next := atomic.Int32{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				resp, err := do(i)
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests {
					var r struct{ Code, Message string }
					json.Unmarshal(body, &r)
					if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || secs < 1 || r.Code != "rate_limited" || r.Message == "" {
						t.Errorf("429 with Retry-After %q and body %s, want seconds and {code: rate_limited, message}", resp.Header.Get("Retry-After"), body)
					}
				}
				mu.Lock()
				counts[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return counts
}

func postLogin(url, code string, h http.Header) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodPost, url+"/login", strings.NewReader(`{"code":"`+code+`"}`))
	for k, v := range h {
		req.Header[k] = v
	}
	return http.DefaultClient.Do(req)
}

func getBoard(url string, h http.Header) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodGet, url+"/leaderboard", nil)
	for k, v := range h {
		req.Header[k] = v
	}
	return http.DefaultClient.Do(req)
}

// TestHTTPRateLimits: 300 logins from one address with -http-rate-burst 10
// (and a sustained rate far below the test's pace) get 10 answers and 290
// 429 rate_limited, and WeChat is called 10 times; /leaderboard has its own
// buckets and the same limit. Behind a trusted proxy each player behind it
// has a bucket; from an untrusted peer X-Forwarded-For changes nothing.
func TestHTTPRateLimits(t *testing.T) {
	t.Parallel()
	const burst = 10
	t.Run("login", func(t *testing.T) {
		t.Parallel()
		wx := newStandInWeChat(t, nil)
		s := startLoginServer(t, wx, "-http-rate-limit", "0.001", "-http-rate-burst", strconv.Itoa(burst))
		counts := hammer(t, 300, func(i int) (*http.Response, error) {
			// Spoofed addresses from an untrusted peer: ignored.
			return postLogin(s.URL, fmt.Sprint("ok-", i), http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", i%250)}})
		})
		if counts[http.StatusOK] != burst || counts[http.StatusTooManyRequests] != 300-burst {
			t.Errorf("300 logins from one address: %v, want %d answered and the rest 429", counts, burst)
		}
		if n := wx.calls.Load(); n > burst {
			t.Errorf("WeChat was called %d times, want at most %d", n, burst)
		}
		// /leaderboard's buckets are its own.
		counts = hammer(t, 300, func(int) (*http.Response, error) { return getBoard(s.URL, nil) })
		if counts[http.StatusOK] != burst || counts[http.StatusTooManyRequests] != 300-burst {
			t.Errorf("300 leaderboard requests from one address: %v, want %d answered and the rest 429", counts, burst)
		}
		ts := &server{Server: s}
		for series, want := range map[string]float64{
			`caiquan_http_refused_total{endpoint="/login",reason="rate_limited"}`:       300 - burst,
			`caiquan_http_refused_total{endpoint="/leaderboard",reason="rate_limited"}`: 300 - burst,
			`caiquan_http_refused_total{endpoint="/login",reason="wechat_busy"}`:        0,
		} {
			if got := labelled(t, ts, series); got != want {
				t.Errorf("%s = %v, want %v", series, got, want)
			}
		}
	})
	t.Run("behind a trusted proxy", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "-http-rate-limit", "0.001", "-http-rate-burst", strconv.Itoa(burst), "-trusted-proxies", "127.0.0.1")
		alice := http.Header{"X-Forwarded-For": {"203.0.113.1"}}
		counts := hammer(t, 50, func(int) (*http.Response, error) { return getBoard(s.URL, alice) })
		if counts[http.StatusOK] != burst {
			t.Errorf("50 requests of one player behind the proxy: %v, want %d answered", counts, burst)
		}
		// A client cannot get a fresh bucket by claiming an address left of the proxy's entry.
		forged := http.Header{"X-Forwarded-For": {"192.0.2.77, 203.0.113.1"}}
		if resp, err := getBoard(s.URL, forged); err != nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("a forged X-Forwarded-For entry: %v %v, want 429", resp.Status, err)
		}
		bob := http.Header{"X-Forwarded-For": {"203.0.113.2"}}
		if resp, err := getBoard(s.URL, bob); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("another player behind the proxy: %v %v, want 200", resp.Status, err)
		}
	})
}

// TestWeChatConcurrencyCap: with -wechat-max-concurrent 3 and a WeChat that
// is slow to answer, three logins wait on WeChat and the others are refused
// at once with 503 wechat_busy; WeChat never has more than three calls.
func TestWeChatConcurrencyCap(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	wx := newStandInWeChat(t, gate)
	s := startLoginServer(t, wx, "-wechat-max-concurrent", "3", "-http-rate-burst", "1000")
	held := make(chan int, 3)
	for i := range 3 {
		go func() {
			resp, err := postLogin(s.URL, fmt.Sprint("held", i), nil)
			if err != nil {
				held <- 0
				return
			}
			resp.Body.Close()
			held <- resp.StatusCode
		}()
	}
	for end := time.Now().Add(eventTimeout); wx.inFlight.Load() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%d logins reached WeChat, want 3", wx.inFlight.Load())
		}
	}
	for i := range 30 {
		resp, err := postLogin(s.URL, fmt.Sprint("more", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"code":"wechat_busy"`) {
			t.Fatalf("a login with 3 under way: %d %s, want 503 wechat_busy", resp.StatusCode, body)
		}
	}
	close(gate)
	for range 3 {
		if status := <-held; status != http.StatusOK {
			t.Errorf("a held login: status %d, want 200", status)
		}
	}
	if wx.most.Load() != 3 || wx.calls.Load() != 3 {
		t.Errorf("WeChat saw %d calls, at most %d at once; want 3 and 3", wx.calls.Load(), wx.most.Load())
	}
	if got := labelled(t, &server{Server: s}, `caiquan_http_refused_total{endpoint="/login",reason="wechat_busy"}`); got != 30 {
		t.Errorf("wechat_busy refusals counted: %v, want 30", got)
	}
}
