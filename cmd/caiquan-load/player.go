package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/rules"
)

// maxChoices is how many choices a player sends per round: one at once,
// and maybe one more when it sees the first movement of another seat.
const maxChoices = 2

// player is one simulated client. Its goroutine (run) is the connection's
// only reader and only data writer; the load's shutdown uses ws only for
// WriteControl and Close, which gorilla allows from any goroutine.
type player struct {
	l   *load
	idx int
	uid string
	ws  atomic.Pointer[websocket.Conn]

	// What opponents read to time the relay of this player's choices.
	mu    sync.Mutex
	round string
	sent  [maxChoices]int64 // unix ns of each choice sent in round
	nsent int
}

// round is what a player knows of the round it sits in.
type round struct {
	id       string
	startAt  time.Time
	gameTime time.Duration
	prev     map[string]rules.Standing // seat uid -> standing at start
	peers    []peer                    // the load's other players in the room
	choices  [maxChoices]int32
	n        int
	rechosen bool
	counts   bool // this player counts the room in stats.rounds
}

// peer is another of the load's players in the same room, and how many of
// its choice movements arrived so far.
type peer struct {
	p     *player
	moves int
}

type phase int

const (
	idle phase = iota
	queued
	playing
)

// errStopped ends a player that the load's shutdown stopped while it thought.
var errStopped = errors.New("stopped")

func (p *player) run() {
	l := p.l
	defer l.wg.Done()
	ws, err := l.dial(p.idx)
	if err != nil {
		l.st.dialFailures.Add(1)
		l.st.note(&l.st.dialReasons, netReason(err))
		return
	}
	p.ws.Store(ws)
	defer ws.Close()
	err = p.play(ws)
	switch {
	case err == nil || errors.Is(err, errStopped):
	case l.stopping.Load():
		// The load's own shutdown closed it.
	default:
		l.st.drops.Add(1)
		l.st.note(&l.st.dropReasons, dropReason(err))
	}
	if l.stopping.Load() {
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "load test over"), time.Now().Add(time.Second))
	}
}

