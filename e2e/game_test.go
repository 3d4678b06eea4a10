package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
	"github.com/gorilla/websocket"
	"google.golang.org/protobuf/proto"
)

const (
	roundTime    = 3 * time.Second
	startTimeout = 4 * time.Second           // join to start, bot fill included
	resultWait   = roundTime + 2*time.Second // start to result, with room for a loaded machine
	quiet        = 300 * time.Millisecond    // how long to watch for a duplicate after a result
	botFillMin   = 900 * time.Millisecond    // the bot's start after join, lower bound
	botFillMax   = 1500 * time.Millisecond   // and upper bound
	// Start to result as one client sees it. The lower bound allows for the
	// start reaching this client late on a loaded machine; settleRound also
	// checks the strict bound (join sent + round time).
	deadlineMin = roundTime - 250*time.Millisecond
	deadlineMax = roundTime + 600*time.Millisecond
)

// eachPlayer runs f for every player at once and fails on the first error.
func eachPlayer(t *testing.T, ps []*player, f func(p *player) error) {
	t.Helper()
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(p)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// seat makes the players join (gap apart) and waits until all of them got
// the same start with exactly them in the room. It returns each one's start.
func seat(t *testing.T, ps []*player, gap time.Duration) []event {
	t.Helper()
	return seatWithBots(t, ps, gap, 0)
}

// seatWithBots is seat for a room that bots fill up: besides the players it
// holds exactly bots others.
func seatWithBots(t *testing.T, ps []*player, gap time.Duration, bots int) []event {
	t.Helper()
	var lastJoin time.Time // taken before the write: the server cannot have the join sooner
	for i, p := range ps {
		if i > 0 && gap > 0 {
			time.Sleep(gap)
		}
		lastJoin = time.Now()
		p.must(t, p.join())
	}
	starts := make([]event, len(ps))
	eachPlayer(t, ps, func(p *player) error {
		ev, err := p.awaitStart(startTimeout)
		starts[slices.Index(ps, p)] = ev
		return err
	})
	var want []string
	for _, p := range ps {
		want = append(want, p.uid())
	}
	sort.Strings(want)
	for i := range starts {
		starts[i].notBefore = lastJoin
	}
	for i, ev := range starts {
		st := ev.env.GetStart()
		got := slices.DeleteFunc(roomUIDs(st), func(uid string) bool { return !slices.Contains(want, uid) })
		if !slices.Equal(got, want) || len(st.GetRoomUsers()) != len(want)+bots {
			t.Fatalf("%s: start has room %v, want %v and %d bots (players who joined together must meet)", ps[i].label, roomUIDs(st), want, bots)
		}
		if st.GetRoundId() == "" || st.GetRoundId() != starts[0].env.GetStart().GetRoundId() {
			t.Fatalf("%s: start roundId %q, first player's %q", ps[i].label, st.GetRoundId(), starts[0].env.GetStart().GetRoundId())
		}
		if st.GetGameTime() != int32(roundTime/time.Second) {
			t.Fatalf("%s: gameTime %d, want %d", ps[i].label, st.GetGameTime(), roundTime/time.Second)
		}
		for _, u := range st.GetRoomUsers() {
			if u.GetChoice() != 0 {
				t.Fatalf("%s: start has %s with choice %d; every round starts with no choice", ps[i].label, u.GetUid(), u.GetChoice())
			}
			for _, p := range ps {
				if p.uid() == u.GetUid() && (u.GetUname() != p.user.GetUname() || u.GetUavatar() != p.user.GetUavatar()) {
					t.Fatalf("%s: start has %s as %q/%q, the player said hello as %q/%q", ps[i].label, u.GetUid(), u.GetUname(), u.GetUavatar(), p.user.GetUname(), p.user.GetUavatar())
				}
			}
		}
		if !proto.Equal(st, starts[0].env.GetStart()) {
			t.Fatalf("players got different starts:\n  %v\n  %v", st, starts[0].env.GetStart())
		}
	}
	return starts
}

// settleRound waits for every player's result of the round, checks that they
// all got the same one, at the deadline, following the rules from the
// standings at start, and that nobody got anything else for that round.
func settleRound(t *testing.T, ps []*player, starts []event) *messages.Result {
	t.Helper()
	roundID := starts[0].env.GetStart().GetRoundId()
	results := make([]event, len(ps))
	eachPlayer(t, ps, func(p *player) error {
		ev, err := p.awaitResult(resultWait, roundID)
		results[slices.Index(ps, p)] = ev
		return err
	})
	res := results[0].env.GetResult()
	firstStart := starts[0].at
	for _, ev := range starts {
		if ev.at.Before(firstStart) {
			firstStart = ev.at
		}
	}
	for i, ev := range results {
		if !proto.Equal(ev.env.GetResult(), res) {
			t.Fatalf("%s got a different result:\n  %v\n  %v", ps[i].label, ev.env.GetResult(), res)
		}
		// The round began after the last join went out, so its result can
		// not come sooner than round-time after we began to send it; nor much
		// later than round-time after the first start arrived.
		if early := ev.at.Sub(starts[i].notBefore); early < roundTime {
			t.Errorf("%s: result only %v after the last join was sent, round time is %v", ps[i].label, early, roundTime)
		}
		if late := ev.at.Sub(firstStart); late > deadlineMax {
			t.Errorf("%s: result %v after the first start, want the deadline (%v)", ps[i].label, late, roundTime)
		}
	}
	if _, err := checkResult(res, standingsAtStart(starts[0].env.GetStart())); err != nil {
		t.Fatal(err)
	}
	time.Sleep(quiet) // a second settlement would show up now
	for _, p := range ps {
		if evs := p.roundEvents(roundID); len(evs) != 2 {
			t.Fatalf("%s: for round %s got %d start/result/void events, want one start and one result: %v", p.label, roundID, len(evs), evs)
		}
	}
	return res
}

// movementsFrom returns the movement events about uid.
func movementsFrom(log []event, uid, kind string) []event {
	var out []event
	for _, e := range log {
		if m := e.env.GetMovement(); e.name == "movement" && m.GetUid() == uid && m.GetMovement() == kind {
			out = append(out, e)
		}
	}
	return out
}

// TestDemoClientFiveRoundsAgainstBot: the 2016 mini-program, alone on a
// server, plays five rounds in a row against bots. Every frame is one it can
// parse, every payload has the spec's fields with the right JSON types, the
// bot comes after bot-fill, and the scores follow the rules round by round.
func TestDemoClientFiveRoundsAgainstBot(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := demoPlayer(t, s, "Alice")
	demo := p.conn.(*eio3Client)

	hi := p.hi(t)
	if hi.GetMessage() != "welcome" || hi.GetNearby() != 1 || hi.GetTotalScore() != 0 || hi.GetWinStreak() != 0 {
		t.Fatalf("hi = %v, want message welcome, nearby 1 (alone on the server), totalScore 0, winStreak 0", hi)
	}
	// The Engine.IO 3 handshake: 0{…} then 40, before anything else.
	log := p.log()
	if len(log) < 3 || log[0].name != "eio:open" || log[1].name != "sio:connect" {
		t.Fatalf("the first frames are %q, want 0{…}, 40, then events", demo.rawFrames())
	}
	var open struct {
		Sid          *string   `json:"sid"`
		Upgrades     *[]string `json:"upgrades"`
		PingInterval *int      `json:"pingInterval"`
		PingTimeout  *int      `json:"pingTimeout"`
	}
	if err := json.Unmarshal(log[0].raw, &open); err != nil || open.Sid == nil || *open.Sid == "" || open.Upgrades == nil || len(*open.Upgrades) != 0 ||
		open.PingInterval == nil || *open.PingInterval != 25000 || open.PingTimeout == nil || *open.PingTimeout != 60000 {
		t.Fatalf("open packet %s, want {\"sid\":\"…\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":60000} (err %v)", log[0].raw, err)
	}

	me := standing{}
	seen := map[string]bool{}
	for round := 1; round <= 5; round++ {
		joined := time.Now()
		p.must(t, p.join())
		q, err := p.awaitName(eventTimeout, "queued")
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if q.env.GetQueued().GetWaiting() < 1 {
			t.Errorf("round %d: queued %s, want waiting >= 1", round, q.raw)
		}
		startEv, err := p.awaitStart(startTimeout)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if d := startEv.at.Sub(joined); d < botFillMin || d > botFillMax {
			t.Errorf("round %d: the bot's start came %v after join, want %v..%v", round, d, botFillMin, botFillMax)
		}
		st := startEv.env.GetStart()
		if st.GetGameTime() != 3 || len(st.GetRoomUsers()) != 2 || st.GetRoundId() == "" || seen[st.GetRoundId()] {
			t.Fatalf("round %d: start %s, want gameTime 3, two roomUsers and a new roundId", round, startEv.raw)
		}
		seen[st.GetRoundId()] = true
		var mine, bot *messages.RoomUser
		for _, u := range st.GetRoomUsers() {
			if u.GetUid() == p.uid() {
				mine = u
			} else {
				bot = u
			}
		}
		if mine == nil || bot == nil || bot.GetUid() == "" {
			t.Fatalf("round %d: start %s, want me (%s) and a bot", round, startEv.raw, p.uid())
		}
		if mine.GetUname() != p.user.GetUname() || mine.GetUavatar() != p.user.GetUavatar() || mine.GetChoice() != 0 ||
			mine.GetTotalScore() != me.total || mine.GetWinStreak() != me.streak {
			t.Fatalf("round %d: my roomUsers entry %v, want %s/%s, choice 0, totalScore %d, winStreak %d", round, mine, p.user.GetUname(), p.user.GetUavatar(), me.total, me.streak)
		}
		if bot.GetChoice() != 0 {
			t.Fatalf("round %d: the bot starts with choice %d, want 0", round, bot.GetChoice())
		}

		// Like the demo: send the current hand at once, then tap once more.
		first := int32(rand.IntN(3) + 1)
		final := first%3 + 1
		p.must(t, p.choose(first))
		time.Sleep(time.Until(startEv.at.Add(time.Second)))
		p.must(t, p.choose(final))

		resEv, err := p.awaitResult(resultWait, st.GetRoundId())
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if d := resEv.at.Sub(startEv.at); d < deadlineMin || d > deadlineMax {
			t.Errorf("round %d: result %v after start, want the deadline (%v)", round, d, roundTime)
		}
		res := resEv.env.GetResult()
		mr, br := resultEntry(res, p.uid()), resultEntry(res, bot.GetUid())
		if len(res.GetResult()) != 2 || mr == nil || br == nil {
			t.Fatalf("round %d: result %s, want entries for me and the bot %s", round, resEv.raw, bot.GetUid())
		}
		if mr.GetChoice() != final {
			t.Errorf("round %d: my choice in the result is %d, my last choice was %d", round, mr.GetChoice(), final)
		}
		if br.GetChoice() < 1 || br.GetChoice() > 3 {
			t.Errorf("round %d: the bot's choice is %d; it chooses %v after start", round, br.GetChoice(), 10*time.Millisecond)
		}
		next, err := checkResult(res, map[string]standing{p.uid(): me, bot.GetUid(): standingsAtStart(st)[bot.GetUid()]})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		me = next[p.uid()]

		between := func(e event) bool { return !e.at.Before(startEv.at) && !e.at.After(resEv.at) }
		var botMoves int
		for _, e := range movementsFrom(p.log(), bot.GetUid(), "choice") {
			if between(e) {
				botMoves++
			}
		}
		if botMoves == 0 {
			t.Errorf("round %d: no movement{uid:%s, movement:choice} from the bot", round, bot.GetUid())
		}
		if own := movementsFrom(p.log(), p.uid(), "choice"); len(own) > 0 {
			t.Errorf("round %d: got movements about myself: %v", round, own)
		}
		time.Sleep(quiet)
		if evs := p.roundEvents(st.GetRoundId()); len(evs) != 2 {
			t.Fatalf("round %d: got %v for the round, want one start and one result", round, evs)
		}
	}
	for _, err := range checkDemoShapes(p.log()) {
		t.Error(err)
	}
	if errs := p.errorsSeen(); len(errs) > 0 {
		t.Errorf("error events during plain play: %v", errs)
	}
	// Bots live only as long as their round and are no players online.
	newcomer := demoPlayer(t, s, "Newcomer")
	if hi := newcomer.hi(t); hi.GetNearby() != 2 {
		t.Errorf("after five bot rounds a newcomer's hi says nearby %d, want 2 (Alice and the newcomer)", hi.GetNearby())
	}
}

// TestTwoDemoPlayersMeet: two 2016 clients who join 50 ms apart play each
// other (no bot), see each other's moves and faces but not the choices, and
// get the same result three rounds in a row: win, tie, win for A scores 1, 0,
// 2 with totals 1, 1, 3.
func TestTwoDemoPlayersMeet(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := demoPlayer(t, s, "A")
	a.hi(t)
	b := demoPlayer(t, s, "B")
	if hi := b.hi(t); hi.GetNearby() != 2 {
		t.Errorf("B's hi says nearby %d, want 2 players online", hi.GetNearby())
	}
	ps := []*player{a, b}

	script := []struct {
		a, b                    int32
		aScore, aTotal, aStreak int32
	}{
		{1, 3, 1, 1, 1}, // scissors cut paper
		{1, 1, 0, 1, 1}, // tie: the streak stays
		{2, 1, 2, 3, 2}, // rock breaks scissors, second win in a row
	}
	for round, sc := range script {
		starts := seat(t, ps, 50*time.Millisecond)
		p := func(x *player, c int32) { x.must(t, x.choose(c)) }
		p(a, sc.a)
		p(b, sc.b)
		a.must(t, a.face(2))
		after := starts[0].at
		if _, err := b.awaitSeen(eventTimeout, "A's face", func(e event) bool {
			m := e.env.GetMovement()
			return e.name == "movement" && m.GetUid() == a.uid() && m.GetMovement() == "face" && m.GetFace() == 2 && e.at.After(after)
		}); err != nil {
			t.Fatalf("round %d: %v", round+1, err)
		}
		for _, w := range []struct{ to, from *player }{{a, b}, {b, a}} {
			if _, err := w.to.awaitSeen(eventTimeout, "movement choice from "+w.from.uid(), func(e event) bool {
				m := e.env.GetMovement()
				return e.name == "movement" && m.GetUid() == w.from.uid() && m.GetMovement() == "choice" && e.at.After(after)
			}); err != nil {
				t.Fatalf("round %d: %v", round+1, err)
			}
		}
		res := settleRound(t, ps, starts)
		ae, be := resultEntry(res, a.uid()), resultEntry(res, b.uid())
		if ae.GetChoice() != sc.a || be.GetChoice() != sc.b {
			t.Fatalf("round %d: choices in the result %d/%d, sent %d/%d", round+1, ae.GetChoice(), be.GetChoice(), sc.a, sc.b)
		}
		if ae.GetRoundScore() != sc.aScore || ae.GetTotalScore() != sc.aTotal || ae.GetWinStreak() != sc.aStreak {
			t.Fatalf("round %d: A's entry %v, want roundScore %d totalScore %d winStreak %d", round+1, ae, sc.aScore, sc.aTotal, sc.aStreak)
		}
	}
	for _, x := range ps {
		if own := movementsFrom(x.log(), x.uid(), "choice"); len(own) > 0 {
			t.Errorf("%s got movements about itself: %v", x.label, own)
		}
		if own := movementsFrom(x.log(), x.uid(), "face"); len(own) > 0 {
			t.Errorf("%s got its own face back: %v", x.label, own)
		}
		for _, err := range checkDemoShapes(x.log()) {
			t.Error(err)
		}
		if errs := x.errorsSeen(); len(errs) > 0 {
			t.Errorf("%s: error events during plain play: %v", x.label, errs)
		}
	}
}

// TestOursBinaryAndJSON: a binary /ws player and a JSON /ws player play two
// rounds together; each gets every answer in its own format.
func TestOursBinaryAndJSON(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	bin := oursPlayer(t, s, "Bin", false)
	js := oursPlayer(t, s, "Js", true)
	for _, x := range []*player{bin, js} {
		if hi := x.hi(t); hi.GetMessage() != "welcome" || hi.GetTotalScore() != 0 || hi.GetWinStreak() != 0 {
			t.Fatalf("%s: hi %v", x.label, hi)
		}
	}
	ps := []*player{bin, js}
	for round, sc := range []struct{ bin, js int32 }{{2, 3}, {3, 0}} { // paper covers rock; then Js never chooses
		starts := seat(t, ps, 20*time.Millisecond)
		bin.must(t, bin.choose(sc.bin))
		if sc.js != 0 {
			js.must(t, js.choose(sc.js))
		}
		res := settleRound(t, ps, starts)
		if e := resultEntry(res, js.uid()); e.GetChoice() != sc.js {
			t.Fatalf("round %d: Js's choice %d, want %d", round+1, e.GetChoice(), sc.js)
		}
	}
	// Round 1: Js won (1, streak 1); round 2: Bin won against no choice.
	got := fmt.Sprint(standingOf(t, bin), standingOf(t, js))
	if want := "{1 1} {1 0}"; got != want {
		t.Errorf("standings after two rounds (Bin, Js): %s, want %s", got, want)
	}
	for _, e := range bin.log() {
		if !e.binary {
			t.Errorf("the binary client got a text frame: %v", e)
		}
	}
	for _, e := range js.log() {
		if e.binary {
			t.Errorf("the JSON client got a binary frame: %v", e)
		}
	}
}

// standingOf reads a player's standing from its last result.
func standingOf(t *testing.T, p *player) standing {
	t.Helper()
	log := p.log()
	for i := len(log) - 1; i >= 0; i-- {
		if e := resultEntry(log[i].env.GetResult(), p.uid()); log[i].name == "result" && e != nil {
			return standing{total: e.GetTotalScore(), streak: e.GetWinStreak()}
		}
	}
	t.Fatalf("%s has no result", p.label)
	return standing{}
}

// TestOursFormatFollowsLastFrame: on /ws the server answers in the format of
// the client's last frame.
func TestOursFormatFollowsLastFrame(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := dialOurs(t, s, false, dialOpts{})
	u := newUser("Switch")
	c.setJSON(true)
	if err := c.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: u}}}); err != nil {
		t.Fatal(err)
	}
	hi, err := c.awaitName(eventTimeout, "hi")
	if err != nil {
		t.Fatal(err)
	}
	if hi.binary {
		t.Errorf("hi came binary after a JSON hello")
	}
	c.setJSON(false)
	if err := c.send(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}); err != nil {
		t.Fatal(err)
	}
	q, err := c.awaitName(eventTimeout, "queued")
	if err != nil {
		t.Fatal(err)
	}
	if !q.binary {
		t.Errorf("queued came as text after a binary join")
	}
	st, err := c.awaitName(startTimeout, "start")
	if err != nil {
		t.Fatal(err)
	}
	if !st.binary {
		t.Errorf("start came as text after a binary join")
	}
}

