package actors

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

func TestTwoHumansPlayEachOther(t *testing.T) {
	srv, _ := newTestServer(t, testSettings())
	a, b := connect(t, srv, "a"), connect(t, srv, "b")
	a.join()
	b.join()
	sa, sb := a.expect("start").GetStart(), b.expect("start").GetStart()
	if sa.RoundId != sb.RoundId || len(sa.RoomUsers) != 2 {
		t.Fatalf("not one room of two: %v / %v", sa, sb)
	}
	a.choose(2) // rock
	if m := b.expect("movement").GetMovement(); m.Uid != "a" || m.Movement != "choice" {
		t.Fatalf("b saw %v", m)
	}
	b.choose(1) // scissors
	ra, rb := a.expect("result"), b.expect("result")
	if ra.GetResult().RoundId != sa.RoundId {
		t.Fatalf("result for another round: %v", ra)
	}
	want := map[string]*messages.PlayerResult{
		"a": {Uid: "a", Choice: 2, RoundScore: 1, TotalScore: 1, WinStreak: 1},
		"b": {Uid: "b", Choice: 1, RoundScore: 0, TotalScore: 0, WinStreak: 0},
	}
	for _, env := range []*messages.Envelope{ra, rb} {
		for uid, w := range want {
			got := resultOf(env, uid)
			if got == nil || got.Choice != w.Choice || got.RoundScore != w.RoundScore || got.TotalScore != w.TotalScore || got.WinStreak != w.WinStreak {
				t.Errorf("result for %s = %v, want %v", uid, got, w)
			}
		}
	}
	a.quiet(200 * time.Millisecond)

	// The next round starts from the totals of the last: a wins again.
	a.join()
	b.join()
	a.expect("start")
	if u := b.expect("start").GetStart().RoomUsers; u[0].TotalScore+u[1].TotalScore != 1 {
		t.Fatalf("start does not carry totals: %v", u)
	}
	a.choose(3)
	b.choose(2)
	if r := resultOf(a.expect("result"), "a"); r.RoundScore != 2 || r.TotalScore != 3 || r.WinStreak != 2 {
		t.Fatalf("second win: %v", r)
	}
}

// Only a player who waits is told it is queued: the one whose join completes
// a table gets its start and nothing before it.
func TestQueuedOnlyWhileWaiting(t *testing.T) {
	s := testSettings()
	s.BotFill = time.Second
	srv, _ := newTestServer(t, s)
	a, b := connect(t, srv, "a"), connect(t, srv, "b")
	a.join()
	if q := next(t, a); kindOf(q) != "queued" || q.GetQueued().Waiting != 1 {
		t.Fatalf("a waits alone: got %v, want queued with 1 waiting", q)
	}
	b.join()
	if env := next(t, b); kindOf(env) != "start" {
		t.Fatalf("b completes the table: got %v, want start first", env)
	}
	if env := next(t, a); kindOf(env) != "start" {
		t.Fatalf("a after b joined: got %v, want start", env)
	}
}

// next is the client's next message, whatever it is.
func next(t *testing.T, c *client) *messages.Envelope {
	t.Helper()
	select {
	case env := <-c.conn.out:
		return env
	case <-time.After(3 * time.Second):
		t.Fatalf("%s: nothing within 3s", c.uid)
		return nil
	}
}

func TestLonePlayerGetsABot(t *testing.T) {
	srv, _ := newTestServer(t, testSettings())
	a := connect(t, srv, "a")
	joined := time.Now()
	a.join()
	start := a.expect("start").GetStart()
	if waited := time.Since(joined); waited < 90*time.Millisecond {
		t.Fatalf("bot seated after %v, before the bot-fill deadline", waited)
	}
	if len(start.RoomUsers) != 2 || start.RoomUsers[1].Uid == "a" {
		t.Fatalf("start: %v", start.RoomUsers)
	}
	bot := start.RoomUsers[1].Uid
	if m := a.expect("movement").GetMovement(); m.Uid != bot {
		t.Fatalf("movement from %q, want the bot %q", m.Uid, bot)
	}
	// a never chooses: not choosing loses to the bot, which always chose.
	res := a.expect("result")
	if r := resultOf(res, "a"); r.Choice != 0 || r.RoundScore != 0 {
		t.Fatalf("silent player: %v", r)
	}
	if r := resultOf(res, bot); r.Choice < 1 || r.RoundScore != 1 {
		t.Fatalf("bot: %v", r)
	}
}

