package admin

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caiquan/caiquan/actors"
)

// fakeActors is a live set that kills by removing.
type fakeActors struct {
	mu    sync.Mutex
	live  []actors.ActorInfo
	kills []string
}

func (f *fakeActors) List(kinds ...string) []actors.ActorInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []actors.ActorInfo
	for _, a := range f.live {
		if len(kinds) == 0 || contains(kinds, a.Kind) {
			out = append(out, a)
		}
	}
	return out
}

func (f *fakeActors) Kill(node, pid, kind, id, mode string) (actors.ActorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if mode != "stop" && mode != "poison" && mode != "panic" {
		return actors.ActorInfo{}, errors.New("bad mode")
	}
	for i, a := range f.live {
		if a.PID == pid || (pid == "" && a.Kind == kind && a.ID == id) {
			f.kills = append(f.kills, a.Kind+"/"+mode)
			if mode != "panic" {
				f.live = append(f.live[:i], f.live[i+1:]...)
			}
			return a, nil
		}
	}
	return actors.ActorInfo{}, actors.ErrNotFound
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func newFake() *fakeActors {
	return &fakeActors{live: []actors.ActorInfo{
		{Kind: "room", ID: "r1", PID: "node/rooms/r1"},
		{Kind: "room", ID: "r2", PID: "node/rooms/r2"},
		{Kind: "lobby", ID: "lobby", PID: "node/lobby"},
		{Kind: "bot", ID: "bot-r1-1", PID: "node/rooms/r1/$1"},
	}}
}

// testToken is the token of the servers serve makes.
var testToken = strings.Repeat("k", MinToken)

func serve(t *testing.T, a Actors, token string) (*httptest.Server, *Server) {
	ts := httptest.NewUnstartedServer(nil)
	s := New(a, token, ts.Listener.Addr().String(), slog.New(slog.DiscardHandler))
	ts.Config.Handler = s
	ts.Start()
	t.Cleanup(func() { s.Close(); ts.Close() })
	return ts, s
}

func call(t *testing.T, ts *httptest.Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	return callWith(t, ts, method, path, token, body, nil)
}

// callWith sends a request with extra headers ("Host" sets the Host line).
func callWith(t *testing.T, ts *httptest.Server, method, path, token, body string, headers map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if method != "GET" {
		req.Header.Set("Content-Type", "application/json")
	}
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
	var out map[string]any
	json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

func TestTokenRequired(t *testing.T) {
	ts, _ := serve(t, newFake(), testToken)
	for _, tc := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/actors", "", 401},
		{"GET", "/actors", "wrong", 401},
		{"GET", "/actors", testToken[:MinToken-1], 401},
		{"GET", "/actors", testToken + "k", 401},
		{"GET", "/healthz", "", 401},
		{"POST", "/kill", "", 401},
		{"GET", "/actors", testToken, 200},
		// Metrics have their own listener.
		{"GET", "/metrics", testToken, 404},
	} {
		if code, _ := call(t, ts, tc.method, tc.path, tc.token, ""); code != tc.want {
			t.Errorf("%s %s with token %q: %d, want %d", tc.method, tc.path, tc.token, code, tc.want)
		}
	}
	// With no token at all, nothing passes: not even an empty Bearer.
	empty, _ := serve(t, newFake(), "")
	for _, token := range []string{"", " "} {
		if code, _ := call(t, empty, "GET", "/actors", token, ""); code != 401 {
			t.Errorf("a server without a token answered %d to token %q, want 401", code, token)
		}
	}
}

// What a web page can make a browser send: a simple POST (text/plain or a
// form), a foreign Origin, a rebound DNS name in Host. Each is refused with
// a JSON error before the handler runs, even with the right token (which a
// page could only have by accident), and nothing is killed.
func TestRefusesWhatAWebPageCanSend(t *testing.T) {
	fake := newFake()
	ts, _ := serve(t, fake, testToken)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	kill := `{"kind":"lobby","id":"lobby","mode":"panic"}`
	for _, tc := range []struct {
		name    string
		method  string
		headers map[string]string
		want    int
		code    string
	}{
		{"foreign origin", "POST", map[string]string{"Origin": "https://evil.example"}, 403, "forbidden_origin"},
		{"null origin", "POST", map[string]string{"Origin": "null"}, 403, "forbidden_origin"},
		{"origin of another port", "POST", map[string]string{"Origin": "http://127.0.0.1:1"}, 403, "forbidden_origin"},
		{"origin over https", "GET", map[string]string{"Origin": "https://" + ts.Listener.Addr().String()}, 403, "forbidden_origin"},
		{"rebound name", "POST", map[string]string{"Host": "evil.example:" + port}, 403, "forbidden_host"},
		{"rebound name with a matching origin", "POST", map[string]string{"Host": "evil.example:" + port, "Origin": "http://evil.example:" + port}, 403, "forbidden_host"},
		{"rebound name on GET", "GET", map[string]string{"Host": "evil.example:" + port}, 403, "forbidden_host"},
		{"another port", "GET", map[string]string{"Host": "127.0.0.1:1"}, 403, "forbidden_host"},
		{"another address", "GET", map[string]string{"Host": "10.0.0.1:" + port}, 403, "forbidden_host"},
		{"no port", "GET", map[string]string{"Host": "127.0.0.1"}, 403, "forbidden_host"},
		{"text/plain body", "POST", map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},
		{"form body", "POST", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"no content type", "POST", map[string]string{"Content-Type": ""}, 415, "unsupported_media_type"},
		{"json look-alike", "POST", map[string]string{"Content-Type": "application/jsonp"}, 415, "unsupported_media_type"},
	} {
		path := "/kill"
		if tc.method == "GET" {
			path = "/actors"
		}
		code, body := callWith(t, ts, tc.method, path, testToken, kill, tc.headers)
		if code != tc.want || body["code"] != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.name, code, body, tc.want, tc.code)
		}
	}
	if len(fake.kills) != 0 {
		t.Fatalf("refused requests killed %v", fake.kills)
	}
	// The listener's own origin, localhost, and a charset pass.
	for _, h := range []map[string]string{
		{"Origin": "http://" + ts.Listener.Addr().String()},
		{"Host": "localhost:" + port, "Origin": "http://localhost:" + port},
		{"Content-Type": "application/json; charset=utf-8"},
	} {
		if code, body := callWith(t, ts, "POST", "/kill", testToken, `{"kind":"room","id":"r1"}`, h); code != 200 {
			t.Errorf("%v: %d %v, want 200", h, code, body)
		}
		fake.live = newFake().live
	}
}

