package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/messages"
)

// crashPlayer plays rounds on its wire until its socket fails (the server
// was killed), reporting each result it sees and whether a round is in
// flight (a choice sent, no result yet).
type crashPlayer struct {
	uid      string
	wire     string // "json", "binary" (both /ws) or "eio3" (the 2016 client's)
	mu       sync.Mutex
	last     tally // the last result seen, or what hi said
	inFlight bool  // killed in a round: the store may hold that round too
	rounds   int
	seen     *atomic.Int64 // results seen by every player in this run
}

func (p *crashPlayer) play(s *testserver.Server, rng *rand.Rand) {
	ws, _, err := websocket.DefaultDialer.Dial(crashURL(s, p.wire), nil)
	if err != nil {
		return
	}
	defer ws.Close()
	send := func(name string, body any) error {
		kind, data, err := encodeCrash(p.wire, name, body)
		if err != nil {
			return err
		}
		return ws.WriteMessage(kind, data)
	}
	next := func() (string, map[string]any, error) {
		for {
			ws.SetReadDeadline(time.Now().Add(waitTime))
			_, data, err := ws.ReadMessage()
			if err != nil {
				return "", nil, err
			}
			name, body, ok, err := decodeCrash(p.wire, data)
			if err != nil {
				return "", nil, err
			}
			if ok {
				return name, body, nil
			}
		}
	}
	if send("hello", hello(p.uid, "")) != nil {
		return
	}
	for {
		name, _, err := next()
		if err != nil {
			return
		}
		if name == "hi" {
			break
		}
	}
	for {
		if send("join", map[string]any{}) != nil {
			return
		}
		started := false
		for !started {
			name, _, err := next()
			if err != nil {
				return
			}
			switch name {
			case "start":
				started = true
			case "error":
				time.Sleep(50 * time.Millisecond)
				if send("join", map[string]any{}) != nil {
					return
				}
			}
		}
		p.mu.Lock()
		p.inFlight = true
		p.mu.Unlock()
		if send("choice", map[string]any{"choice": 1 + rng.IntN(3)}) != nil {
			return
		}
		for done := false; !done; {
			name, body, err := next()
			if err != nil {
				return
			}
			switch name {
			case "result":
				for _, line := range body["result"].([]any) {
					l := line.(map[string]any)
					if l["uid"] == p.uid {
						p.mu.Lock()
						p.last = tally{int(l["totalScore"].(float64)), int(l["winStreak"].(float64))}
						p.inFlight = false
						p.rounds++
						p.mu.Unlock()
						p.seen.Add(1)
					}
				}
				done = true
			case "void":
				p.mu.Lock()
				p.inFlight = false
				p.mu.Unlock()
				done = true
			}
		}
	}
}

// oneRoundOn reports whether got can be last with one more round applied
// (a round saved before the kill whose result never reached the player).
func oneRoundOn(last, got tally) bool {
	if got == last {
		return true
	}
	if got.streak == 0 {
		return got.total == last.total // a loss
	}
	d := got.total - last.total
	return got.streak == last.streak+1 && d > 0 && d%got.streak == 0 // a win
}

