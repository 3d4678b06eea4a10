package actors

import (
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// farRoom stands in for a room on another member: the session's watches
// of it arrive here, and the test decides what each one draws.
type farRoom struct {
	system *actor.ActorSystem
	pid    *actor.PID

	mu      sync.Mutex
	watches []*actor.PID // watchers, one per Watch received
	answer  *actor.Terminated
}

func newFarRoom(t *testing.T, system *actor.ActorSystem) *farRoom {
	r := &farRoom{system: system, pid: actor.NewPID("far-member:7000", "rooms/r1")}
	system.ProcessRegistry.RegisterAddressResolver(func(pid *actor.PID) (actor.Process, bool) {
		return r, pid.Address == r.pid.Address
	})
	return r
}

func (r *farRoom) SendUserMessage(*actor.PID, any) {}
func (r *farRoom) Stop(*actor.PID)                 {}
func (r *farRoom) SendSystemMessage(_ *actor.PID, msg any) {
	w, ok := msg.(*actor.Watch)
	if !ok {
		return
	}
	r.mu.Lock()
	r.watches = append(r.watches, w.Watcher)
	answer := r.answer
	r.mu.Unlock()
	if answer != nil {
		r.terminate(w.Watcher, answer.Why)
	}
}

// terminate tells watcher the room terminated, for reason why.
func (r *farRoom) terminate(watcher *actor.PID, why actor.TerminatedReason) {
	p, _ := r.system.ProcessRegistry.Get(watcher)
	p.SendSystemMessage(watcher, &actor.Terminated{Who: r.pid, Why: why})
}

// answerWith makes every later watch draw a Terminated for why.
func (r *farRoom) answerWith(why actor.TerminatedReason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = &actor.Terminated{Why: why}
}

func (r *farRoom) watchCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.watches)
}

// seatFar puts ann's session in round r1 of a room on another member.
func seatFar(t *testing.T) (*client, *farRoom, *fakeClock, *actor.ActorSystem) {
	t.Helper()
	clock := newFakeClock()
	s := testSettings()
	s.Clock = clock
	srv, system := newTestServer(t, s)
	room := newFarRoom(t, system)
	c := connect(t, srv, "ann")
	c.join()
	eventually(t, "ann is queued", func() bool { return clock.pending() > 0 })
	start := &messages.Start{RoundId: "r1", GameTime: 3, RoomUsers: []*messages.RoomUser{{Uid: "ann"}, {Uid: "bob"}}}
	system.Root.RequestWithCustomSender(c.s.(sessionHandle).pid, start, room.pid)
	c.expect("start")
	eventually(t, "the session watches its room", func() bool { return room.watchCount() == 1 })
	return c, room, clock, system
}

// TestSessionProbesRoomAfterConnectionDrop: a dropped connection to the
// room's member (AddressTerminated) does not end the round; the session
// watches the room again, and when that watch holds, the round goes on
// and its result reaches the client.
func TestSessionProbesRoomAfterConnectionDrop(t *testing.T) {
	c, room, clock, system := seatFar(t)
	room.terminate(c.s.(sessionHandle).pid, actor.TerminatedReason_AddressTerminated)
	c.quiet(100 * time.Millisecond)
	clock.Advance(probeEvery)
	eventually(t, "the session watches the room again", func() bool { return room.watchCount() == 2 })
	clock.Advance(probeEvery) // the new watch drew nothing: the room is there
	c.quiet(100 * time.Millisecond)
	res := &messages.Result{RoundId: "r1", Result: []*messages.PlayerResult{{Uid: "ann", Choice: 1}, {Uid: "bob", Choice: 2, RoundScore: 1, TotalScore: 1, WinStreak: 1}}}
	system.Root.RequestWithCustomSender(c.s.(sessionHandle).pid, res, room.pid)
	if got := c.expect("result"); got.GetResult().GetRoundId() != "r1" {
		t.Fatalf("result of %q", got.GetResult().GetRoundId())
	}
}

// TestSessionVoidsRoomThatStaysUnreachable: when every new watch fails
// the connection again, the round is voided after probeTries watches.
func TestSessionVoidsRoomThatStaysUnreachable(t *testing.T) {
	c, room, clock, _ := seatFar(t)
	room.answerWith(actor.TerminatedReason_AddressTerminated)
	room.terminate(c.s.(sessionHandle).pid, actor.TerminatedReason_AddressTerminated)
	for i := 1; i <= probeTries; i++ {
		c.quiet(50 * time.Millisecond)
		clock.Advance(probeEvery)
		eventually(t, "another watch", func() bool { return room.watchCount() == 1+i })
	}
	if v := c.expect("void"); v.GetVoid().GetRoundId() != "r1" {
		t.Fatalf("void of %q", v.GetVoid().GetRoundId())
	}
}

// TestSessionVoidsRoomThatIsGone: a room that stopped, or that its member
// no longer has, ends the round at once, with or without a probe.
func TestSessionVoidsRoomThatIsGone(t *testing.T) {
	for _, why := range []actor.TerminatedReason{actor.TerminatedReason_Stopped, actor.TerminatedReason_NotFound} {
		t.Run(why.String(), func(t *testing.T) {
			c, room, _, _ := seatFar(t)
			room.terminate(c.s.(sessionHandle).pid, why)
			c.expect("void")
		})
	}
	t.Run("NotFound after a dropped connection", func(t *testing.T) {
		c, room, clock, _ := seatFar(t)
		room.answerWith(actor.TerminatedReason_NotFound)
		room.terminate(c.s.(sessionHandle).pid, actor.TerminatedReason_AddressTerminated)
		c.quiet(50 * time.Millisecond)
		clock.Advance(probeEvery)
		c.expect("void")
	})
}
