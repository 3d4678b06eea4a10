package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"github.com/caiquan/caiquan/internal/history"
	"github.com/caiquan/caiquan/messages"
	"github.com/gorilla/websocket"
)

// silence is how long a player waits without a single frame (the server
// pings every second in a fault run) before it takes its node for frozen
// and connects elsewhere, as a real client would.
const silence = 3 * time.Second

// Player is a client that plays rounds in a loop, reconnecting to another
// node when its socket drops, and records everything it sees.
type Player struct {
	UID string
	// Nodes returns the game addresses (host:port) to connect to; the
	// player starts at Home and moves on to the next one after a drop.
	Nodes func() []string
	Home  int
	Rec   *history.Recorder
	// Wire is WireWS (also when empty) or WireEIO3.
	Wire string

	rng      *rand.Rand
	quitting atomic.Bool // finish the open round, then stop
	rounds   atomic.Int64
}

// NewPlayer makes player i, with a random source of its own from seed.
func NewPlayer(i int, seed uint64, nodes func() []string, rec *history.Recorder) *Player {
	return &Player{UID: fmt.Sprintf("p%04d-%x", i, seed&0xffff), Nodes: nodes, Home: i, Rec: rec,
		rng: rand.New(rand.NewPCG(seed, uint64(i)))}
}

// Quit asks the player to finish its round and stop.
func (p *Player) Quit() { p.quitting.Store(true) }

// Rounds is how many rounds the player saw end.
func (p *Player) Rounds() int64 { return p.rounds.Load() }

// Run plays until ctx ends or Quit was called and the open round ended.
// It records a stop event when it returns.
func (p *Player) Run(ctx context.Context) {
	defer func() { p.Rec.Add(history.Event{Client: p.UID, Kind: history.Stop}) }()
	kind := history.Connect
	for n := p.Home; ctx.Err() == nil && !p.quitting.Load(); n++ {
		nodes := p.Nodes()
		addr := nodes[n%len(nodes)]
		done := p.session(ctx, addr, kind)
		if done {
			return
		}
		kind = history.Reconnect
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(200+p.rng.IntN(800)) * time.Millisecond):
		}
	}
}

// session plays on one connection; done reports that the player stopped
// on purpose rather than lost its socket.
func (p *Player) session(ctx context.Context, addr string, kind history.Kind) (done bool) {
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	ws, _, err := websocket.DefaultDialer.DialContext(dctx, "ws://"+addr+wirePath(p.Wire), nil)
	cancel()
	if err != nil {
		return false
	}
	defer ws.Close()
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	p.Rec.Add(history.Event{Client: p.UID, Kind: kind, Node: addr})
	// heard is when the last frame came: a client that gives up on a
	// silent node lost it then, not when it noticed.
	heard := time.Now()
	alive := func() { heard = time.Now(); ws.SetReadDeadline(heard.Add(silence)) }
	ws.SetPingHandler(func(data string) error {
		alive()
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	send := func(env *messages.Envelope) error {
		b, err := encodeFor(p.Wire, env)
		if err != nil {
			return err
		}
		ws.SetWriteDeadline(time.Now().Add(silence))
		return ws.WriteMessage(websocket.TextMessage, b)
	}
	join := func() error {
		p.Rec.Add(history.Event{Client: p.UID, Kind: history.Join})
		return send(&messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}})
	}
	user := &messages.User{Uid: p.UID, Uname: p.UID}
	if send(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{User: user}}}) != nil {
		p.dropped(ctx)
		return false
	}
	playing := false
	alive()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return true
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() && ctx.Err() == nil {
				p.Rec.Add(history.Event{At: heard, Client: p.UID, Kind: history.Disconnect})
				return false
			}
			p.dropped(ctx)
			return false
		}
		alive()
		env := decodeFor(p.Wire, data)
		if env == nil {
			continue
		}
		var werr error
		switch b := env.Body.(type) {
		case *messages.Envelope_Hi:
			p.Rec.Add(history.Event{Client: p.UID, Kind: history.Hi, Total: b.Hi.TotalScore, Streak: b.Hi.WinStreak})
			werr = join()
		case *messages.Envelope_Start:
			playing = true
			var seats []history.Seat
			for _, u := range b.Start.RoomUsers {
				seats = append(seats, history.Seat{UID: u.Uid, Total: u.TotalScore, Streak: u.WinStreak})
			}
			ms := int64(b.Start.GameTimeMs)
			if ms == 0 {
				ms = int64(b.Start.GameTime) * 1000
			}
			p.Rec.Add(history.Event{Client: p.UID, Kind: history.Start, Round: b.Start.RoundId, RoundMs: ms, Seats: seats})
			hand := 1 + p.rng.Int32N(3)
			p.Rec.Add(history.Event{Client: p.UID, Kind: history.Choice, Round: b.Start.RoundId, Choice: hand})
			werr = send(&messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: hand}}})
		case *messages.Envelope_Result, *messages.Envelope_Void:
			playing = false
			e := history.Event{Client: p.UID, Kind: history.Void, Round: env.GetVoid().GetRoundId(), Reason: env.GetVoid().GetReason()}
			if r, ok := b.(*messages.Envelope_Result); ok {
				e = history.Event{Client: p.UID, Kind: history.Result, Round: r.Result.RoundId}
				for _, s := range r.Result.Result {
					e.Seats = append(e.Seats, history.Seat{UID: s.Uid, Choice: s.Choice, Score: s.RoundScore, Total: s.TotalScore, Streak: s.WinStreak})
				}
			}
			p.Rec.Add(e)
			p.rounds.Add(1)
			if p.quitting.Load() {
				return true
			}
			werr = join()
		case *messages.Envelope_Error:
			// A refusal while queued (draining, busy): ask again shortly.
			if c := b.Error.Code; !playing && (c == messages.CodeDraining || c == messages.CodeServerBusy) {
				time.Sleep(200 * time.Millisecond)
				werr = join()
			}
		}
		if werr != nil {
			if ctx.Err() != nil {
				return true
			}
			p.dropped(ctx)
			return false
		}
		if p.quitting.Load() && !playing {
			return true
		}
	}
}

func (p *Player) dropped(ctx context.Context) {
	if ctx.Err() == nil {
		p.Rec.Add(history.Event{Client: p.UID, Kind: history.Disconnect})
	}
}