// On every interface, any IP address with the port is this listener; a
// name still is not.
func TestHostOnEveryInterface(t *testing.T) {
	g := newGuard(testToken, "0.0.0.0:8081")
	for host, want := range map[string]bool{
		"127.0.0.1:8081": true, "10.1.2.3:8081": true, "[::1]:8081": true, "localhost:8081": true,
		"admin.example:8081": false, "10.1.2.3:8082": false, "": false,
	} {
		if got := g.hostAllowed(host); got != want {
			t.Errorf("Host %q: %v, want %v", host, got, want)
		}
	}
	g = newGuard(testToken, "10.1.2.3:8081")
	for host, want := range map[string]bool{"10.1.2.3:8081": true, "127.0.0.1:8081": false, "localhost:8081": false} {
		if got := g.hostAllowed(host); got != want {
			t.Errorf("bound to 10.1.2.3, Host %q: %v, want %v", host, got, want)
		}
	}
}

func TestListAndKill(t *testing.T) {
	fake := newFake()
	ts, _ := serve(t, fake, testToken)
	c := &Client{Addr: strings.TrimPrefix(ts.URL, "http://"), Token: testToken}
	rooms, err := c.Actors("room")
	if err != nil || len(rooms) != 2 {
		t.Fatalf("rooms: %v %v", rooms, err)
	}
	if code, body := call(t, ts, "GET", "/actors?kind=spaceship", testToken, ""); code != 400 || body["code"] != "bad_kind" {
		t.Fatalf("unknown kind: %d %v", code, body)
	}
	res, err := c.Kill(KillRequest{Kind: "room", ID: "r2", Mode: "poison"})
	if err != nil || res.Killed.PID != "node/rooms/r2" {
		t.Fatalf("kill: %v %v", res, err)
	}
	if _, err := c.Kill(KillRequest{PID: "node/rooms/r2"}); err == nil || err.(APIError).Code != "not_found" {
		t.Fatalf("killing a dead actor: %v", err)
	}
	for _, body := range []string{`{"kind":"room"}`, `{"pid":"node/lobby","mode":"explode"}`, `not json`, `{"pid":"x","extra":1}`} {
		if code, _ := call(t, ts, "POST", "/kill", testToken, body); code != 400 {
			t.Errorf("POST /kill %s: %d, want 400", body, code)
		}
	}
	if len(fake.kills) != 1 || fake.kills[0] != "room/poison" {
		t.Fatalf("kills: %v", fake.kills)
	}
}

