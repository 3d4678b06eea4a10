package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// crashPlayer plays rounds on /ws until its socket fails (the server was
// killed), reporting each result it sees and whether a round is in flight
// (a choice sent, no result yet).
type crashPlayer struct {
	uid      string
	mu       sync.Mutex
	last     tally // the last result seen, or what hi said
	inFlight bool  // killed in a round: the store may hold that round too
	rounds   int
}

func (p *crashPlayer) play(url string, rng *rand.Rand) {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	send := func(name string, body any) error {
		b, _ := json.Marshal(map[string]any{name: body})
		return ws.WriteMessage(websocket.TextMessage, b)
	}
	next := func() (string, map[string]any, error) {
		ws.SetReadDeadline(time.Now().Add(waitTime))
		_, data, err := ws.ReadMessage()
		if err != nil {
			return "", nil, err
		}
		var env map[string]json.RawMessage
		if err := json.Unmarshal(data, &env); err != nil {
			return "", nil, err
		}
		for n, raw := range env {
			if n == "seq" {
				continue // the envelope's number, beside its one body
			}
			var b map[string]any
			if err := json.Unmarshal(raw, &b); err != nil {
				return "", nil, err
			}
			return n, b, nil
		}
		return "", nil, fmt.Errorf("empty envelope")
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

// SIGKILL at random moments while players play: after each restart every
// player's total and streak are those of the last result it saw, or, for
// one killed in the middle of a round, that round applied once more. Never
// a round lost that a player saw, never a round applied twice.
func TestCrashKeepsEveryResult(t *testing.T) {
	const players, kills = 12, 5
	path := filepath.Join(t.TempDir(), "caiquan.db")
	flags := []string{"-store-path", path, "-bot-fill", "100ms", "-round-time", "500ms"}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 15))
	ps := make([]*crashPlayer, players)
	for i := range ps {
		ps[i] = &crashPlayer{uid: fmt.Sprintf("crash%02d", i)}
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
		for i, p := range ps {
			wg.Add(1)
			seed := rand.New(rand.NewPCG(uint64(k), uint64(i)))
			go func() { defer wg.Done(); p.play(s.WSURL("/ws?format=json"), seed) }()
		}
		time.Sleep(time.Duration(1500+rng.IntN(3000)) * time.Millisecond)
		s.Kill()
		wg.Wait()
	}
	for _, p := range ps {
		total += p.rounds
	}
	if total < players*kills {
		t.Errorf("only %d results seen in %d runs of %d players: the test did not exercise the store", total, kills, players)
	}
	t.Logf("%d results seen over %d kills", total, kills)
}