// play greets, then plays rounds until the load stops.
func (p *player) play(ws *websocket.Conn) error {
	l := p.l
	if err := p.handshake(ws); err != nil {
		return err
	}
	standing, err := p.hello(ws)
	if err != nil {
		return err
	}
	l.st.connected(1)
	defer l.st.connected(-1)
	if l.opts.idle {
		return p.idleRead(ws)
	}

	var (
		ph     = idle
		r      round
		joinAt time.Time
		acked  bool // the server answered the last join with queued
		played int
	)
	join := func() error {
		joinAt, acked = time.Now(), false
		ph = queued
		return p.send(ws, &messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}})
	}
	// again ends a round: think, then join again (or stop).
	again := func() error {
		ph = idle
		played++
		if l.opts.rounds > 0 && played >= l.opts.rounds {
			return p.idleRead(ws)
		}
		if err := l.think(); err != nil {
			return err
		}
		return join()
	}
	if err := join(); err != nil {
		return err
	}
	for {
		env, err := p.read(ws)
		if err != nil {
			return err
		}
		now := time.Now()
		switch b := env.Body.(type) {
		case *messages.Envelope_Queued:
			if ph != queued || b.Queued.Waiting < 1 {
				l.st.bad("queued outside the queue or with waiting < 1")
			}
			acked = true
		case *messages.Envelope_Start:
			if ph != queued {
				l.st.bad("start while not queued")
				continue
			}
			if problem := p.start(&r, b.Start, standing, now); problem != "" {
				l.st.badCase(problem, fmt.Sprintf("player %s with standing %+v got %v", p.uid, standing, b.Start))
			}
			p.recordMatch(&r, now.Sub(joinAt))
			ph = playing
			if err := p.choose(ws, &r); err != nil {
				return err
			}
		case *messages.Envelope_Movement:
			if ph != playing {
				l.st.bad("movement outside a round")
				continue
			}
			if err := p.movement(ws, &r, b.Movement, now); err != nil {
				return err
			}
		case *messages.Envelope_Result:
			if ph != playing {
				l.st.bad("result outside a round")
				continue
			}
			after, late, problem := checkResult(b.Result, &r, p.uid)
			if problem != "" {
				l.st.badCase(problem, fmt.Sprintf("player %s, standings at start %v, choices sent %v, got %v", p.uid, r.prev, r.choices[:r.n], b.Result))
			} else {
				standing = after
			}
			if late {
				l.st.lateChoices.Add(1)
			}
			l.st.lateness.record(now.Sub(r.startAt.Add(r.gameTime)))
			l.st.playerRounds.Add(1)
			if r.counts {
				l.st.rounds.Add(1)
			}
			if err := again(); err != nil {
				return err
			}
		case *messages.Envelope_Void:
			if ph != playing || b.Void.RoundId != r.id {
				l.st.bad("void for another round")
				continue
			}
			l.st.voids.Add(1)
			if err := again(); err != nil {
				return err
			}
		case *messages.Envelope_Leave:
			if _, ok := r.prev[b.Leave.Uid]; ph != playing || !ok {
				l.st.bad("leave of a player not in the room")
			}
		case *messages.Envelope_Error:
			l.st.note(&l.st.errorCodes, b.Error.Code)
			// Only a join that was refused (draining, or server_busy near
			// the server's memory limit) or dropped (rate limited before
			// any queued) is tried again, after a pause, as a player would.
			// Other errors, such as not_playing for a second choice that
			// reached the server after the round ended, change nothing.
			code := b.Error.Code
			if ph == queued && !acked && (code == messages.CodeDraining || code == messages.CodeServerBusy || code == messages.CodeRateLimited) {
				ph = idle
				pause := l.pause
				if code == messages.CodeServerBusy {
					pause = l.pauseBusy
				}
				if err := pause(); err != nil {
					return err
				}
				if err := join(); err != nil {
					return err
				}
			}
		default:
			l.st.bad(fmt.Sprintf("unexpected %T", env.Body))
		}
	}
}

// handshake is what a protocol does between the upgrade and hello.
// Engine.IO 4 reads the open packet, connects to the namespace (40) and
// waits for its answer; Engine.IO 3 does nothing, like the 2016 client,
// which sends hello before it reads anything.
func (p *player) handshake(ws *websocket.Conn) error {
	if p.l.opts.proto != protoEIO4 {
		return nil
	}
	kind, data, err := p.readFrame(ws)
	if err != nil {
		return err
	}
	if pk := p.l.opts.proto.decode(kind, data); pk.bad != "" || !strings.HasPrefix(string(data), "0{") {
		p.l.st.bad("first Engine.IO 4 frame is not the open packet")
	}
	if err := p.writeFrame(ws, websocket.TextMessage, []byte("40")); err != nil {
		return err
	}
	for {
		kind, data, err := p.readFrame(ws)
		if err != nil {
			return err
		}
		pk := p.l.opts.proto.decode(kind, data)
		if pk.opened {
			return nil
		}
		if pk.bad != "" || pk.env != nil {
			p.l.st.bad("Engine.IO 4 frame before the namespace connect answer")
		}
	}
}

func (p *player) hello(ws *websocket.Conn) (rules.Standing, error) {
	err := p.send(ws, &messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{
		User: &messages.User{Uid: p.uid, Uname: "load " + strconv.Itoa(p.idx)},
	}}})
	if err != nil {
		return rules.Standing{}, err
	}
	for {
		env, err := p.read(ws)
		if err != nil {
			return rules.Standing{}, err
		}
		if e := env.GetError(); e != nil {
			return rules.Standing{}, fmt.Errorf("hello refused: %s", e.Code)
		}
		hi := env.GetHi()
		if hi == nil {
			p.l.st.bad(fmt.Sprintf("%T before hi", env.Body))
			continue
		}
		// Every run's uids are new, so every player starts from nothing.
		if hi.Nearby < 1 || hi.TotalScore != 0 || hi.WinStreak != 0 {
			p.l.st.bad("hi with impossible values")
		}
		return rules.Standing{Total: hi.TotalScore, Streak: hi.WinStreak}, nil
	}
}