// TestDisconnectMidRound: a player whose connection dies mid-round is
// counted as not choosing: the other gets leave{uid} at once and the result
// at the deadline, and wins. The winner's score belongs to its uid: it
// reconnects on another protocol, sees its standing in hi, and wins a new
// round against a newcomer with streak 2.
func TestDisconnectMidRound(t *testing.T) {
	t.Parallel()
	// Resume off: B's session ends with its socket (resume_test.go has
	// the session that waits for its player).
	s := startServer(t, "-resume-window", "0s")
	a := demoPlayer(t, s, "A")
	b := oursPlayer(t, s, "B", true)
	a.hi(t)
	b.hi(t)
	starts := seat(t, []*player{a, b}, 30*time.Millisecond)
	roundID := starts[0].env.GetStart().GetRoundId()
	a.must(t, a.choose(2))
	b.must(t, b.choose(3)) // would win, but B will be gone
	if _, err := a.awaitSeen(eventTimeout, "B's movement", func(e event) bool { return e.name == "movement" && e.env.GetMovement().GetUid() == b.uid() }); err != nil {
		t.Fatal(err)
	}
	b.drop()
	if _, err := a.await(2*time.Second, "leave{uid:B}", func(e event) bool { return e.name == "leave" && e.env.GetLeave().GetUid() == b.uid() }); err != nil {
		t.Fatal(err)
	}
	resEv, err := a.awaitResult(resultWait, roundID)
	if err != nil {
		t.Fatal(err)
	}
	if d := resEv.at.Sub(starts[0].at); d < deadlineMin || d > deadlineMax {
		t.Errorf("result %v after start, want the deadline", d)
	}
	res := resEv.env.GetResult()
	if _, err := checkResult(res, standingsAtStart(starts[0].env.GetStart())); err != nil {
		t.Fatal(err)
	}
	ae, be := resultEntry(res, a.uid()), resultEntry(res, b.uid())
	if be.GetChoice() != 0 || ae.GetChoice() != 2 || ae.GetRoundScore() != 1 || ae.GetWinStreak() != 1 || ae.GetTotalScore() != 1 {
		t.Fatalf("result %v: want B (gone) with choice 0 and A winning with roundScore 1, winStreak 1, totalScore 1", res)
	}
	for _, err := range checkDemoShapes(a.log()) {
		t.Error(err)
	}
	time.Sleep(quiet)
	if evs := a.roundEvents(roundID); len(evs) != 2 {
		t.Fatalf("A got %v for the round, want one start and one result", evs)
	}

	// A comes back on /ws with the same uid: the standing is still there.
	a.close()
	a2 := oursPlayerAs(t, s, a.user, false)
	if hi := a2.hi(t); hi.GetTotalScore() != 1 || hi.GetWinStreak() != 1 {
		t.Fatalf("A reconnected: hi %v, want totalScore 1 and winStreak 1", hi)
	}
	c := demoPlayer(t, s, "C")
	c.hi(t)
	starts = seat(t, []*player{a2, c}, 30*time.Millisecond)
	a2.must(t, a2.choose(1))
	c.must(t, c.choose(3))
	res = settleRound(t, []*player{a2, c}, starts)
	if e := resultEntry(res, a.uid()); e.GetRoundScore() != 2 || e.GetWinStreak() != 2 || e.GetTotalScore() != 3 {
		t.Fatalf("A's second win: %v, want roundScore 2, winStreak 2, totalScore 3", e)
	}
	s.requireHealthy(t)
}

