package actors

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/store/memory"
)

// fakeConn records what a session sends to its client.
type fakeConn struct {
	out       chan *messages.Envelope
	resumable bool           // as /ws is
	connects  chan sioAnswer // the answers to Socket.IO CONNECTs (socketio_test.go)
	left      bool           // the client said goodbye: not Lost
	mu        sync.Mutex
	closed    bool
	code      int
	reason    string
}

func newFakeConn() *fakeConn {
	return &fakeConn{out: make(chan *messages.Envelope, 256), connects: make(chan sioAnswer, 8)}
}

func (c *fakeConn) Send(env *messages.Envelope) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.out <- env
	return true
}

func (c *fakeConn) Close(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed, c.code, c.reason = true, code, reason
	}
}

func (c *fakeConn) Resumable() bool { return c.resumable }

func (c *fakeConn) closeCode() (bool, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed, c.code
}

// client is a fake connection with its session actor.
type client struct {
	t    *testing.T
	conn *fakeConn
	s    Session
	uid  string
}

func testSettings() Settings {
	return Settings{
		RoomSize: 2, RoundTime: 300 * time.Millisecond, BotFill: 100 * time.Millisecond,
		BotFirstChoice: 10 * time.Millisecond, BotRechooseMin: 20 * time.Millisecond, BotRechooseMax: 50 * time.Millisecond,
		SettleRetry: 100 * time.Millisecond, SettleAttempts: 3, AttachTimeout: time.Second,
		Clock: RealClock(), Seed: 42,
	}
}

func newTestServer(t *testing.T, s Settings) (*Server, *actor.ActorSystem) {
	t.Helper()
	system := actor.NewActorSystemWithConfig(actor.Configure(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	})))
	srv, err := NewServer(system, s, memory.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(system.Shutdown)
	return srv, system
}

func connect(t *testing.T, srv *Server, uid string) *client {
	t.Helper()
	c := &client{t: t, conn: newFakeConn(), uid: uid}
	c.s = srv.OpenSession(c.conn)
	c.s.Deliver(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: uid, Uname: uid}}}})
	c.expect("hi")
	return c
}

// hiAgain opens a new connection for uid, says hello with no name, and
// returns its hi: what the player actor holds for uid now.
func hiAgain(t *testing.T, srv *Server, uid string) *messages.Hi {
	t.Helper()
	c := &client{t: t, conn: newFakeConn(), uid: uid}
	c.s = srv.OpenSession(c.conn)
	c.send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: &messages.User{Uid: uid}}}})
	return c.expect("hi").GetHi()
}

func (c *client) join() {
	c.s.Deliver(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}})
}
func (c *client) choose(h int32) {
	c.s.Deliver(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: h}}})
}
func (c *client) send(env *messages.Envelope) { c.s.Deliver(env) }

// expect waits for the next message of the given body kind, failing on
// anything else that is not a movement.
func (c *client) expect(kind string) *messages.Envelope {
	c.t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case env := <-c.conn.out:
			k := kindOf(env)
			if k == kind {
				return env
			}
			if k == "movement" || k == "queued" {
				continue
			}
			c.t.Fatalf("%s: got %s %v while waiting for %s", c.uid, k, env, kind)
		case <-deadline:
			c.t.Fatalf("%s: no %s within 3s", c.uid, kind)
		}
	}
}

// quiet fails if anything but a movement or a queue acknowledgement arrives within d.
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case env := <-c.conn.out:
			if k := kindOf(env); k != "movement" && k != "queued" {
				c.t.Fatalf("%s: unexpected %s %v", c.uid, k, env)
			}
		case <-timeout:
			return
		}
	}
}

func kindOf(env *messages.Envelope) string {
	switch env.Body.(type) {
	case *messages.Envelope_Hi:
		return "hi"
	case *messages.Envelope_Queued:
		return "queued"
	case *messages.Envelope_Start:
		return "start"
	case *messages.Envelope_Movement:
		return "movement"
	case *messages.Envelope_Result:
		return "result"
	case *messages.Envelope_Void:
		return "void"
	case *messages.Envelope_Error:
		return "error:" + env.GetError().Code
	case *messages.Envelope_Leave:
		return "leave"
	}
	return "other"
}

func resultOf(env *messages.Envelope, uid string) *messages.PlayerResult {
	for _, r := range env.GetResult().Result {
		if r.Uid == uid {
			return r
		}
	}
	return nil
}

// spy is an actor that hands every message it gets to a channel, standing
// in for a session when a test drives a room directly.
func spawnSpy(system *actor.ActorSystem) (*actor.PID, chan any) {
	ch := make(chan any, 1024)
	pid := system.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch ctx.Message().(type) {
		case *actor.Started, *actor.Stopping, *actor.Stopped:
			return
		}
		ch <- ctx.Message()
	}))
	return pid, ch
}

// makePlayers makes the player actors of uids, as a session's hello does
// before any round seats it.
func makePlayers(t *testing.T, srv *Server, system *actor.ActorSystem, uids ...string) {
	t.Helper()
	for _, uid := range uids {
		pid, ch := spawnSpy(system)
		system.Root.RequestWithCustomSender(srv.d.players, &messages.Register{Uid: uid}, pid)
		recvType[*messages.Attached](t, ch, recvTimeout)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

// recvTimeout bounds every wait on a test channel: a regression fails the
// test with a message instead of hanging the suite until its timeout.
const recvTimeout = 3 * time.Second

// recv returns the next value on ch, or fails the test after timeout.
func recv[T any](t *testing.T, ch <-chan T, timeout time.Duration) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		var zero T
		t.Fatalf("nothing received within %v", timeout)
		return zero
	}
}

// recvType returns the first value of type M on ch, skipping the others,
// or fails the test after timeout.
func recvType[M any](t *testing.T, ch <-chan any, timeout time.Duration) M {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case v := <-ch:
			if m, ok := v.(M); ok {
				return m
			}
		case <-deadline:
			var zero M
			t.Fatalf("no %T within %v", zero, timeout)
			return zero
		}
	}
}
