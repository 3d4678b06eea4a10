package admin

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/actors"
)

// get sends method path with headers ("Host" sets the Host line) and returns
// the answer with its body read.
func get(t *testing.T, base, method, path string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if method != "GET" && method != "HEAD" {
		body = strings.NewReader("{}")
	}
	req, _ := http.NewRequest(method, base+path, body)
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, string(raw)
}

// checkConsoleHeaders fails unless h carries the console's protections.
func checkConsoleHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for k, want := range map[string]string{
		"Content-Security-Policy":      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		"X-Frame-Options":              "DENY",
		"X-Content-Type-Options":       "nosniff",
		"Referrer-Policy":              "no-referrer",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s %q, want %q", what, k, got, want)
		}
	}
}

// The console's files are served without a token, each with its type and
// the headers that keep it from being framed, sniffed or made to run
// anything but its own script.
func TestConsoleFilesAndHeaders(t *testing.T) {
	ts, _ := serve(t, newFake(), testToken)
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/console", "text/html; charset=utf-8", `<script type="module" src="/console/console.js">`},
		{"/console/console.js", "text/javascript; charset=utf-8", "sessionStorage"},
		{"/console/console.css", "text/css; charset=utf-8", "#chaos-kills"},
		{"/console/icon.svg", "image/svg+xml", "<svg"},
	} {
		res, body := get(t, ts.URL, "GET", tc.path, nil)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("GET %s: %d %q, want 200 %q", tc.path, res.StatusCode, res.Header.Get("Content-Type"), tc.ctype)
		}
		if !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s: no %q in the body", tc.path, tc.contains)
		}
		checkConsoleHeaders(t, "GET "+tc.path, res.Header)
		if res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("ETag") == "" {
			t.Errorf("GET %s: Cache-Control %q ETag %q: a new server's page must reach open browsers",
				tc.path, res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
		}
		again, _ := get(t, ts.URL, "GET", tc.path, map[string]string{"If-None-Match": res.Header.Get("ETag")})
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s again with its ETag: %d, want 304", tc.path, again.StatusCode)
		}
	}
	if res, _ := get(t, ts.URL, "HEAD", "/console", nil); res.StatusCode != 200 {
		t.Errorf("HEAD /console: %d", res.StatusCode)
	}
}

// The page may not depend on anything the CSP forbids: no inline script or
// style, no handler attributes, nothing from another origin, and the
// script builds no markup from strings (names in the tree are players').
func TestConsoleNeedsNothingItsCSPForbids(t *testing.T) {
	read := func(name string) string {
		b, err := consoleFS.ReadFile("console/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	html, js, css := read("index.html"), read("console.js"), read("console.css")
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script[^>]*>[^<]`), // inline script
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`(?:src|href)="(?:https?:)?//`),
		regexp.MustCompile(`javascript:`),
	} {
		if m := bad.FindString(html); m != "" {
			t.Errorf("index.html has %q, which the CSP blocks or which reaches elsewhere", m)
		}
	}
	for _, tag := range regexp.MustCompile(`<(?:script|link)[^>]*>`).FindAllString(html, -1) {
		if !regexp.MustCompile(`\s(?:src|href)="/console/[a-z]+\.[a-z]+"`).MatchString(tag) {
			t.Errorf("index.html: %s loads something other than the console's own files", tag)
		}
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "localStorage", "http://", "https://", "//cdn"} {
		if strings.Contains(js, bad) {
			t.Errorf("console.js uses %q", bad)
		}
	}
	for _, bad := range []string{"@import", "url(", "http://", "https://"} {
		if strings.Contains(css, bad) {
			t.Errorf("console.css uses %q: the page loads nothing from elsewhere", bad)
		}
	}
	// The page's list of kinds is the server's.
	m := regexp.MustCompile(`const KINDS = \[([^\]]*)\];`).FindStringSubmatch(js)
	if m == nil {
		t.Fatal("console.js has no KINDS list")
	}
	var kinds []string
	for _, k := range strings.Split(m[1], ",") {
		kinds = append(kinds, strings.Trim(strings.TrimSpace(k), "'"))
	}
	if !slices.Equal(kinds, actors.Kinds) {
		t.Errorf("console.js KINDS %v, actors.Kinds %v", kinds, actors.Kinds)
	}
}

// The console is files and nothing else: no path under it reaches the API,
// only GET and HEAD are answered, and another site's page or a rebound DNS
// name cannot fetch even the page.
func TestConsoleReachesNoData(t *testing.T) {
	ts, _ := serve(t, newFake(), testToken)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	for _, tc := range []struct {
		name, method, path string
		headers            map[string]string
		want               int
	}{
		{"a file it does not have", "GET", "/console/actors", nil, 404},
		{"a sub-path", "GET", "/console/x/console.js", nil, 404},
		{"a POST", "POST", "/console", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + testToken}, 405},
		{"another site's page", "GET", "/console", map[string]string{"Origin": "https://evil.example"}, 403},
		{"a null origin", "GET", "/console/console.js", map[string]string{"Origin": "null"}, 403},
		{"DNS rebinding", "GET", "/console", map[string]string{"Host": "rebind.example:" + port}, 403},
		{"its own origin", "GET", "/console/console.js", map[string]string{"Origin": ts.URL}, 200},
	} {
		res, body := get(t, ts.URL, tc.method, tc.path, tc.headers)
		if res.StatusCode != tc.want {
			t.Errorf("%s: %s %s: %d, want %d", tc.name, tc.method, tc.path, res.StatusCode, tc.want)
		}
		checkConsoleHeaders(t, tc.name, res.Header)
		if strings.Contains(body, "node/lobby") {
			t.Errorf("%s: the answer holds actor data: %s", tc.name, body)
		}
	}
	// A path that climbs out of /console, sent as is (a browser would
	// clean it; an attacker's client need not).
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /console/../actors HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", ts.Listener.Addr())
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 404 || strings.Contains(string(raw), "node/lobby") {
		t.Errorf("GET /console/../actors: %d %s, want 404 and no data", res.StatusCode, raw)
	}
}