// TestLeaveMidRound: leave during a round counts as not choosing; the other
// gets leave{uid} and wins at the deadline; the leaver may join again.
func TestLeaveMidRound(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := oursPlayer(t, s, "A", false)
	b := demoPlayer(t, s, "B")
	a.hi(t)
	b.hi(t)
	starts := seat(t, []*player{a, b}, 30*time.Millisecond)
	roundID := starts[0].env.GetStart().GetRoundId()
	a.must(t, a.choose(3))
	b.must(t, b.choose(1)) // would win
	if _, err := a.awaitSeen(eventTimeout, "B's movement", func(e event) bool { return e.name == "movement" && e.env.GetMovement().GetUid() == b.uid() }); err != nil {
		t.Fatal(err)
	}
	b.must(t, b.leave())
	if _, err := a.await(2*time.Second, "leave{uid:B}", func(e event) bool { return e.name == "leave" && e.env.GetLeave().GetUid() == b.uid() }); err != nil {
		t.Fatal(err)
	}
	// Out of the room, B's moves are refused and reach nobody.
	b.must(t, b.choose(2))
	requireError(t, b.wire, messages.CodeNotPlaying)
	b.must(t, b.face(1))
	requireError(t, b.wire, messages.CodeNotPlaying)
	// The freed seat is not refilled mid-round: a newcomer plays elsewhere
	// (the demo sent a second start to A and settled twice).
	c := oursPlayer(t, s, "C", true)
	c.hi(t)
	c.must(t, c.join())
	cStart, err := c.awaitStart(startTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(roomUIDs(cStart.env.GetStart()), a.uid()) || cStart.env.GetStart().GetRoundId() == roundID {
		t.Fatalf("C, joining after B left, was seated in A's round: %v", cStart.env.GetStart())
	}
	resEv, err := a.awaitResult(resultWait, roundID)
	if err != nil {
		t.Fatal(err)
	}
	res := resEv.env.GetResult()
	if _, err := checkResult(res, standingsAtStart(starts[0].env.GetStart())); err != nil {
		t.Fatal(err)
	}
	if ae, be := resultEntry(res, a.uid()), resultEntry(res, b.uid()); be.GetChoice() != 0 || ae.GetRoundScore() != 1 {
		t.Fatalf("result %v: want B (left) with choice 0 and A winning 1", res)
	}
	time.Sleep(quiet)
	if n := len(movementsFrom(a.log(), b.uid(), "choice")) + len(movementsFrom(a.log(), b.uid(), "face")); n != 1 {
		t.Errorf("A saw %d movements from B, want 1 (its choice before it left)", n)
	}
	for _, e := range a.log() {
		if e.name == "start" && e.env.GetStart().GetRoundId() != roundID {
			t.Fatalf("A got a second start while in round %s: %v", roundID, e)
		}
	}
	if evs := a.roundEvents(roundID); len(evs) != 2 {
		t.Fatalf("A got %v for the round, want one start and one result", evs)
	}
	// Both are idle again and meet in a new round.
	starts = seat(t, []*player{a, b}, 30*time.Millisecond)
	a.must(t, a.choose(2))
	b.must(t, b.choose(2))
	settleRound(t, []*player{a, b}, starts)
	if errs := a.errorsSeen(); len(errs) > 0 {
		t.Errorf("A: error events: %v", errs)
	}
}

// TestLeaveQueue: leave while queued takes the player out of the queue (no
// bot seats it later); a new join seats it again.
func TestLeaveQueue(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := demoPlayer(t, s, "Shy")
	p.hi(t)
	p.must(t, p.join())
	if _, err := p.awaitName(eventTimeout, "queued"); err != nil {
		t.Fatal(err)
	}
	p.must(t, p.choose(1)) // queued is not playing
	requireError(t, p.wire, messages.CodeNotPlaying)
	p.must(t, p.leave())
	time.Sleep(botFillMax + time.Second) // the bot would have come by now
	for _, e := range p.log() {
		if e.name == "start" {
			t.Fatalf("seated after leaving the queue: %v", e)
		}
	}
	if errs := p.errorsSeen(); len(errs) != 1 {
		t.Errorf("error events: %v, want only the one not_playing", errs)
	}
	p.must(t, p.join())
	if _, err := p.awaitStart(startTimeout); err != nil {
		t.Fatal(err)
	}
}

// TestSameUIDReplacesOldConnection: a player who connects again with the same
// uid takes over; the old connection is closed with 4001 and a reason, and
// the standing carries over.
func TestSameUIDReplacesOldConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	old := demoPlayer(t, s, "Twice")
	old.hi(t)
	fresh := oursPlayerAs(t, s, old.user, false)
	if hi := fresh.hi(t); hi.GetTotalScore() != 0 || hi.GetWinStreak() != 0 {
		t.Errorf("hi %v", hi)
	}
	requireClose(t, old.wire, eventTimeout, messages.CloseReplaced)
	other := demoPlayer(t, s, "Other")
	if hi := other.hi(t); hi.GetNearby() != 2 {
		t.Errorf("with one player on a replaced connection and one more, hi says nearby %d, want 2", hi.GetNearby())
	}
	other.close()
	fresh.must(t, fresh.join())
	starts, err := fresh.awaitStart(startTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.awaitResult(resultWait, starts.env.GetStart().GetRoundId()); err != nil {
		t.Fatal(err)
	}
}

// TestDemoClientOddNickname: a WeChat nickname may hold anything. Whatever a
// player calls itself, every frame the opponent's 2016 client gets must still
// match its one-line pattern (JSON must escape U+2028 and U+2029, which
// JavaScript's "." does not match), and the name must come back unchanged.
func TestDemoClientOddNickname(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := demoPlayer(t, s, "A")
	a.hi(t)
	odd := newUser("B")
	odd.Uname = "B 小明 🙂\u2028\u2029\n\r\"q\"\\</script>"
	b := demoPlayerAs(t, s, odd)
	b.hi(t)
	starts := seat(t, []*player{a, b}, 20*time.Millisecond) // seat compares the names
	a.must(t, a.choose(3))
	b.must(t, b.choose(3))
	settleRound(t, []*player{a, b}, starts)
}

// TestDisconnectWhileQueued: a player who vanishes while waiting for a seat
// is nobody's opponent afterwards and no longer counts as online.
func TestDisconnectWhileQueued(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ghost := demoPlayer(t, s, "Ghost")
	ghost.hi(t)
	ghost.must(t, ghost.join())
	if _, err := ghost.awaitName(eventTimeout, "queued"); err != nil {
		t.Fatal(err)
	}
	ghost.drop()
	b := oursPlayer(t, s, "B", false)
	if hi := b.hi(t); hi.GetNearby() != 1 {
		t.Errorf("hi after the ghost left says nearby %d, want 1", hi.GetNearby())
	}
	b.must(t, b.join())
	st, err := b.awaitStart(startTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(roomUIDs(st.env.GetStart()), ghost.uid()) {
		t.Fatalf("B was seated with a player who had disconnected: %v", st.env.GetStart())
	}
	b.must(t, b.choose(2))
	res, err := b.awaitResult(resultWait, st.env.GetStart().GetRoundId())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkResult(res.env.GetResult(), standingsAtStart(st.env.GetStart())); err != nil {
		t.Fatal(err)
	}
}

// TestThreeSeatRoom: with -room-size 3 every pair is judged: rock against two
// scissors scores x = 2 (roundScore 2 with streak 1), each scissors x = -1.
func TestThreeSeatRoom(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-room-size", "3")
	ps := []*player{demoPlayer(t, s, "A"), oursPlayer(t, s, "B", false), oursPlayer(t, s, "C", true)}
	for _, p := range ps {
		p.hi(t)
	}
	starts := seat(t, ps, 20*time.Millisecond)
	for i, c := range []int32{2, 1, 1} {
		ps[i].must(t, ps[i].choose(c))
	}
	res := settleRound(t, ps, starts)
	want := []struct{ score, streak int32 }{{2, 1}, {0, 0}, {0, 0}}
	for i, p := range ps {
		e := resultEntry(res, p.uid())
		if e.GetRoundScore() != want[i].score || e.GetWinStreak() != want[i].streak || e.GetTotalScore() != want[i].score {
			t.Errorf("%s: %v, want roundScore %d winStreak %d", p.label, e, want[i].score, want[i].streak)
		}
	}
	// Two of them play on; the third seat goes to a bot after bot-fill.
	starts = seatWithBots(t, ps[:2], 20*time.Millisecond, 1)
	ps[0].must(t, ps[0].choose(2))
	settleRound(t, ps[:2], starts)
}

// TestDemoPathVariants: the Socket.IO endpoint answers any path under the
// prefix: the demo's double slash (every other test) and the plain one.
func TestDemoPathVariants(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, path := range []string{
		"/applet/websocket/socket.io/?EIO=3&transport=websocket",
		"/applet/websocket/socket.io///?EIO=3&transport=websocket",
	} {
		ws, resp, err := websocket.DefaultDialer.Dial(s.wsURL(path), nil)
		if err != nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Fatalf("%s: %v (status %d)", path, err, status)
		}
		_ = ws.SetReadDeadline(time.Now().Add(eventTimeout))
		_, open, err := ws.ReadMessage()
		if err != nil || len(open) == 0 || open[0] != '0' {
			t.Errorf("%s: first frame %q, %v; want the open packet", path, open, err)
		}
		ws.Close()
	}
}

// TestReplacedMidRound: a player who reconnects with the same uid during a
// round: the old socket closes with 4001, the round still settles once for
// the opponent, and both standings carry into the next round exactly as that
// result said.
func TestReplacedMidRound(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := demoPlayer(t, s, "A")
	b := oursPlayer(t, s, "B", false)
	a.hi(t)
	b.hi(t)
	starts := seat(t, []*player{a, b}, 20*time.Millisecond)
	roundID := starts[0].env.GetStart().GetRoundId()
	a.must(t, a.choose(2))
	b.must(t, b.choose(1))
	time.Sleep(time.Until(starts[0].at.Add(time.Second)))
	a2 := oursPlayerAs(t, s, a.user, true)
	a2.hi(t)
	requireClose(t, a.wire, eventTimeout, messages.CloseReplaced)
	resEv, err := b.awaitResult(resultWait, roundID)
	if err != nil {
		t.Fatal(err)
	}
	after, err := checkResult(resEv.env.GetResult(), standingsAtStart(starts[0].env.GetStart()))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(quiet)
	if evs := b.roundEvents(roundID); len(evs) != 2 {
		t.Fatalf("B got %v for the round, want one start and one result", evs)
	}
	for _, e := range a2.log() {
		if e.name == "result" && e.env.GetResult().GetRoundId() == roundID && !proto.Equal(e.env.GetResult(), resEv.env.GetResult()) {
			t.Fatalf("A's new connection got a different result for the round: %v", e)
		}
	}
	next := seat(t, []*player{a2, b}, 20*time.Millisecond)
	if got := standingsAtStart(next[0].env.GetStart()); got[a.uid()] != after[a.uid()] || got[b.uid()] != after[b.uid()] {
		t.Fatalf("the next start has standings %v, the result said %v", got, after)
	}
	settleRound(t, []*player{a2, b}, next)
}

// TestThreeJoinersTwoSeats: A and B, who join first, meet; C, a moment later,
// opens a new room that a bot fills after bot-fill.
func TestThreeJoinersTwoSeats(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a, b, c := demoPlayer(t, s, "A"), oursPlayer(t, s, "B", false), demoPlayer(t, s, "C")
	for _, p := range []*player{a, b, c} {
		p.hi(t)
	}
	a.must(t, a.join())
	time.Sleep(30 * time.Millisecond)
	b.must(t, b.join())
	time.Sleep(30 * time.Millisecond)
	cJoined := time.Now()
	c.must(t, c.join())
	ab, err := a.awaitStart(startTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := roomUIDs(ab.env.GetStart()), []string{a.uid(), b.uid()}; !slices.Equal(got, sortedCopy(want)) {
		t.Fatalf("A's room %v, want A and B", got)
	}
	cs, err := c.awaitStart(startTimeout)
	if err != nil {
		t.Fatal(err)
	}
	st := cs.env.GetStart()
	if len(st.GetRoomUsers()) != 2 || roomUser(st, c.uid()) == nil || roomUser(st, a.uid()) != nil || roomUser(st, b.uid()) != nil {
		t.Fatalf("C's room %v, want C and a bot", roomUIDs(st))
	}
	if d := cs.at.Sub(cJoined); d < botFillMin || d > botFillMax {
		t.Errorf("C's bot came %v after C joined, want %v..%v", d, botFillMin, botFillMax)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}
