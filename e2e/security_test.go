package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/auth"
	"github.com/caiquan/caiquan/config"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/metrics"
)

// scrape GETs /metrics from the metrics listener at addr, with token as
// bearer when not empty; it returns the status and the body.
func scrape(t *testing.T, addr, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// sample is the value of the series `name{labels}` in Prometheus text, or
// -1 when the page has no such series.
func sample(text, series string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return -1
}

// The metrics have a listener of their own that serves /metrics and
// nothing else; the admin listener no longer serves them; a metrics_token
// is required when set, and must be long enough.
func TestMetricsListener(t *testing.T) {
	s := startServer(t)
	m := s.MetricsAddr()
	code, body := scrape(t, m, "/metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, r := range metrics.RefusedReasons {
		if v := sample(body, `caiquan_connections_refused_total{reason="`+r+`"}`); v != 0 {
			t.Errorf("refused %s: %v at start, want a series at 0", r, v)
		}
	}
	for _, r := range metrics.DroppedReasons {
		if v := sample(body, `caiquan_connections_dropped_total{reason="`+r+`"}`); v != 0 {
			t.Errorf("dropped %s: %v at start, want a series at 0", r, v)
		}
	}
	for _, path := range []string{"/", "/actors", "/healthz", "/debug/pprof/", "/metrics/x", "/kill"} {
		if code, _ := scrape(t, m, path, ""); code != 404 {
			t.Errorf("metrics listener %s: %d, want 404", path, code)
		}
	}
	if code, _ := scrape(t, s.AdminAddr(), "/metrics", s.AdminToken()); code != 404 {
		t.Errorf("admin listener /metrics: %d, want 404", code)
	}

	token := strings.Repeat("m", 40)
	s2 := startServer(t, "-metrics-token", token)
	for tok, want := range map[string]int{"": 401, "wrong": 401, token[:39]: 401, s2.AdminToken(): 401, token: 200} {
		if code, _ := scrape(t, s2.MetricsAddr(), "/metrics", tok); code != want {
			t.Errorf("metrics token %q: %d, want %d", tok, code, want)
		}
	}
	out, err := exec.Command(testserver.Binary(t), "-listen", "127.0.0.1:0", "-admin-listen", "", "-metrics-listen", "127.0.0.1:0",
		"-auth-mode", "anonymous", "-store", "memory", "-metrics-token", "short").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "metrics_token must be at least 32 bytes") {
		t.Errorf("a short metrics_token: %v\n%s", err, out)
	}
}

// An attacker repeats what the gateway refuses: 500 upgrades from a
// foreign origin, oversized frames, message floods. Each is counted in a
// metric, each kind shows in the debug log, and the log gets at most one
// line per kind per 10 s however many there are.
func TestQuietUnderAttack(t *testing.T) {
	s := startServer(t, "-log-level", "debug", "-allowed-origins", "https://game.example",
		"-max-frame-bytes", "256", "-rate-limit", "5", "-rate-burst", "5")
	const origins, bigs, floods = 500, 20, 20
	start := time.Now()

	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				h := http.Header{"Origin": {"https://evil.example"}}
				ws, resp, err := websocket.DefaultDialer.Dial(s.wsURL("/ws?format=json"), h)
				if ws != nil {
					ws.Close()
				}
				mu.Lock()
				if resp != nil {
					statuses[resp.StatusCode]++
				} else {
					statuses[-1]++
					t.Logf("dial: %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < origins; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if statuses[http.StatusForbidden] != origins {
		t.Fatalf("foreign-origin upgrades answered %v, want %d × 403", statuses, origins)
	}

	attack := func(n int, frames func(*websocket.Conn)) {
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ws, _, err := websocket.DefaultDialer.Dial(s.wsURL("/ws?format=json"), nil)
				if err != nil {
					t.Errorf("dial: %v", err)
					return
				}
				defer ws.Close()
				frames(ws)
				// Read until the server closes.
				ws.SetReadDeadline(time.Now().Add(waitTime))
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	attack(bigs, func(ws *websocket.Conn) {
		ws.WriteMessage(websocket.TextMessage, []byte(`{"hello":"`+strings.Repeat("x", 1000)+`"}`))
	})
	attack(floods, func(ws *websocket.Conn) {
		for i := 0; i < 200; i++ {
			if ws.WriteMessage(websocket.TextMessage, []byte(`{}`)) != nil {
				return
			}
		}
	})
	elapsed := time.Since(start)

	want := map[string]float64{
		`caiquan_connections_refused_total{reason="origin"}`:        origins,
		`caiquan_connections_dropped_total{reason="frame_too_big"}`: bigs,
		`caiquan_connections_dropped_total{reason="flood"}`:         floods,
	}
	var body string
	for end := time.Now().Add(waitTime); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		_, body = scrape(t, s.MetricsAddr(), "/metrics", "")
		done := true
		for series, n := range want {
			done = done && sample(body, series) == n
		}
		if done {
			break
		}
	}
	for series, n := range want {
		if got := sample(body, series); got != n {
			t.Errorf("%s = %v, want %v", series, got, n)
		}
	}

	// One line per kind per window: the first at once, then at most one
	// per 10 s the attack lasted.
	most := 1 + int(elapsed/(10*time.Second))
	log := s.Stderr()
	for _, msg := range []string{"upgrade refused: origin not allowed", "closed: frame too big", "closed: message flood"} {
		n := 0
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, msg) {
				n++
				if !strings.Contains(line, "level=DEBUG") {
					t.Errorf("not at debug level: %s", line)
				}
			}
		}
		if n < 1 || n > most {
			t.Errorf("%q: %d log lines over %v, want 1 to %d", msg, n, elapsed.Round(time.Millisecond), most)
		}
	}
	// Debug level also says when each connection opens and its session
	// ends (docs/logging.md): one line each per connection, which is what
	// an operator asks debug for; at info and above the attack writes
	// only the quieted lines.
	lines := 0
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		lifecycle := strings.Contains(line, `msg="gateway: connection opened"`) || strings.Contains(line, `msg="session: ended"`)
		if lifecycle && !strings.Contains(line, "level=DEBUG") {
			t.Errorf("a line per connection above debug: %s", line)
		}
		if !lifecycle {
			lines++
		}
	}
	if lines > 30 {
		t.Errorf("the attack wrote %d log lines", lines)
	}
	t.Logf("%d upgrades, %d connections in %v: %d log lines", origins, bigs+floods, elapsed.Round(time.Millisecond), lines)
}