func TestDisconnectMidRoundCountsAsNotChoosing(t *testing.T) {
	srv, _ := newTestServer(t, testSettings())
	a, b := connect(t, srv, "a"), connect(t, srv, "b")
	a.join()
	b.join()
	a.expect("start")
	b.expect("start")
	a.choose(1)
	b.choose(3)
	b.s.Closed("gone")
	if l := a.expect("leave").GetLeave(); l.Uid != "b" {
		t.Fatalf("leave for %q", l.Uid)
	}
	res := a.expect("result")
	if r := resultOf(res, "b"); r.Choice != 0 {
		t.Fatalf("absent player's choice counted: %v", r)
	}
	if r := resultOf(res, "a"); r.RoundScore != 1 {
		t.Fatalf("a should win against the absent player: %v", r)
	}
}

func TestSessionRules(t *testing.T) {
	srv, _ := newTestServer(t, testSettings())
	c := &client{t: t, conn: newFakeConn(), uid: "x"}
	c.s = srv.OpenSession(c.conn)
	c.join()
	c.expect("error:" + messages.CodeHelloFirst)
	c.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: "bad uid!"}}}})
	c.expect("error:" + messages.CodeBadUser)
	c.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: "x"}}}})
	c.expect("hi")
	for _, bad := range []int32{0, 4, -1} {
		c.choose(bad)
		c.expect("error:" + messages.CodeInvalidChoice)
	}
	c.choose(1)
	c.expect("error:" + messages.CodeNotPlaying)
	c.join()
	c.join()
	c.expect("error:" + messages.CodeAlreadyQueued)
	c.send(&messages.Envelope{Body: &messages.Envelope_Leave{Leave: &messages.Leave{}}})
	c.quiet(250 * time.Millisecond) // left the queue before the bot came: no start
}

func TestSecondConnectionReplacesTheFirst(t *testing.T) {
	srv, _ := newTestServer(t, testSettings())
	first := connect(t, srv, "p")
	second := connect(t, srv, "p")
	eventually(t, "first connection closed as replaced", func() bool {
		closed, code := first.conn.closeCode()
		return closed && code == messages.CloseReplaced
	})
	second.join()
	second.expect("start")
}

func TestScoresSurviveReconnect(t *testing.T) {
	srv, _ := newTestServer(t, testSettings())
	a, b := connect(t, srv, "a"), connect(t, srv, "b")
	a.join()
	b.join()
	a.expect("start")
	b.expect("start")
	a.choose(1)
	b.choose(3)
	a.expect("result")
	a.s.Closed("bye")
	if hi := hiAgain(t, srv, "a"); hi.TotalScore != 1 || hi.WinStreak != 1 {
		t.Fatalf("standing after reconnect: %v", hi)
	}
}

// A round shorter than a second says so exactly in gameTimeMs, and rounds
// gameTime up for clients that count whole seconds.
func TestSubSecondRoundTime(t *testing.T) {
	s := testSettings()
	s.RoundTime = 1500 * time.Millisecond
	srv, _ := newTestServer(t, s)
	a := connect(t, srv, "a")
	a.join()
	start := a.expect("start").GetStart()
	if start.GameTime != 2 || start.GameTimeMs != 1500 {
		t.Fatalf("gameTime %d, gameTimeMs %d; want 2 and 1500", start.GameTime, start.GameTimeMs)
	}
}

// A room stops watching its sessions when it ends. protoactor keeps a
// stopped watcher in the watched actor's set, so without that a session
// would hold every room it played in, and tell each one, long gone, when
// it ends.
func TestSessionDoesNotKeepItsRooms(t *testing.T) {
	srv, system := newTestServer(t, testSettings())
	a, b := connect(t, srv, "a"), connect(t, srv, "b")
	for range 3 {
		pair(t, a, b)
		a.expect("result")
		b.expect("result")
	}
	session := a.s.(*sessionHandle).pid.Load()
	var toDeadRooms atomic.Int32
	sub := system.EventStream.Subscribe(func(ev any) {
		if dl, ok := ev.(*actor.DeadLetterEvent); ok {
			if term, ok := dl.Message.(*actor.Terminated); ok && term.Who.Equal(session) {
				toDeadRooms.Add(1)
			}
		}
	})
	defer system.EventStream.Unsubscribe(sub)
	a.s.Closed("test")
	eventually(t, "a's session ended", func() bool { return len(srv.List(KindSession)) == 1 })
	time.Sleep(50 * time.Millisecond) // its last system messages
	if n := toDeadRooms.Load(); n != 0 {
		t.Fatalf("a's session told %d rooms it ended, all of them long gone; want 0", n)
	}
}