func TestChaosKillsAtARateAndEnds(t *testing.T) {
	fake := newFake()
	for i := 0; i < 50; i++ {
		fake.live = append(fake.live, actors.ActorInfo{Kind: "bot", ID: "b", PID: "bot" + string(rune('A'+i))})
	}
	ts, _ := serve(t, fake, testToken)
	c := &Client{Addr: strings.TrimPrefix(ts.URL, "http://"), Token: testToken}
	st, err := c.StartChaos(ChaosRequest{Kinds: []string{"bot"}, Modes: []string{"stop"}, Every: "5ms", For: "300ms"})
	if err != nil || !st.Running {
		t.Fatalf("start: %v %v", st, err)
	}
	if _, err := c.StartChaos(ChaosRequest{Kinds: []string{"bot"}, Every: "5ms", For: "1s"}); err == nil || err.(APIError).Code != "chaos_running" {
		t.Fatalf("second run: %v", err)
	}
	for end := time.Now().Add(3 * time.Second); st.Running && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		st, _ = c.Chaos()
	}
	if st.Running || st.Total == 0 || st.Kills["bot/stop"] != st.Total {
		t.Fatalf("after the run: %+v", st)
	}
	if got := len(fake.List("bot")); got != 51-st.Total {
		t.Fatalf("%d bots left after %d kills", got, st.Total)
	}
	if len(fake.List("room")) != 2 {
		t.Fatal("chaos killed a kind it was not given")
	}
}

func TestChaosStopAndBadSpecs(t *testing.T) {
	ts, _ := serve(t, newFake(), testToken)
	c := &Client{Addr: strings.TrimPrefix(ts.URL, "http://"), Token: testToken}
	for _, req := range []ChaosRequest{
		{Every: "10ms", For: "1s"},
		{Kinds: []string{"dragon"}, Every: "10ms", For: "1s"},
		{Kinds: []string{"room"}, Modes: []string{"nuke"}, Every: "10ms", For: "1s"},
		{Kinds: []string{"room"}, Every: "0s", For: "1s"},
		{Kinds: []string{"room"}, Every: "10ms", For: "2h"},
	} {
		if _, err := c.StartChaos(req); err == nil {
			t.Errorf("accepted %+v", req)
		}
	}
	if _, err := c.StartChaos(ChaosRequest{Kinds: []string{"room"}, Every: "10ms", For: "1h"}); err != nil {
		t.Fatal(err)
	}
	st, err := c.StopChaos()
	if err != nil || st.Running {
		t.Fatalf("stop: %+v %v", st, err)
	}
}