// SIGKILL at 20 random moments while 200 players play on three wires (/ws
// JSON and binary, and the 2016 client's): after each restart every
// player's total and streak are those of the last result it saw, or, for
// one killed in the middle of a round, that round applied once more. Never
// a round lost that a player saw, never a round applied twice.
func TestCrashKeepsEveryResult(t *testing.T) {
	const players, kills = 200, 20
	path := filepath.Join(t.TempDir(), "caiquan.db")
	flags := []string{"-store-path", path, "-bot-fill", "100ms", "-round-time", "500ms"}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 15))
	ps := make([]*crashPlayer, players)
	for i := range ps {
		ps[i] = &crashPlayer{uid: fmt.Sprintf("crash%03d", i), wire: []string{"json", "binary", "eio3"}[i%3]}
	}
	total := 0
	for k := 0; k <= kills; k++ {
		s := testserver.Start(t, flags...)
		// Every player first checks what the restarted server holds.
		for _, p := range ps {
			c := dial(t, s.WSURL("/ws?format=json"))
			c.send("hello", hello(p.uid, ""))
			hi := c.expect("hi")
			c.ws.Close()
			got := tally{int(hi["totalScore"].(float64)), int(hi["winStreak"].(float64))}
			p.mu.Lock()
			ok := got == p.last || p.inFlight && oneRoundOn(p.last, got)
			if !ok {
				t.Errorf("after kill %d, %s has total %d streak %d; its last result said %d, %d (in a round: %v)",
					k, p.uid, got.total, got.streak, p.last.total, p.last.streak, p.inFlight)
			}
			p.last, p.inFlight = got, false
			p.mu.Unlock()
		}
		if k == kills || t.Failed() {
			s.Stop()
			break
		}
		var wg sync.WaitGroup
		var seen atomic.Int64
		for i, p := range ps {
			wg.Add(1)
			p.seen = &seen
			seed := rand.New(rand.NewPCG(uint64(k), uint64(i)))
			go func() { defer wg.Done(); p.play(s, seed) }()
		}
		// The kill comes once the players have seen a random number of
		// results (so every run exercises the store, however slow the
		// machine), at a random moment in the next rounds.
		want := int64(players/2 + rng.IntN(2*players))
		deadline := time.Now().Add(time.Minute)
		for seen.Load() < want && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := seen.Load(); n < want {
			t.Errorf("run %d: players saw only %d results in a minute, want %d before the kill", k, n, want)
		}
		time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
		s.Kill()
		wg.Wait()
	}
	for _, p := range ps {
		total += p.rounds
	}
	t.Logf("%d results seen over %d kills", total, kills)
}

// crashURL is where a player of wire connects.
func crashURL(s *testserver.Server, wire string) string {
	switch wire {
	case "eio3":
		return s.WSURL("/applet/websocket/socket.io//?EIO=3&transport=websocket")
	case "binary":
		return s.WSURL("/ws")
	}
	return s.WSURL("/ws?format=json")
}

// encodeCrash renders one client message for wire: {"name":body} on /ws
// JSON, its protobuf on /ws binary, 42["name",body] on Engine.IO 3.
func encodeCrash(wire, name string, body any) (int, []byte, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	switch wire {
	case "eio3":
		return websocket.TextMessage, []byte(`42["` + name + `",` + string(payload) + `]`), nil
	case "binary":
		env := &messages.Envelope{}
		if err := protojson.Unmarshal([]byte(`{"`+name+`":`+string(payload)+`}`), env); err != nil {
			return 0, nil, err
		}
		data, err := proto.Marshal(env)
		return websocket.BinaryMessage, data, err
	}
	return websocket.TextMessage, []byte(`{"` + name + `":` + string(payload) + `}`), nil
}

// decodeCrash reads one server frame of wire as its event's name and body;
// ok is false for frames that carry no event (Engine.IO's open packet, 40).
func decodeCrash(wire string, data []byte) (name string, body map[string]any, ok bool, err error) {
	switch wire {
	case "eio3":
		rest, isEvent := strings.CutPrefix(string(data), "42")
		if !isEvent {
			return "", nil, false, nil
		}
		var args []json.RawMessage
		if err := json.Unmarshal([]byte(rest), &args); err != nil || len(args) < 2 {
			return "", nil, false, fmt.Errorf("bad event %q", data)
		}
		if err := json.Unmarshal(args[0], &name); err != nil {
			return "", nil, false, err
		}
		err := json.Unmarshal(args[1], &body)
		return name, body, err == nil, err
	case "binary":
		env := &messages.Envelope{}
		if err := proto.Unmarshal(data, env); err != nil {
			return "", nil, false, err
		}
		if data, err = (protojson.MarshalOptions{EmitUnpopulated: true}).Marshal(env); err != nil {
			return "", nil, false, err
		}
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(data, &env); err != nil {
		return "", nil, false, err
	}
	for n, raw := range env {
		if n == "seq" || string(raw) == "null" {
			continue // the envelope's number, and the empty bodies protojson lists
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return "", nil, false, err
		}
		return n, body, true, nil
	}
	return "", nil, false, fmt.Errorf("empty envelope %q", data)
}
