package actors

import (
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

// The failure table of DESIGN.md, one test per row, each actor kind killed
// in each of the three ways.
var killModes = []string{KillStop, KillPoison, KillPanic}

func kill(t *testing.T, srv *Server, kind, id, mode string) {
	t.Helper()
	var err error
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if _, err = srv.Kill("", "", kind, id, mode); err == nil {
			return
		}
	}
	t.Fatalf("kill %s %s: %v", kind, id, err)
}

// pair seats a and b in one room and returns the round id.
func pair(t *testing.T, a, b *client) string {
	t.Helper()
	a.join()
	b.join()
	round := a.expect("start").GetStart().RoundId
	b.expect("start")
	return round
}

func TestKilledRoomEndsTheRoundOnce(t *testing.T) {
	for _, mode := range killModes {
		t.Run(mode, func(t *testing.T) {
			s := testSettings()
			s.RoundTime = 2 * time.Second
			srv, _ := newTestServer(t, s)
			a, b := connect(t, srv, "a"), connect(t, srv, "b")
			round := pair(t, a, b)
			a.choose(1)
			kill(t, srv, KindRoom, round, mode)
			for _, c := range []*client{a, b} {
				if v := c.expect("void").GetVoid(); v.RoundId != round {
					t.Fatalf("void for %q, want %q", v.RoundId, round)
				}
				c.quiet(150 * time.Millisecond) // no second void, no result
			}
			// Both play on.
			pair(t, a, b)
			a.choose(1)
			b.choose(2)
			if r := resultOf(b.expect("result"), "b"); r.TotalScore != 1 {
				t.Fatalf("next round after a void: %v", r)
			}
		})
	}
}

func TestKilledLobbyForgetsNobody(t *testing.T) {
	for _, mode := range killModes {
		t.Run(mode, func(t *testing.T) {
			s := testSettings()
			s.BotFill = 400 * time.Millisecond
			srv, _ := newTestServer(t, s)
			a := connect(t, srv, "a")
			a.join()
			a.expect("queued")
			kill(t, srv, KindLobby, lobbyName, mode)
			start := a.expect("start").GetStart() // within 3 s: the repeated join reaches the new lobby
			a.expect("result")
			a.quiet(1200 * time.Millisecond) // seated once, not twice
			if len(start.RoomUsers) != 2 {
				t.Fatalf("start: %v", start)
			}
		})
	}
}

func TestKilledSessionClosesCleanlyAndPlayerComesBack(t *testing.T) {
	for _, mode := range killModes {
		t.Run(mode, func(t *testing.T) {
			srv, _ := newTestServer(t, testSettings())
			a, b := connect(t, srv, "a"), connect(t, srv, "b")
			pair(t, a, b)
			a.choose(2)
			b.choose(1)
			a.expect("result")
			kill(t, srv, KindSession, "a", mode)
			eventually(t, "socket closed with 4004", func() bool {
				closed, code := a.conn.closeCode()
				return closed && code == messages.CloseSessionFailed
			})
			if hi := hiAgain(t, srv, "a"); hi.TotalScore != 1 || hi.WinStreak != 1 {
				t.Fatalf("standing after the session died: %v", hi)
			}
		})
	}
}

func TestKilledBotIsReplaced(t *testing.T) {
	for _, mode := range killModes {
		t.Run(mode, func(t *testing.T) {
			s := testSettings()
			s.RoundTime = time.Second
			srv, _ := newTestServer(t, s)
			a := connect(t, srv, "a")
			a.join()
			start := a.expect("start").GetStart()
			bot := start.RoomUsers[1].Uid
			kill(t, srv, KindBot, bot, mode)
			eventually(t, "another bot in the seat", func() bool {
				bots := srv.Inventory().List(KindBot)
				return len(bots) == 1 && bots[0].ID == bot
			})
			res := a.expect("result")
			if r := resultOf(res, bot); r == nil || r.Choice < 1 {
				t.Fatalf("bot seat: %v", r)
			}
			a.quiet(100 * time.Millisecond)
		})
	}
}

func TestKilledPlayerKeepsScoresAndAppliesOnce(t *testing.T) {
	for _, mode := range killModes {
		t.Run(mode, func(t *testing.T) {
			srv, _ := newTestServer(t, testSettings())
			a, b := connect(t, srv, "a"), connect(t, srv, "b")
			pair(t, a, b)
			a.choose(2)
			b.choose(1)
			a.expect("result")
			b.expect("result")
			kill(t, srv, KindPlayer, "a", mode)
			pair(t, a, b)
			a.choose(3)
			b.choose(2)
			r := resultOf(a.expect("result"), "a")
			if r.RoundScore != 2 || r.TotalScore != 3 || r.WinStreak != 2 {
				t.Fatalf("second win after the player died: %v", r)
			}
		})
	}
}

// A player actor that stops during a round: the room's direct ask finds it
// gone and asks through the directory at once (which makes the player
// again), long before its retry timer would.
func TestPlayerGoneAtTheDeadlineIsAskedThroughTheDirectory(t *testing.T) {
	for _, mode := range []string{KillStop, KillPoison} {
		t.Run(mode, func(t *testing.T) {
			s := testSettings()
			s.SettleRetry = time.Minute // only the dead-letter answer can settle in time
			srv, _ := newTestServer(t, s)
			a, b := connect(t, srv, "a"), connect(t, srv, "b")
			pair(t, a, b)
			kill(t, srv, KindPlayer, "a", mode)
			a.choose(2)
			b.choose(1)
			if r := resultOf(a.expect("result"), "a"); r.RoundScore != 1 || r.TotalScore != 1 {
				t.Fatalf("a's result after its player stopped: %v", r)
			}
			b.expect("result")
			pair(t, a, b)
			a.choose(2)
			b.choose(1)
			if r := resultOf(a.expect("result"), "a"); r.TotalScore != 3 || r.WinStreak != 2 {
				t.Fatalf("the next round: %v; want the first one stored once", r)
			}
		})
	}
}
