package admin_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/gateway"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/rules"
)

func TestMain(m *testing.M) { os.Exit(testserver.Run(m)) }

// gameConn is one client socket over one of the three wires.
type gameConn struct {
	ws    *websocket.Conn
	proto string // "binary", "json" or "eio3"
}

func dial(s *testserver.Server, proto string) (*gameConn, error) {
	path := "/ws"
	switch proto {
	case "json":
		path = "/ws?format=json"
	case "eio3":
		path = "/applet/websocket/socket.io//?EIO=3&transport=websocket"
	}
	ws, _, err := websocket.DefaultDialer.Dial(s.WSURL(path), nil)
	if err != nil {
		return nil, err
	}
	return &gameConn{ws: ws, proto: proto}, nil
}

func (c *gameConn) send(env *messages.Envelope) error {
	switch c.proto {
	case "eio3":
		data, err := gateway.EncodeEvent(env)
		if err != nil {
			return err
		}
		return c.ws.WriteMessage(websocket.TextMessage, data)
	default:
		data, err := gateway.EncodeEnvelope(env, c.proto == "binary")
		if err != nil {
			return err
		}
		kind := websocket.TextMessage
		if c.proto == "binary" {
			kind = websocket.BinaryMessage
		}
		return c.ws.WriteMessage(kind, data)
	}
}

// recv returns the next game message, skipping Engine.IO's own packets.
func (c *gameConn) recv(deadline time.Time) (*messages.Envelope, error) {
	c.ws.SetReadDeadline(deadline)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		if c.proto != "eio3" {
			return gateway.DecodeEnvelope(data, c.proto == "binary")
		}
		if strings.HasPrefix(string(data), "42") {
			return gateway.DecodeEvent(data)
		}
	}
}

// ledger is what the clients saw, checked against the game's promises.
type ledger struct {
	mu         sync.Mutex
	violations []string
	results    map[string]bool // round ids with a result
	voids      int
	starts     int
	reconnects int
	rejected   int // invalid choices the clients sent on purpose
}

func (l *ledger) violate(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.violations) < 50 {
		l.violations = append(l.violations, fmt.Sprintf(format, args...))
	}
}

func (l *ledger) count(f func(*ledger)) {
	l.mu.Lock()
	f(l)
	l.mu.Unlock()
}

// player plays rounds until stop, reconnecting as the same uid whenever the
// server closes its socket, and checks every result against the rules.
type player struct {
	uid       string
	proto     string
	roundTime time.Duration
	known     rules.Standing
	uncertain bool // a round may have settled while we were away
	rng       *rand.Rand
	l         *ledger
}

func (p *player) run(s *testserver.Server, stop time.Time) {
	for time.Now().Before(stop) {
		c, err := dial(s, p.proto)
		if err != nil {
			p.l.violate("%s: dial: %v", p.uid, err)
			return
		}
		p.session(c, stop)
		c.ws.Close()
		// Dropped at any point after a join (even before its start
		// arrived), we may have been seated: that round settles without
		// us, after the next hi may already have shown our standing.
		p.uncertain = true
		if time.Now().Before(stop) {
			p.l.count(func(l *ledger) { l.reconnects++ })
		}
	}
}

func (p *player) session(c *gameConn, stop time.Time) {
	user := &messages.User{Uid: p.uid, Uname: p.uid}
	if c.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: user}}}) != nil {
		return
	}
	hi, err := p.await(c, time.Now().Add(5*time.Second), "hi", "")
	if err != nil || hi == nil {
		return
	}
	h := hi.GetHi()
	if h.TotalScore < p.known.Total {
		p.l.violate("%s: total went down across a reconnect: %d after %d", p.uid, h.TotalScore, p.known.Total)
	}
	if h.TotalScore != p.known.Total || h.WinStreak != p.known.Streak {
		p.uncertain = true
	}
	p.known = rules.Standing{Total: h.TotalScore, Streak: h.WinStreak}
	for time.Now().Before(stop) {
		if !p.round(c) {
			return
		}
	}
}