// With WeChat unreachable, players log in again and again; someone tries
// the admin API and the metrics with wrong tokens and right ones; players
// present session tokens, good and forged. Not one secret is in anything
// the server printed: the AppSecret, the token secret, the admin token it
// made, the metrics token, the session tokens, in any URL escaping; in
// either log format.
func TestSecretsNeverLogged(t *testing.T) {
	for _, format := range []string{config.LogText, config.LogJSON} {
		t.Run(format, func(t *testing.T) { secretsNeverLogged(t, format) })
	}
}

// secretsNeverLogged is TestSecretsNeverLogged with log_format format; in
// json every line on stderr is JSON besides.
func secretsNeverLogged(t *testing.T, format string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadWeChat := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now

	const wxSecret = "wx+App/Secret=0123456789abcdef" // needs escaping in a URL
	tokenSecret := "token-secret-" + strings.Repeat("s", 32)
	metricsToken := "metrics-token-" + strings.Repeat("m", 32)
	s := startServer(t, "-auth-mode", "wechat", "-auth-secret", tokenSecret, "-wechat-appid", appID,
		"-wechat-secret", wxSecret, "-wechat-api-base", deadWeChat, "-login-timeout", "2s",
		"-metrics-token", metricsToken, "-log-level", "debug", "-log-format", format)

	for i := 0; i < 5; i++ {
		status, body := login(t, s.Server, fmt.Sprintf("ok-code%d", i))
		if status != http.StatusBadGateway || body["code"] != auth.CodeWeChatUnreachable {
			t.Fatalf("login with WeChat unreachable: %d %v", status, body)
		}
	}
	adminToken := s.AdminToken()
	for _, tok := range []string{"wrong-" + adminToken, adminToken} {
		req, _ := http.NewRequest("GET", "http://"+s.AdminAddr()+"/actors", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, tok := range []string{"wrong", metricsToken} {
		scrape(t, s.MetricsAddr(), "/metrics", tok)
	}
	// Session tokens, one good and one forged, over the socket.
	signer, err := auth.NewSigner(tokenSecret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := signer.Issue(auth.Claims{Sub: auth.UID(appID, "o1")}, time.Now())
	forged := good[:len(good)-4] + "AAAA"
	for _, tok := range []string{good, forged} {
		c := dial(t, s.wsURL("/ws?format=json&token="+url.QueryEscape(tok)))
		c.send("hello", hello("x", tok))
		c.next()
	}
	s.Stop() // everything it will print is printed

	out := s.Stdout() + s.Stderr()
	if format == config.LogJSON {
		jsonLog(t, s.Stderr())
	}
	if !strings.Contains(out, "login refused") || !strings.Contains(out, "wechat_unreachable") {
		t.Fatalf("the failed logins were not logged; the test proves nothing:\n%s", out)
	}
	for name, secret := range map[string]string{
		"wechat_secret": wxSecret, "auth_secret": tokenSecret, "admin token": adminToken,
		"metrics_token": metricsToken, "session token": good, "forged session token": forged,
	} {
		for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
			if strings.Contains(out, form) {
				t.Errorf("the output holds the %s (%q)", name, form)
			}
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}