// idleRead keeps the connection open and answered (pings) until it ends.
func (p *player) idleRead(ws *websocket.Conn) error {
	for {
		env, err := p.read(ws)
		if err != nil {
			return err
		}
		if e := env.GetError(); e != nil {
			p.l.st.note(&p.l.st.errorCodes, e.Code)
		} else {
			p.l.st.bad(fmt.Sprintf("unexpected %T on an idle connection", env.Body))
		}
	}
}

// start seats the player in a round; a non-empty answer names a malformation.
func (p *player) start(r *round, s *messages.Start, standing rules.Standing, now time.Time) string {
	l := p.l
	*r = round{id: s.RoundId, startAt: now, gameTime: time.Duration(s.GameTime) * time.Second,
		prev: make(map[string]rules.Standing, len(s.RoomUsers)), counts: true}
	if l.opts.roundTimeHint > 0 {
		r.gameTime = l.opts.roundTimeHint
	}
	p.mu.Lock()
	p.round, p.nsent = s.RoundId, 0
	p.mu.Unlock()

	problem := ""
	if s.RoundId == "" || s.GameTime < 1 || len(s.RoomUsers) < 2 {
		problem = "start with an empty round id, a game time under 1 s or fewer than 2 seats"
	}
	seated := false
	for _, u := range s.RoomUsers {
		if _, dup := r.prev[u.Uid]; dup || u.Uid == "" {
			problem = "start with a duplicate or empty uid"
		}
		r.prev[u.Uid] = rules.Standing{Total: u.TotalScore, Streak: u.WinStreak}
		if u.Uid == p.uid {
			seated = true
			if u.TotalScore != standing.Total || u.WinStreak != standing.Streak {
				problem = "start with a standing that is not the player's last result"
			}
			continue
		}
		if q := l.playerOf(u.Uid); q != nil {
			r.peers = append(r.peers, peer{p: q})
			if q.idx < p.idx {
				r.counts = false
			}
		}
	}
	if !seated {
		problem = "start without the player in roomUsers"
	}
	return problem
}

func (p *player) recordMatch(r *round, d time.Duration) {
	st := &p.l.st
	st.ttm.record(d)
	for uid := range r.prev {
		if strings.HasPrefix(uid, "bot-") {
			st.ttmBot.record(d)
			return
		}
	}
	st.ttmHuman.record(d)
}

// choose sends a random choice and notes when, for the opponents' relay timing.
func (p *player) choose(ws *websocket.Conn, r *round) error {
	c := 1 + rand.Int32N(3)
	p.mu.Lock()
	if p.nsent < maxChoices {
		p.sent[p.nsent] = time.Now().UnixNano()
		p.nsent++
	}
	p.mu.Unlock()
	r.choices[r.n] = c
	r.n++
	return p.send(ws, &messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: c}}})
}

// movement times the relay of a peer's choice, and maybe changes the
// player's mind once per round.
func (p *player) movement(ws *websocket.Conn, r *round, m *messages.Movement, now time.Time) error {
	l := p.l
	if _, ok := r.prev[m.Uid]; !ok || m.Uid == p.uid || (m.Movement != "choice" && m.Movement != "face") {
		l.st.bad("movement of a player not in the room, of the player itself, or of an unknown kind")
		return nil
	}
	if m.Movement != "choice" {
		return nil
	}
	for i := range r.peers {
		pe := &r.peers[i]
		if pe.p.uid != m.Uid {
			continue
		}
		k := pe.moves
		pe.moves++
		q := pe.p
		q.mu.Lock()
		sameRound, sent, n := q.round == r.id, q.sent, q.nsent
		q.mu.Unlock()
		switch {
		case !sameRound:
			// The peer has moved on to another round; nothing to time.
		case k < n:
			l.st.relay.record(now.Sub(time.Unix(0, sent[k])))
		default:
			l.st.bad("movement for a choice that was never sent")
		}
	}
	if !r.rechosen && r.n < maxChoices && rand.Float64() < l.opts.rechoose {
		r.rechosen = true
		return p.choose(ws, r)
	}
	return nil
}

