package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/pgtest"
	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// Scores survive SIGKILL: every round whose result a player saw is in the
// store, so a new process on the same file shows exactly those totals and
// streaks, in hi and on the leaderboard.
func TestRestartKeepsScoresPebble(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scores.db")
	testRestart(t, "-store", "pebble", "-store-path", path)
}

// The same on PostgreSQL, in a throwaway cluster on loopback. Two nodes
// sharing it: TestClusterRestartKeepsScores.
func TestRestartKeepsScoresPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	testRestart(t, "-store", "postgres", "-postgres-url", pg.URL)
}

func testRestart(t *testing.T, storeFlags ...string) {
	flags := append([]string{"-bot-fill", "100ms", "-round-time", "1s"}, storeFlags...)
	s := testserver.Start(t, flags...)
	uids := []string{"ann", "ben", "cy"}
	last := make(map[string]tally)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, uid := range uids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial(t, s.WSURL("/ws?format=json"))
			c.send("hello", hello(uid, ""))
			c.expect("hi")
			// At least four rounds, and on until a win, so that a lost
			// store cannot pass for a player who never scored.
			for round := 1; round <= 12; round++ {
				st := c.playRound(uid)
				mu.Lock()
				last[uid] = st
				mu.Unlock()
				if round >= 4 && st.total > 0 {
					break
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	s.Kill()

	s2 := testserver.Start(t, flags...)
	for _, uid := range uids {
		c := dial(t, s2.WSURL("/ws?format=json"))
		c.send("hello", hello(uid, ""))
		hi := c.expect("hi")
		got := tally{int(hi["totalScore"].(float64)), int(hi["winStreak"].(float64))}
		if got != last[uid] {
			t.Errorf("%s after SIGKILL and restart: total %d streak %d; the last result said %d, %d",
				uid, got.total, got.streak, last[uid].total, last[uid].streak)
		}
		status, body := getJSON(t, http.MethodGet, s2.URL+"/leaderboard/"+uid+"?around=0", "")
		if status != 200 {
			t.Fatalf("leaderboard/%s: %d %v", uid, status, body)
		}
		line := body["players"].([]any)[0].(map[string]any)
		if fmt.Sprint(line["total"], line["streak"], line["uname"]) != fmt.Sprint(last[uid].total, last[uid].streak, "N"+uid) {
			t.Errorf("leaderboard line of %s = %v; want total %d, streak %d, uname N%s", uid, line, last[uid].total, last[uid].streak, uid)
		}
	}
}

// PostgreSQL going away is a store that really fails: the process stays
// up, a hello whose player must be loaded is told to try again (the player
// actor cannot load and restarts with back-off), the leaderboard says 503,
// and once the database is back the same hello gets the player's totals.
func TestPostgresOutage(t *testing.T) {
	pg := pgtest.Start(t)
	flags := []string{"-bot-fill", "100ms", "-round-time", "1s", "-store", "postgres", "-postgres-url", pg.URL}
	s := testserver.Start(t, flags...)
	c := dial(t, s.WSURL("/ws?format=json"))
	c.send("hello", hello("olga", ""))
	c.expect("hi")
	var last tally
	for round := 1; round <= 12 && last.total == 0; round++ {
		last = c.playRound("olga")
	}
	s.Kill()
	s = testserver.Start(t, flags...) // no player actor holds olga's record now

	pg.Stop()
	late := dial(t, s.WSURL("/ws?format=json"))
	late.send("hello", hello("olga", ""))
	late.expectError("server_busy") // after the 5 s attach timeout
	if err := s.Healthy(); err != nil {
		t.Fatalf("the server with its database down: %v", err)
	}
	if status, body := getJSON(t, http.MethodGet, s.URL+"/leaderboard", ""); status != 503 || body["code"] != "store_unavailable" {
		t.Fatalf("leaderboard with the database down: %d %v", status, body)
	}

	pg.Restart()
	deadline := time.Now().Add(20 * time.Second)
	for {
		late.send("hello", hello("olga", ""))
		name, body := late.next()
		if name == "hi" {
			if got := (tally{int(body["totalScore"].(float64)), int(body["winStreak"].(float64))}); got != last {
				t.Fatalf("hi after the database came back: %+v; the last result said %+v", got, last)
			}
			break
		}
		if name != "error" || (body["code"] != "server_busy" && body["code"] != "already_hello") {
			t.Fatalf("got %s %v", name, body)
		}
		if time.Now().After(deadline) {
			t.Fatal("no hi within 20 s of the database coming back")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
