package e2e

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

// TestChoiceAtDeadlineSettlesOnce: two players spam choices every 3 ms from
// 150 ms before to 150 ms after the deadline, five rounds in a row; each gets
// exactly one start and one result per round (no second settlement, no void),
// and the only complaints are not_playing for choices that came too late.
func TestChoiceAtDeadlineSettlesOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-rate-limit", "5000", "-rate-burst", "5000", "-outbound-queue", "1024")
	a := demoPlayer(t, s, "A")
	b := oursPlayer(t, s, "B", false)
	a.hi(t)
	b.hi(t)
	ps := []*player{a, b}
	standings := map[string]standing{a.uid(): {}, b.uid(): {}}
	late := 0
	for round := 1; round <= 5; round++ {
		starts := seat(t, ps, 5*time.Millisecond)
		for uid, want := range standingsAtStart(starts[0].env.GetStart()) {
			if standings[uid] != want {
				t.Fatalf("round %d: start says %s stands at %+v, the last result said %+v", round, uid, want, standings[uid])
			}
		}
		// The server's deadline is round-time after it sent start, a little
		// before the first start arrived here.
		at := starts[0].at
		if starts[1].at.Before(at) {
			at = starts[1].at
		}
		sent := make([]int, len(ps))
		eachPlayer(t, ps, func(p *player) error {
			i := slices.Index(ps, p)
			time.Sleep(time.Until(at.Add(roundTime - 150*time.Millisecond)))
			for c := i; time.Now().Before(at.Add(roundTime + 150*time.Millisecond)); c++ {
				if err := p.choose(int32(c%3 + 1)); err != nil {
					return err
				}
				sent[i]++
				time.Sleep(3 * time.Millisecond)
			}
			return nil
		})
		res := settleRound(t, ps, starts)
		roundID := starts[0].env.GetStart().GetRoundId()
		for i, p := range ps {
			// Every choice the room took was relayed to the opponent as a
			// movement, in order; the last of them is the one that counts.
			other := ps[1-i]
			var from, to time.Time
			for _, e := range other.roundEvents(roundID) {
				if e.name == "start" {
					from = e.at
				} else {
					to = e.at
				}
			}
			taken := 0
			for _, e := range movementsFrom(other.log(), p.uid(), "choice") {
				if e.at.After(from) && !e.at.After(to) {
					taken++
				}
			}
			want := int32(0)
			if taken > 0 {
				want = int32((i+taken-1)%3 + 1)
			}
			got := resultEntry(res, p.uid()).GetChoice()
			if got != want {
				t.Errorf("round %d: %s sent %d choices, the opponent saw %d of them; the result says %d, the last seen was %d", round, p.label, sent[i], taken, got, want)
			}
			if taken == 0 || taken == sent[i] {
				t.Logf("round %d: %s: %d of %d choices taken (the spam did not straddle the deadline)", round, p.label, taken, sent[i])
			}
			late += sent[i] - taken
		}
		for _, e := range res.GetResult() {
			standings[e.GetUid()] = standing{total: e.GetTotalScore(), streak: e.GetWinStreak()}
		}
	}
	if late == 0 {
		t.Errorf("no choice came after a deadline: the test did not test the race")
	}
	for _, p := range ps {
		for _, code := range p.errorsSeen() {
			if code != messages.CodeNotPlaying {
				t.Errorf("%s: error %s; only not_playing (a choice after the deadline) is expected", p.label, code)
			}
		}
	}
}

