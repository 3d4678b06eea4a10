package admin

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/metrics"
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

func serve(t *testing.T, a Actors, token string) (*httptest.Server, *Server) {
	s := New(a, metrics.New(), token, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.Close() })
	return ts, s
}

func call(t *testing.T, ts *httptest.Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
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
	ts, _ := serve(t, newFake(), "s3cret")
	for _, tc := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/actors", "", 401},
		{"GET", "/actors", "wrong", 401},
		{"GET", "/metrics", "", 401},
		{"POST", "/kill", "", 401},
		{"GET", "/actors", "s3cret", 200},
		{"GET", "/metrics", "s3cret", 200},
	} {
		if code, _ := call(t, ts, tc.method, tc.path, tc.token, ""); code != tc.want {
			t.Errorf("%s %s with token %q: %d, want %d", tc.method, tc.path, tc.token, code, tc.want)
		}
	}
}

func TestListAndKill(t *testing.T) {
	fake := newFake()
	ts, _ := serve(t, fake, "")
	c := &Client{Addr: strings.TrimPrefix(ts.URL, "http://")}
	rooms, err := c.Actors("room")
	if err != nil || len(rooms) != 2 {
		t.Fatalf("rooms: %v %v", rooms, err)
	}
	if code, body := call(t, ts, "GET", "/actors?kind=spaceship", "", ""); code != 400 || body["code"] != "bad_kind" {
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
		if code, _ := call(t, ts, "POST", "/kill", "", body); code != 400 {
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
	ts, _ := serve(t, fake, "")
	c := &Client{Addr: strings.TrimPrefix(ts.URL, "http://")}
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
	ts, _ := serve(t, newFake(), "")
	c := &Client{Addr: strings.TrimPrefix(ts.URL, "http://")}
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
