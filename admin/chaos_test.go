package admin_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/caiquan/caiquan/admin"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/messages"
)

// 200 players on three wires play for a minute while the chaos tool kills a
// random room, lobby, session, bot or player every 100 ms. From what the
// clients saw: every start ends once, in time; every result follows the
// rules from the player's standing before it; no total goes down. Then the
// server still serves, and its goroutines return to where they started.
func TestChaosLosesNoRound(t *testing.T) {
	players, span := 200, 60*time.Second
	if testing.Short() {
		players, span = 40, 10*time.Second
	}
	roundTime := time.Second
	s := testserver.Start(t, "-round-time", "1s", "-bot-fill", "300ms", "-rate-limit", "100", "-rate-burst", "100")
	c := &admin.Client{Addr: s.AdminAddr(), Token: s.AdminToken()}
	m := s.MetricsAddr()
	baseline := metric(t, m, "go_goroutines", "")

	l := &ledger{results: map[string]bool{}}
	stop := time.Now().Add(span)
	var wg sync.WaitGroup
	protos := []string{"binary", "json", "eio3"}
	for i := 0; i < players; i++ {
		p := &player{uid: fmt.Sprintf("chaos%03d", i), proto: protos[i%3], roundTime: roundTime, rng: rand.New(rand.NewPCG(uint64(i), 7)), l: l}
		wg.Add(1)
		go func() { defer wg.Done(); p.run(s, stop) }()
		time.Sleep(2 * time.Millisecond)
	}
	if _, err := c.StartChaos(admin.ChaosRequest{
		Kinds: []string{"room", "lobby", "session", "bot", "player"},
		Every: "100ms", For: (span - 3*time.Second).String(), Seed: 1,
	}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	st, err := c.Chaos()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("chaos: %d kills %v, %d misses; clients: %d starts, %d results, %d voids, %d reconnects",
		st.Total, st.Kills, st.Misses, l.starts, len(l.results), l.voids, l.reconnects)
	for _, v := range l.violations {
		t.Error(v)
	}
	if st.Total < int(span/(200*time.Millisecond)) {
		t.Errorf("only %d kills", st.Total)
	}
	for _, kind := range []string{"room", "lobby", "session", "bot", "player"} {
		n := 0
		for k, v := range st.Kills {
			if strings.HasPrefix(k, kind+"/") {
				n += v
			}
		}
		if n == 0 {
			t.Errorf("chaos never killed a %s", kind)
		}
	}
	if len(l.results) < players {
		t.Errorf("only %d results for %d players", len(l.results), players)
	}
	if err := s.Healthy(); err != nil {
		t.Fatalf("server after chaos: %v", err)
	}
	// Every socket is closed: the goroutines come back to the baseline.
	var now float64
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if now = metric(t, m, "go_goroutines", ""); now <= baseline+2 {
			break
		}
	}
	if now > baseline+2 {
		t.Errorf("goroutines: %v after, %v before", now, baseline)
	}
}

// After the chaos, the counters in /metrics agree with what clients saw in
// a calm stretch: rounds settled, rounds voided, connections, refusals.
func TestMetricsAgreeWithClients(t *testing.T) {
	s := testserver.Start(t, "-round-time", "1s", "-bot-fill", "200ms")
	m := s.MetricsAddr()
	settled0 := metric(t, m, "caiquan_rounds_settled_total", "")
	l := &ledger{results: map[string]bool{}}
	var conns []*gameConn
	for i, proto := range []string{"binary", "json", "eio3", "binary", "json", "eio3"} {
		conn, err := dial(s, proto)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		p := &player{uid: fmt.Sprintf("calm%d", i), proto: proto, roundTime: time.Second, rng: rand.New(rand.NewPCG(uint64(i), 9)), l: l}
		conn.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: p.uid}}}})
		if hi, err := p.await(conn, time.Now().Add(5*time.Second), "hi", ""); err != nil || hi == nil {
			t.Fatalf("hello: %v", err)
		}
		defer conn.ws.Close()
		// One refused message each, then two rounds.
		conn.send(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: 9}}})
		for r := 0; r < 2; r++ {
			p.round(conn)
		}
	}
	for _, v := range l.violations {
		t.Error(v)
	}
	// The whole page parses as Prometheus text, with every family we promise.
	res, err := http.Get("http://" + m + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	families, err := new(expfmt.TextParser).TextToMetricFamilies(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	for _, name := range []string{"caiquan_connections", "caiquan_players_waiting", "caiquan_rooms_in_progress",
		"caiquan_rounds_settled_total", "caiquan_rounds_voided_total", "caiquan_time_to_match_seconds",
		"caiquan_bot_fill_seconds", "caiquan_settlement_lag_seconds", "caiquan_messages_rejected_total"} {
		if families[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}
	rounds := map[string]bool{}
	for k := range l.results {
		rounds[k[:strings.Index(k, "/")]] = true
	}
	if got := metric(t, m, "caiquan_rounds_settled_total", "") - settled0; int(got) != len(rounds) {
		t.Errorf("rounds settled: metrics say %v, clients saw %d", got, len(rounds))
	}
	if got := metric(t, m, "caiquan_rounds_voided_total", ""); got != 0 {
		t.Errorf("rounds voided: %v, clients saw none", got)
	}
	if got := metric(t, m, "caiquan_messages_rejected_total", `reason="invalid_choice"`); int(got) != len(conns)+l.rejected {
		t.Errorf("invalid choices: metrics say %v, clients sent %d", got, len(conns)+l.rejected)
	}
	for _, proto := range []string{"ws", "eio3"} {
		want := 4.0
		if proto == "eio3" {
			want = 2
		}
		if got := metric(t, m, "caiquan_connections", `protocol="`+proto+`"`); got != want {
			t.Errorf("connections over %s: metrics say %v, clients hold %v", proto, got, want)
		}
	}
}