// checkResult checks a result against the rules: every seat once, and each
// seat's score, total and streak what rules.Apply gives from its standing
// at start and the judged hands. It returns the player's new standing and
// whether the choice that counted was not its last (it reached the room
// after the deadline).
func checkResult(res *messages.Result, r *round, uid string) (next rules.Standing, late bool, problem string) {
	if res.RoundId != r.id {
		return next, false, "result for another round"
	}
	if len(res.Result) != len(r.prev) {
		return next, false, "result without every seat"
	}
	hands := make([]rules.Hand, len(res.Result))
	seen := make(map[string]bool, len(res.Result))
	for i, pr := range res.Result {
		if _, ok := r.prev[pr.Uid]; !ok || seen[pr.Uid] {
			return next, false, "result with a seat that is not in the room"
		}
		seen[pr.Uid] = true
		if pr.Choice < 0 || pr.Choice > 3 {
			return next, false, "result with an impossible choice"
		}
		hands[i] = rules.Hand(pr.Choice)
	}
	x := rules.BaseScores(hands)
	for i, pr := range res.Result {
		o := rules.Apply(r.prev[pr.Uid], x[i])
		if pr.RoundScore != o.RoundScore || pr.TotalScore != o.Total || pr.WinStreak != o.Streak {
			return next, false, "result whose score does not follow the rules"
		}
		if pr.Uid != uid {
			continue
		}
		next = o.Standing
		mine := r.choices[:r.n]
		if pr.Choice != 0 && !slices.Contains(mine, pr.Choice) {
			return next, false, "result with a choice the player never made"
		}
		late = r.n == 0 || pr.Choice != mine[r.n-1]
	}
	return next, late, ""
}

func (p *player) send(ws *websocket.Conn, env *messages.Envelope) error {
	kind, data, err := p.l.opts.proto.encode(env)
	if err != nil {
		return err
	}
	return p.writeFrame(ws, kind, data)
}

func (p *player) writeFrame(ws *websocket.Conn, kind int, data []byte) error {
	ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return ws.WriteMessage(kind, data)
}

// read returns the next game message, answering and skipping protocol
// frames and counting malformed ones.
func (p *player) read(ws *websocket.Conn) (*messages.Envelope, error) {
	for {
		kind, data, err := p.readFrame(ws)
		if err != nil {
			return nil, err
		}
		pk := p.l.opts.proto.decode(kind, data)
		switch {
		case pk.detail != "":
			p.l.st.badCase(pk.bad, pk.detail)
		case pk.bad != "":
			p.l.st.bad(pk.bad)
		}
		switch {
		case pk.reply != "":
			if err := p.writeFrame(ws, websocket.TextMessage, []byte(pk.reply)); err != nil {
				return nil, err
			}
		case pk.env != nil:
			return pk.env, nil
		}
	}
}

func (p *player) readFrame(ws *websocket.Conn) (int, []byte, error) {
	if d := p.l.stallAfter; d > 0 {
		ws.SetReadDeadline(time.Now().Add(d))
	}
	return ws.ReadMessage()
}

// dropReason names why a connection ended, without addresses or ports, so
// that equal causes add up.
func dropReason(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Sprintf("closed by the server: %d %s", ce.Code, ce.Text)
	}
	return netReason(err)
}

func netReason(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		if oe.Timeout() {
			return oe.Op + ": timeout"
		}
		return oe.Op + ": " + oe.Err.Error()
	}
	return err.Error()
}
