package actors

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// startRoom spawns a room for two spy sessions, with no timers that matter:
// the test sends the deadline itself.
func startRoom(t *testing.T, round string) (*actor.ActorSystem, *Server, *actor.PID, [2]chan any, [2]*actor.PID) {
	t.Helper()
	s := testSettings()
	s.RoundTime = time.Hour
	srv, system := newTestServer(t, s)
	var spies [2]chan any
	var pids [2]*actor.PID
	makePlayers(t, srv, system, "a", "b")
	spec := &messages.RoomSpec{RoundId: round}
	for i, uid := range []string{"a", "b"} {
		pids[i], spies[i] = spawnSpy(system)
		spec.Seats = append(spec.Seats, &messages.SeatInfo{Uid: uid, Session: pids[i]})
	}
	room, err := spawnRoom(system.Root, srv.d, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range spies {
		if _, ok := recv(t, ch, recvTimeout).(*messages.Start); !ok {
			t.Fatal("first message to a seat is not start")
		}
	}
	return system, srv, room, spies, pids
}

// A choice racing the deadline never makes the round settle twice.
func TestDeadlineRaceSettlesOnce(t *testing.T) {
	for i := 0; i < 20; i++ {
		system, _, room, spies, pids := startRoom(t, "race")
		var wg sync.WaitGroup
		wg.Add(3)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				system.Root.RequestWithCustomSender(room, &messages.SubmitChoice{RoundId: "race", Uid: "a", Choice: 1 + int32(j%3)}, pids[0])
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				system.Root.Send(room, &messages.RoundDeadline{RoundId: "race"})
			}
		}()
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				system.Root.RequestWithCustomSender(room, &messages.SubmitChoice{RoundId: "race", Uid: "b", Choice: 1 + int32(j%3)}, pids[1])
			}
		}()
		wg.Wait()
		for _, ch := range spies {
			if n := countEnds(ch, 300*time.Millisecond); n != 1 {
				t.Fatalf("iteration %d: %d results or voids, want 1", i, n)
			}
		}
	}
}

func countEnds(ch chan any, d time.Duration) int {
	n := 0
	timeout := time.After(d)
	for {
		select {
		case m := <-ch:
			switch m.(type) {
			case *messages.Result, *messages.Void:
				n++
			}
		case <-timeout:
			return n
		}
	}
}

// A room that dies mid-round tells every seat the round is void, once.
func TestRoomKilledMidRoundVoids(t *testing.T) {
	kills := map[string]func(*actor.ActorSystem, *actor.PID){
		"stop":   func(s *actor.ActorSystem, p *actor.PID) { s.Root.Stop(p) },
		"poison": func(s *actor.ActorSystem, p *actor.PID) { s.Root.Poison(p) },
	}
	for name, kill := range kills {
		t.Run(name, func(t *testing.T) {
			system, _, room, spies, _ := startRoom(t, "doomed")
			kill(system, room)
			for _, ch := range spies {
				timeout := time.After(2 * time.Second)
				var void *messages.Void
				for void == nil {
					select {
					case m := <-ch:
						if _, ok := m.(*messages.Result); ok {
							t.Fatal("a killed room sent a result")
						}
						void, _ = m.(*messages.Void)
					case <-timeout:
						t.Fatal("no void notice")
					}
				}
				if void.RoundId != "doomed" {
					t.Fatalf("void for %q", void.RoundId)
				}
				if n := countEnds(ch, 100*time.Millisecond); n != 0 {
					t.Fatalf("%d more results or voids", n)
				}
			}
		})
	}
}

// Messages that claim another player's seat change nothing.
func TestRoomIgnoresChoicesFromOtherSenders(t *testing.T) {
	system, _, room, spies, _ := startRoom(t, "r1")
	stranger, _ := spawnSpy(system)
	system.Root.RequestWithCustomSender(room, &messages.SubmitChoice{RoundId: "r1", Uid: "a", Choice: 2}, stranger)
	system.Root.Send(room, &messages.RoundDeadline{RoundId: "r1"})
	res := recvType[*messages.Result](t, spies[0], recvTimeout)
	if r := resultOf(&messages.Envelope{Body: &messages.Envelope_Result{Result: res}}, "a"); r.Choice != 0 {
		t.Fatalf("a stranger chose for a: %v", r)
	}
}