// round plays one round; false when the socket is gone.
func (p *player) round(c *gameConn) bool {
	if c.send(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}) != nil {
		return false
	}
	env, err := p.await(c, time.Now().Add(10*time.Second), "start", "")
	if err != nil {
		return false
	}
	if env == nil {
		p.l.violate("%s: no start within 10s of join", p.uid)
		return false
	}
	start := env.GetStart()
	begun := time.Now()
	p.l.count(func(l *ledger) { l.starts++ })
	c.send(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 1 + p.rng.Int32N(3)}}})
	if p.rng.IntN(10) == 0 {
		c.send(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 7}}})
		p.l.count(func(l *ledger) { l.rejected++ })
	}
	end, err := p.await(c, begun.Add(p.roundTime+2*time.Second), "end", start.RoundId)
	if err != nil {
		p.uncertain = true // disconnected mid-round: the round goes on without us
		return false
	}
	if end == nil {
		p.l.violate("%s: round %s: no result or void within round time + 2s", p.uid, start.RoundId)
		return false
	}
	if v := end.GetVoid(); v != nil {
		if p.proto == "eio3" {
			// The 2016 page knows no void: it would wait at 0 for good.
			p.l.violate("%s: round %s: a void on the 2016 client's wire", p.uid, start.RoundId)
		}
		p.l.count(func(l *ledger) { l.voids++ })
		return true
	}
	p.check(end.GetResult())
	return true
}

// await reads until a message of the wanted kind ("end" is a result or a
// void of round) arrives; nil at the deadline. It fails on a second end of a
// round, and notes rejected choices.
func (p *player) await(c *gameConn, deadline time.Time, want, round string) (*messages.Envelope, error) {
	for {
		env, err := c.recv(deadline)
		if err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				return nil, nil
			}
			return nil, err
		}
		switch {
		case want == "hi" && env.GetHi() != nil, want == "start" && env.GetStart() != nil:
			return env, nil
		case want == "end" && (env.GetResult().GetRoundId() == round || env.GetVoid().GetRoundId() == round):
			return env, nil
		case env.GetResult() != nil || env.GetVoid() != nil:
			p.l.violate("%s: unexpected end %v while waiting for %s %s", p.uid, env, want, round)
		case env.GetError() != nil && env.GetError().Code == messages.CodeNotPlaying:
			// Our choice crossed the round's end (a void of a killed room)
			// on the wire; the end itself is checked above.
		case env.GetError() != nil && env.GetError().Code != messages.CodeInvalidChoice:
			p.l.violate("%s: error %v", p.uid, env.GetError())
		}
	}
}

// check holds a result to the rules, from this player's standing before it.
func (p *player) check(res *messages.Result) {
	p.l.count(func(l *ledger) {
		if l.results[res.RoundId+"/"+p.uid] {
			l.violations = append(l.violations, fmt.Sprintf("%s: second result for %s", p.uid, res.RoundId))
		}
		l.results[res.RoundId+"/"+p.uid] = true
	})
	var hands []rules.Hand
	me := -1
	for i, r := range res.Result {
		hands = append(hands, rules.Hand(r.Choice))
		if r.Uid == p.uid {
			me = i
		}
	}
	if me < 0 {
		p.l.violate("%s: result %s without me", p.uid, res.RoundId)
		return
	}
	got := res.Result[me]
	x := rules.BaseScores(hands)[me]
	want := rules.Apply(p.known, x)
	ok := got.RoundScore == want.RoundScore && got.TotalScore == want.Total && got.WinStreak == want.Streak
	if !ok && p.uncertain {
		// A round may have settled while we were away: the streak may have
		// been reset, and a win may have added to the total.
		for _, prev := range []rules.Standing{{Total: p.known.Total, Streak: 0}, {Total: got.TotalScore - got.RoundScore, Streak: got.WinStreak - 1}, {Total: got.TotalScore - got.RoundScore, Streak: 0}} {
			if prev.Total < p.known.Total {
				continue
			}
			if w := rules.Apply(prev, x); w.RoundScore == got.RoundScore && w.Total == got.TotalScore && w.Streak == got.WinStreak {
				ok = true
			}
		}
	}
	if !ok {
		p.l.violate("%s: round %s: got score %d total %d streak %d from %+v with base %d, want %+v", p.uid, res.RoundId, got.RoundScore, got.TotalScore, got.WinStreak, p.known, x, want)
	}
	if got.TotalScore < p.known.Total {
		p.l.violate("%s: total went down: %d after %d", p.uid, got.TotalScore, p.known.Total)
	}
	p.known = rules.Standing{Total: got.TotalScore, Streak: got.WinStreak}
	p.uncertain = false
}

// metric reads one sample (summed over labels matching match) from the
// /metrics of the metrics listener at addr.
func metric(t *testing.T, addr, name, match string) float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest[0] != ' ' && rest[0] != '{' || !strings.Contains(rest, match) {
			continue
		}
		f := strings.Fields(rest)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}