// TestSigtermDrains: SIGTERM during a round lets the round finish with its
// result, refuses new joins with draining, starts no new round (not even for
// a player queued before the signal), then closes every socket (both
// protocols; playing, idle or queued) with 1001 and a reason, and exits 0.
func TestSigtermDrains(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	a := demoPlayer(t, s, "A")
	b := oursPlayer(t, s, "B", true)
	idleDemo := demoPlayer(t, s, "C")
	idleOurs := oursPlayer(t, s, "D", false)
	waiting := demoPlayer(t, s, "E")
	all := []*player{a, b, idleDemo, idleOurs, waiting}
	for _, p := range all {
		p.hi(t)
	}
	starts := seat(t, []*player{a, b}, 20*time.Millisecond)
	roundID := starts[0].env.GetStart().GetRoundId()
	a.must(t, a.choose(1))
	b.must(t, b.choose(2))
	// E waits for a seat; its bot would come after bot-fill, during the drain.
	time.Sleep(time.Until(starts[0].at.Add(500 * time.Millisecond)))
	waiting.must(t, waiting.join())
	if _, err := waiting.awaitName(eventTimeout, "queued"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(starts[0].at.Add(time.Second)))
	s.signal(syscall.SIGTERM)
	signalled := time.Now()

	// The signal is handled asynchronously; give it a moment before asking.
	time.Sleep(200 * time.Millisecond)
	for _, p := range []*player{idleDemo, idleOurs} {
		p.must(t, p.join())
		requireError(t, p.wire, messages.CodeDraining)
	}

	results := make([]event, 2)
	eachPlayer(t, []*player{a, b}, func(p *player) error {
		ev, err := p.awaitResult(resultWait, roundID)
		results[slices.Index([]*player{a, b}, p)] = ev
		return err
	})
	res := results[0].env.GetResult()
	if _, err := checkResult(res, standingsAtStart(starts[0].env.GetStart())); err != nil {
		t.Fatal(err)
	}
	if e := resultEntry(res, b.uid()); e.GetChoice() != 2 || e.GetRoundScore() != 1 {
		t.Fatalf("result %v: want B's rock beating A's scissors", res)
	}
	for i, p := range []*player{a, b} {
		if d := results[i].at.Sub(starts[i].at); d < deadlineMin || d > deadlineMax {
			t.Errorf("%s: result %v after start, want the deadline", p.label, d)
		}
	}
	for _, p := range all {
		ci := requireClose(t, p.wire, 10*time.Second, messages.CloseGoingAway)
		if i := slices.Index([]*player{a, b}, p); i >= 0 && ci.at.Before(results[i].at) {
			t.Errorf("%s was closed before its round's result", p.label)
		}
	}
	for _, e := range waiting.log() {
		if e.name == "start" {
			t.Errorf("a new round started after SIGTERM: %v", e)
		}
	}
	code, err := s.waitExit(10 * time.Second)
	if err != nil || code != 0 {
		t.Fatalf("after SIGTERM: exit code %d, %v; want 0", code, err)
	}
	t.Logf("exited %v after SIGTERM", time.Since(signalled).Round(time.Millisecond))
}

// TestDrainTimeoutVoidsRound: with -drain-timeout 1s a round that cannot
// finish in time ends in void{roundId, reason} (never a result; on the
// 2016 client's wire, which knows no void, a result in which nobody chose
// and nothing changed), the sockets
// close with 1001, and the process exits 0 before the round would have ended.
func TestDrainTimeoutVoidsRound(t *testing.T) {
	t.Parallel()
	s := startServer(t, "-drain-timeout", "1s")
	a := demoPlayer(t, s, "A")
	b := oursPlayer(t, s, "B", false)
	a.hi(t)
	b.hi(t)
	ps := []*player{a, b}
	starts := seat(t, ps, 20*time.Millisecond)
	roundID := starts[0].env.GetStart().GetRoundId()
	a.must(t, a.choose(1))
	b.must(t, b.choose(2))
	time.Sleep(time.Until(starts[0].at.Add(300 * time.Millisecond)))
	s.signal(syscall.SIGTERM)
	signalled := time.Now()
	for _, p := range ps {
		requireClose(t, p.wire, 5*time.Second, messages.CloseGoingAway)
	}
	code, err := s.waitExit(5 * time.Second)
	if err != nil || code != 0 {
		t.Fatalf("after SIGTERM: exit code %d, %v; want 0", code, err)
	}
	if d := time.Since(signalled); d > 2500*time.Millisecond {
		t.Errorf("exited %v after SIGTERM with -drain-timeout 1s", d)
	}
	for _, p := range ps {
		evs := p.roundEvents(roundID)
		if p == a {
			if len(evs) != 2 || evs[1].name != "result" || !voidedResult(evs[1].env.GetResult(), starts[0].env.GetStart()) {
				t.Errorf("%s got %v for the round cut by the drain timeout, want start then a result in which nothing changed", p.label, evs)
			}
			continue
		}
		if len(evs) != 2 || evs[1].name != "void" || evs[1].env.GetVoid().GetReason() == "" {
			t.Errorf("%s got %v for the round cut by the drain timeout, want start then void{roundId, reason}", p.label, evs)
		}
	}
}

// voidedResult says whether res is a voided round as the 2016 client gets
// it: every seat of start without a choice or a score, at its standing.
func voidedResult(res *messages.Result, start *messages.Start) bool {
	if len(res.GetResult()) != len(start.GetRoomUsers()) {
		return false
	}
	for i, r := range res.GetResult() {
		u := start.GetRoomUsers()[i]
		if r.Uid != u.Uid || r.Choice != 0 || r.RoundScore != 0 || r.TotalScore != u.TotalScore || r.WinStreak != u.WinStreak {
			return false
		}
	}
	return true
}