// A seat its session declines (it was seated twice) is judged as not
// choosing, so the other wins, but its player's record is not touched.
func TestDeclinedSeatIsNotScored(t *testing.T) {
	system, srv, room, spies, pids := startRoom(t, "twice")
	system.Root.RequestWithCustomSender(room, &messages.SeatTaken{RoundId: "twice", Uid: "a"}, pids[0])
	// b won the round it is really playing: streak 1. A loss here would end it.
	if _, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{Uid: "b", RoundId: "other", BaseScore: 1}, time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	system.Root.RequestWithCustomSender(room, &messages.LeaveRoom{RoundId: "twice", Uid: "b", Declined: true}, pids[1])
	system.Root.RequestWithCustomSender(room, &messages.SubmitChoice{RoundId: "twice", Uid: "a", Choice: 2}, pids[0])
	system.Root.Send(room, &messages.RoundDeadline{RoundId: "twice"})
	res := recvType[*messages.Result](t, spies[0], recvTimeout)
	env := &messages.Envelope{Body: &messages.Envelope_Result{Result: res}}
	if a, b := resultOf(env, "a"), resultOf(env, "b"); a == nil || b == nil || a.RoundScore != 1 || b.Choice != 0 || b.RoundScore != 0 {
		t.Fatalf("result with a declined seat: %v", res)
	}
	got, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{Uid: "b", RoundId: "probe", BaseScore: 0}, time.Second).Result()
	if err != nil || got.(*messages.RoundApplied).TotalScore != 1 || got.(*messages.RoundApplied).WinStreak != 1 {
		t.Fatalf("b was scored: %v %v", got, err)
	}
}

// A session that dies before it told its client the round started costs its
// player nothing: the seat is judged as not choosing, but unscored. (One that
// took its seat and then died loses: TestDisconnectMidRoundCountsAsNotChoosing.)
func TestSessionDeadBeforeItTookTheSeat(t *testing.T) {
	system, srv, room, spies, pids := startRoom(t, "early")
	system.Root.RequestWithCustomSender(room, &messages.SeatTaken{RoundId: "early", Uid: "a"}, pids[0])
	if _, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{Uid: "b", RoundId: "before", BaseScore: 1}, time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	system.Root.Stop(pids[1]) // b's session, which never took its seat
	eventually(t, "the room saw b's session go", func() bool {
		return len(srv.List(KindRoom)) == 1 && len(spies[0]) > 0
	})
	if l, ok := recv(t, spies[0], recvTimeout).(*messages.Leave); !ok || l.Uid != "b" {
		t.Fatalf("a was not told b left: %v", l)
	}
	system.Root.RequestWithCustomSender(room, &messages.SubmitChoice{RoundId: "early", Uid: "a", Choice: 1}, pids[0])
	system.Root.Send(room, &messages.RoundDeadline{RoundId: "early"})
	res := recvType[*messages.Result](t, spies[0], recvTimeout)
	env := &messages.Envelope{Body: &messages.Envelope_Result{Result: res}}
	if a, b := resultOf(env, "a"), resultOf(env, "b"); a == nil || b == nil || a.RoundScore != 1 || b.RoundScore != 0 {
		t.Fatalf("result: %v", res)
	}
	got, err := system.Root.RequestFuture(srv.d.players, &messages.ApplyRound{Uid: "b", RoundId: "probe", BaseScore: 0}, time.Second).Result()
	if err != nil || got.(*messages.RoundApplied).WinStreak != 1 {
		t.Fatalf("b lost a round it never saw: %v %v", got, err)
	}
}

// A second room for a round that has one is refused, and the first one
// stays listed and plays on.
func TestSecondRoomOfARoundIsRefused(t *testing.T) {
	system, srv, _, _, _ := startRoom(t, "once")
	spec := &messages.RoomSpec{RoundId: "once"}
	if pid, err := spawnRoom(system.Root, srv.d, spec); !errors.Is(err, actor.ErrNameExists) {
		t.Fatalf("second room of the round: %v, %v; want ErrNameExists", pid, err)
	}
	rooms := srv.List(KindRoom)
	if len(rooms) != 1 || rooms[0].ID != "once" {
		t.Fatalf("rooms listed: %+v; want the first room alone", rooms)
	}
}