// The calls the console's script makes, made as the page makes them (its
// own Origin, JSON): each wants the token, a wrong one included, and
// passes with it. Answers are never to be rendered, sniffed or cached.
func TestConsoleCallsNeedTheToken(t *testing.T) {
	ts, _ := serve(t, newFake(), testToken)
	calls := []struct {
		method, path string
		ok           int
	}{
		{"GET", "/actors", 200},
		{"GET", "/actors?kind=room,bot", 200},
		{"GET", "/chaos", 200},
		{"POST", "/kill", 400}, // {} names no actor; passing the guard is what counts
		{"POST", "/chaos", 400},
		{"DELETE", "/chaos", 200},
	}
	for _, token := range []string{"", "wrong", strings.Repeat("x", MinToken), testToken[1:], testToken} {
		for _, c := range calls {
			h := map[string]string{"Origin": ts.URL, "Content-Type": "application/json"}
			if token != "" {
				h["Authorization"] = "Bearer " + token
			}
			res, body := get(t, ts.URL, c.method, c.path, h)
			want := 401
			if token == testToken {
				want = c.ok
			}
			if res.StatusCode != want {
				t.Errorf("%s %s with token %q: %d %s, want %d", c.method, c.path, token, res.StatusCode, body, want)
			}
			if want == 401 && (strings.Contains(body, "node/") || res.Header.Get("WWW-Authenticate") == "") {
				t.Errorf("%s %s with token %q: %s %v", c.method, c.path, token, body, res.Header)
			}
			for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
				"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"} {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s %s: %s %q, want %q", c.method, c.path, k, got, v)
				}
			}
		}
	}
}

// The chaos status the console shows: the seed (the one given, or one the
// server chose that a JavaScript number holds exactly), when it ended, and
// each kill by name.
func TestChaosStatusNamesItsKills(t *testing.T) {
	fake := &fakeActors{}
	for i := 0; i < 20; i++ {
		fake.live = append(fake.live, actors.ActorInfo{Kind: "bot", ID: fmt.Sprintf("bot-%d", i), PID: fmt.Sprintf("node/rooms/r9/$%d", i), Node: "n1"})
	}
	ts, _ := serve(t, fake, testToken)
	c := &Client{Addr: strings.TrimPrefix(ts.URL, "http://"), Token: testToken}
	run := func(seed uint64) ChaosStatus {
		t.Helper()
		st, err := c.StartChaos(ChaosRequest{Kinds: []string{"bot"}, Modes: []string{"panic"}, Every: "5ms", For: "100ms", Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		for end := time.Now().Add(3 * time.Second); st.Running && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			st, _ = c.Chaos()
		}
		if st.Running {
			t.Fatalf("chaos still running: %+v", st)
		}
		return st
	}
	st := run(1<<63 + 5)
	if st.Seed != 1<<63+5 {
		t.Errorf("seed %d, want the one given", st.Seed)
	}
	if st.Total == 0 || len(st.Recent) != min(st.Total, MaxRecentKills) {
		t.Fatalf("%d kills, %d listed: %+v", st.Total, len(st.Recent), st.Recent)
	}
	for _, k := range st.Recent {
		if k.Kind != "bot" || k.Mode != "panic" || k.Node != "n1" || !strings.HasPrefix(k.ID, "bot-") ||
			!strings.HasPrefix(k.PID, "node/rooms/r9/$") || k.At.Before(st.Started) || k.At.After(st.Ended) {
			t.Errorf("kill %+v of a run from %v to %v", k, st.Started, st.Ended)
		}
	}
	if st.Ended.Before(st.Started) || st.Now.Before(st.Ended) {
		t.Errorf("started %v ended %v now %v", st.Started, st.Ended, st.Now)
	}
	if st := run(0); st.Seed == 0 || st.Seed >= 1<<53 {
		t.Errorf("a seed the server chose: %d, want 1 to 2^53-1", st.Seed)
	}
}

// Recent keeps the last MaxRecentKills kills, oldest dropped first.
func TestChaosRecentIsBounded(t *testing.T) {
	c := newChaosRunner(newFake(), nil)
	for i := range MaxRecentKills + 7 {
		c.count(&actors.ActorInfo{Kind: "room", ID: fmt.Sprint(i)}, "stop")
	}
	st := c.status()
	if st.Total != MaxRecentKills+7 || len(st.Recent) != MaxRecentKills || st.Recent[0].ID != "7" ||
		st.Recent[MaxRecentKills-1].ID != fmt.Sprint(MaxRecentKills+6) {
		t.Fatalf("total %d, %d recent from %s to %s", st.Total, len(st.Recent), st.Recent[0].ID, st.Recent[len(st.Recent)-1].ID)
	}
}
