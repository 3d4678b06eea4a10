package actors

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/caiquan/caiquan/messages"
)

// fakeClock is a Clock that moves only when the test advances it. Timers
// due by then run in the order they are due, inside Advance.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c  *fakeClock
	at time.Time
	f  func()
	on bool
	// listed: in c.timers. A stopped timer stays listed until Advance,
	// and a Reset before then must not list it twice.
	listed bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f, on: true, listed: true}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.on
	t.on = false
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.on
	if !t.listed {
		t.c.timers, t.listed = append(t.c.timers, t), true
	}
	t.at, t.on = t.c.now.Add(d), true
	return was
}

// pending is how many timers are set and not yet due.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if t.on {
			n++
		}
	}
	return n
}

// Advance moves the clock by d and runs the timers that came due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due, rest []*fakeTimer
	for _, t := range c.timers {
		switch {
		case !t.on:
			t.listed = false
		case !t.at.After(c.now):
			t.on, t.listed = false, false
			due = append(due, t)
		default:
			rest = append(rest, t)
		}
	}
	c.timers = rest
	c.mu.Unlock()
	sort.SliceStable(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

// A round settles when the clock reaches its deadline, not a moment before.
func TestRoundSettlesAtItsDeadline(t *testing.T) {
	clock := newFakeClock()
	s := testSettings()
	s.Clock = clock
	s.RoundTime = 3 * time.Second
	srv, system := newTestServer(t, s)
	makePlayers(t, srv, system, "a", "b")
	spec := &messages.RoomSpec{RoundId: "timed"}
	var spies [2]chan any
	for i, uid := range []string{"a", "b"} {
		pid, ch := spawnSpy(system)
		spies[i] = ch
		spec.Seats = append(spec.Seats, &messages.SeatInfo{Uid: uid, Session: pid})
	}
	if _, err := spawnRoom(system.Root, srv.d, spec); err != nil {
		t.Fatal(err)
	}
	for _, ch := range spies {
		recvType[*messages.Start](t, ch, recvTimeout)
	}
	eventually(t, "the round's deadline is set", func() bool { return clock.pending() == 1 })
	clock.Advance(s.RoundTime - time.Millisecond)
	if clock.pending() != 1 {
		t.Fatal("the deadline ran early")
	}
	clock.Advance(time.Millisecond)
	if clock.pending() != 0 {
		t.Fatal("the deadline did not run at the round time")
	}
	for _, ch := range spies {
		res := recvType[*messages.Result](t, ch, recvTimeout)
		if res.RoundId != "timed" {
			t.Fatalf("result of %q", res.RoundId)
		}
	}
}
