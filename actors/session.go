package actors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/auth"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/rules"
	"google.golang.org/protobuf/proto"
)

// session speaks for one connection: it checks what the client asks in the
// light of its phase and turns it into messages to the lobby, the room and
// the player; and it forwards what they say back to the client.
type session struct {
	conn   Conn
	handle *sessionHandle // the gateway's on conn; a resume swaps both
	d      *deps

	phase    sessionPhase
	user     *messages.User
	since    int64 // when the hello was admitted (Register.since_unix_nano)
	player   *actor.PID
	standing rules.Standing
	room     *actor.PID
	round    string
	lost     *lostRound      // while asking the player how the round ended
	roundEnd time.Time       // the round's deadline, from when the start reached the actor
	start    *messages.Start // the round's, for its seats
	// computed is the result as the room judged it at the deadline
	// (RoundSettling), for a lost round that the player stored.
	computed *messages.Result
	// busyUntil: another session of the uid sits in a round until then
	// (or until the player says Free); joins wait.
	busyUntil time.Time
	// stale: a round another session of the uid sat in may have changed
	// the standing since the player told it; the next join asks again
	// (Register), so that the seat shows what the player will score from.
	stale  bool
	attach Timer
	att    *attachState // while attaching
	wait   *waitState   // while queued
	// withdrawn is the round of the last offer this session dropped: a
	// start of that round that comes late is declined.
	withdrawn string
	// leftRound is the last round the uid is known to have left (JoinQueue's
	// last_round).
	leftRound string
	// leftUnseated: the last wait ended without a seat (waitState.afterLeave).
	leftUnseated bool
	gone         bool // the socket is closed: nothing more from the client
	hello        Timer
	// rejoin repeats a waiting session's join. It is made at the first
	// join and reset at each, not made anew: a timer per join was two per
	// round, and most joins are seated at once.
	rejoin Timer
	// resume is set once a resumable session said hi (resume.go);
	// resuming while the session asks another for a takeover, or relays
	// to it after one.
	resume   *resumeState
	resuming *resumingState
	// ack is the verdict callback of the client message being handled, set
	// only within handleClient (ackedEnvelope).
	ack func(code, message string)
	// moveAt is when the gateway handed on the client message being
	// handled (Unix nanoseconds), set only within handleClient
	// (stampedMove, ackedEnvelope); the moves' relay is timed from it.
	moveAt int64
}

// attachState is a session's while its hello waits for the player actor;
// waitState while it waits for a seat. Most sessions are idle most of their
// lives, and hold neither.
type attachState struct {
	by      time.Time // when a hello that found no player is refused
	pending []*messages.Envelope
}

// lostRound is a session's while it asks its player actor how a round
// ended whose room it lost (see handleRoomGone).
type lostRound struct {
	by    time.Time // when the round's settle window has surely closed
	retry Timer
	// applied is the player's answer when it stored the round but no
	// longer holds the room's result: the other seats' players are asked.
	applied *messages.RoundApplied
	read    bool // the store was asked (readLost)
}

// lostRead is what the store holds for a lost round's player, from
// readLost's goroutine.
type lostRead struct {
	round string
	rec   caiquan.PlayerRecord
	err   error
}

// seatOffer is a seat a session took (messages.SeatOffer) while it waits
// for that round's start.
type seatOffer struct {
	room  *actor.PID
	round string
	by    time.Time // when it lapses; the rejoin timer wakes the session then
}

// offerWait is how long a session that took a seat waits for the round's
// start before it queues again: the room gives an unanswered seat to a bot
// after offerTimeout, and says so.
const offerWait = 3 * time.Second

type waitState struct {
	ticket  uint64       // of the current join
	lobbies []*actor.PID // every lobby the current join went to
	// first backs lobbies: a join goes to one lobby unless the lobby
	// moves, and the slice then costs no allocation of its own.
	first    [1]*actor.PID
	joinedAt time.Time
	acked    bool // the client has been told it is queued
	// offer: a seat taken, its start not yet come (room nil: none).
	offer seatOffer
	// refreshBy: the join waits for the player's Attached until then.
	refreshBy time.Time
	// afterLeave: a join of an earlier wait, left unseated, may still seat
	// the session (its lobby seated it before the leave came); the lobby
	// then holds this join too, which must go when the session is seated.
	afterLeave bool
}

// taken is the seat the session took and waits to start, or nil.
func (s *session) taken() *seatOffer {
	if s.wait == nil || s.wait.offer.room == nil {
		return nil
	}
	return &s.wait.offer
}

// rejoinEvery is how often a waiting session repeats its join, so a lobby
// that was killed learns its queue back.
const rejoinEvery = time.Second

// maxPending bounds what a client may send between hello and hi.
const maxPending = 8

type sessionPhase int

const (
	greeting  sessionPhase = iota // before hello
	attaching                     // hello sent to the player actor
	idle
	queued
	inRound
)

// spawnSession starts the session of conn under parent.
func spawnSession(parent actor.SpawnerContext, d *deps, conn Conn, handle *sessionHandle) *actor.PID {
	return d.inv.spawn(parent, d.sessionProps, KindSession, "", func() actor.Actor {
		return &session{conn: conn, handle: handle, d: d}
	})
}

func (s *session) Receive(ctx actor.Context) {
	if s.pipe(ctx, ctx.Message()) {
		return
	}
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		if s.d.settings.HandshakeTimeout > 0 {
			s.hello = sendAfter(ctx, s.d.settings.Clock, s.d.settings.HandshakeTimeout, &messages.HelloTimeout{})
		}
	case *messages.HelloTimeout:
		// The gateway's own deadline ends at any hello; this one waits for a
		// hello that was accepted, so a client with a bad token cannot
		// hold a connection open without ever playing.
		if (s.phase == greeting || s.phase == attaching) && s.resuming == nil {
			s.conn.Close(messages.CloseHelloTimeout, fmt.Sprintf("no accepted hello within %v", s.d.settings.HandshakeTimeout))
			ctx.Stop(ctx.Self())
		}
	case *actor.Stopping:
		s.handleStopping(ctx)
	case *messages.Envelope:
		if !s.relay(ctx, msg) && s.fromPipe(ctx) {
			s.handleClient(ctx, msg)
		}
	case *stampedMove:
		if !s.relay(ctx, msg.env) {
			s.handleStamped(ctx, msg)
		}
	case *ackedEnvelope:
		s.handleAcked(ctx, msg)
	case *messages.PipeAcked:
		s.handlePipeAcked(ctx, msg)
	case *messages.Attached:
		s.handleAttached(ctx, msg)
	case *messages.AttachTimeout:
		s.handleAttachTimeout(ctx)
	case *messages.Reattach:
		s.handleReattach(ctx)
	case *messages.Queued:
		if s.phase == queued && !s.wait.acked {
			s.wait.acked = true
			s.send(&messages.Envelope{Body: &messages.Envelope_Queued{Queued: msg}})
		}
	case *messages.RejoinTick:
		// A tick that crossed a new join in flight repeats that join
		// early, which costs a message: a repeat keeps the place.
		switch {
		case s.phase == inRound:
			s.checkRoomHeard(ctx)
		case s.phase != queued:
		case s.taken() == nil:
			s.sendJoin(ctx)
		case !s.d.settings.Clock.Now().Before(s.wait.offer.by):
			s.dropOffer(ctx) // the room said nothing in time
		default:
			s.rejoinIn(ctx, s.wait.offer.by.Sub(s.d.settings.Clock.Now()))
		}
	case *messages.Error:
		s.handleLobbyError(ctx, msg)
	case *messages.SeatOffer:
		s.handleOffer(ctx, msg)
	case *messages.Start:
		s.handleStart(ctx, msg)
	case *messages.Movement:
		s.relayMovement(ctx, msg, 0)
	case *messages.RelayedMovement:
		s.relayMovement(ctx, msg.Movement, msg.RelaySince)
	case *messages.Leave:
		if s.fromRoom(ctx) {
			s.send(&messages.Envelope{Body: &messages.Envelope_Leave{Leave: msg}})
		}
	case *messages.Result:
		s.handleResult(ctx, msg)
	case *messages.Void:
		if o := s.taken(); o != nil && o.room.Equal(ctx.Sender()) && msg.RoundId == o.round {
			s.dropOffer(ctx) // withdrawn before the client heard of it
			return
		}
		if s.fromRoom(ctx) && msg.RoundId == s.round {
			s.endRound(ctx)
			s.send(&messages.Envelope{Body: &messages.Envelope_Void{Void: msg}})
		}
	case *actor.Terminated:
		s.handleTerminated(ctx, msg)
	case *messages.RoomGone:
		s.handleRoomGone(ctx, msg)
	case *messages.RoundApplied:
		s.handleLostApplied(ctx, msg)
	case *messages.RoundRefused:
		if s.lost != nil && msg.RoundId == s.round {
			s.voidLost(ctx, "the room stopped")
		}
	case *messages.AbortRetry:
		s.handleAbortRetry(ctx, msg)
	case lostRead:
		s.handleLostRead(ctx, msg)
	case *messages.JoinHeld:
		s.handleJoinHeld(ctx, msg)
	case *messages.Free:
		if msg.Uid != "" && msg.Uid != s.user.GetUid() {
			// From a room, behind its result: pass it to that uid's player.
			ctx.Send(s.d.playersOf(msg.Uid), msg)
			return
		}
		if msg.RoundId != "" {
			s.leftRound = msg.RoundId
		}
		if !s.busyUntil.IsZero() {
			s.busyUntil = time.Time{}
			if s.phase == queued {
				s.sendJoin(ctx)
			}
		}
	case *messages.RoundSettling:
		if s.fromRoom(ctx) && msg.Result.GetRoundId() == s.round {
			s.computed = msg.Result
		}
	case *messages.RoundResult:
		if s.lost != nil && s.lost.applied != nil && msg.Result.GetRoundId() == s.round {
			s.endLost(ctx, s.lost.applied, msg.Result)
		}
	case *messages.Kick:
		code := int(msg.CloseCode)
		if code == 0 {
			code = messages.CloseReplaced
		}
		if msg.ErrorCode != "" {
			s.sendError(msg.ErrorCode, msg.Reason)
		}
		s.conn.Close(code, msg.Reason)
		ctx.Stop(ctx.Self())
	case *messages.GoAway:
		s.conn.Close(messages.CloseGoingAway, msg.Reason)
	case *messages.ConnClosed:
		if s.relay(ctx, msg) || !s.fromPipe(ctx) {
			return
		}
		if _, ok := s.conn.(*remoteConn); ok {
			s.pipeClosed(ctx, msg.Lost)
			return
		}
		s.gone = true
		if !s.detach(ctx) {
			ctx.Stop(ctx.Self())
		}
	case *nameChecked:
		s.handleNameChecked(ctx, msg)
	case *sioConnect:
		s.handleConnect(ctx, msg.c)
	case *messages.ResumeRequest:
		s.handleResumeRequest(ctx, msg)
	case *messages.ResumeAnswer:
		s.handleResumeAnswer(ctx, msg)
	case *actor.DeadLetterResponse:
		s.handleResumeDeadLetter(ctx, msg)
	case *messages.ResumeTimeout:
		s.handleResumeTimeout(ctx)
	case *messages.ResumeExpired:
		s.handleResumeExpired(ctx, msg)
	}
}

func (s *session) handleClient(ctx actor.Context, env *messages.Envelope) {
	if s.gone {
		return
	}
	if h, ok := env.Body.(*messages.Envelope_Hello); ok {
		s.handleHello(ctx, h.Hello)
		return
	}
	if s.phase == attaching && len(s.att.pending) < maxPending {
		// A client may send join right behind hello; it is played once the
		// player actor answers.
		s.att.pending = append(s.att.pending, env)
		return
	}
	if s.phase == greeting || s.phase == attaching {
		s.sendError(messages.CodeHelloFirst, "say hello first")
		return
	}
	switch b := env.Body.(type) {
	case *messages.Envelope_Join:
		s.handleJoin(ctx)
	case *messages.Envelope_Choice:
		s.handleChoice(ctx, b.Choice)
	case *messages.Envelope_Face:
		s.handleFace(ctx, b.Face)
	case *messages.Envelope_Leave:
		s.handleLeave(ctx)
	default:
		s.sendError(messages.CodeUnknownEvent, "the server does not take this message from clients")
	}
}

// handleAcked handles a client message whose sender waits for the
// verdict: a refusal while handling it goes to ack (sendError), and
// otherwise ack hears that it was taken.
func (s *session) handleAcked(ctx actor.Context, msg *ackedEnvelope) {
	s.ack, s.moveAt = msg.ack, msg.at
	defer func() { s.ack, s.moveAt = nil, 0 }() // even if handleClient panics
	s.handleClient(ctx, msg.env)
	if ack := s.ack; ack != nil {
		s.ack = nil
		ack("", "")
	}
}

func (s *session) handleHello(ctx actor.Context, h *messages.Hello) {
	if s.phase != greeting {
		s.sendError(messages.CodeAlreadyHello, "hello was already said on this connection")
		return
	}
	if protocolRefused(h.GetProtocol(), s.d.settings.minProtocol()) {
		s.sendError(messages.CodeUpgradeRequired, fmt.Sprintf("this server speaks client protocol versions %d to %d, not %d; update the client", s.d.settings.minProtocol(), ProtocolVersion, h.GetProtocol()))
		return
	}
	user, claims, code, problem := s.identify(h)
	if problem != "" {
		s.sendError(code, problem)
		return
	}
	if check := s.d.settings.ContentCheck; check != nil {
		if user.Uavatar != "" && !OwnAvatar(user.Uavatar) {
			s.sendError(messages.CodeContentRefused, "on this server an avatar must be one uploaded with POST /avatar (its answer's url, /avatars/…): others cannot be checked")
			return
		}
		// A name the token carries passed the check at /login.
		if user.Uname != "" && !(claims.OpenID != "" && user.Uname == claims.Uname) {
			s.checkName(ctx, check, h, user, claims.OpenID)
			return
		}
	}
	s.greet(ctx, h, user)
}

// greet goes on with an accepted hello: a resume, or a new session.
func (s *session) greet(ctx actor.Context, h *messages.Hello, user *messages.User) {
	if h.GetResume().GetToken() != "" {
		if s.startResume(ctx, h, user) {
			dropTimer(&s.hello) // the resume answers, or times out, within seconds
			return
		}
		s.sendError(messages.CodeResumeFailed, "the resume token is malformed, or this server offers no resume; this connection starts a new session")
	}
	s.admit(ctx, user)
}

// nameChecked is the content check's verdict on a hello's name, from the
// goroutine that asked.
type nameChecked struct {
	hello *messages.Hello
	user  *messages.User
	err   error
}

// checkName asks the content check about the hello's name in a goroutine
// (the actor never waits on the network). Meanwhile the session is
// attaching: what the client sends behind the hello waits, and the
// handshake timeout runs.
func (s *session) checkName(ctx actor.Context, check ContentChecker, h *messages.Hello, user *messages.User, openid string) {
	s.phase = attaching
	s.att = &attachState{by: s.d.settings.Clock.Now().Add(s.d.settings.AttachTimeout)}
	root, self := ctx.ActorSystem().Root, ctx.Self()
	go func() {
		cctx, cancel := context.WithTimeout(context.Background(), contentCheckTimeout)
		defer cancel()
		root.Send(self, &nameChecked{hello: h, user: user, err: check.CheckText(cctx, openid, user.Uname)})
	}()
}

func (s *session) handleNameChecked(ctx actor.Context, msg *nameChecked) {
	if s.phase != attaching || s.player != nil || s.gone {
		return
	}
	pending := s.att.pending
	s.phase, s.att = greeting, nil
	switch {
	case errors.Is(msg.err, auth.ErrRefused):
		s.sendError(messages.CodeContentRefused, "WeChat's content check refused this name; choose another")
		return
	case msg.err != nil:
		ctx.Logger().Warn("session: content check failed", "err", msg.err)
		s.sendError(messages.CodeContentCheck, "WeChat's content check could not be asked, so the name is not shown; send hello again later")
		return
	}
	s.greet(ctx, msg.hello, msg.user)
	if s.phase == attaching && s.att != nil {
		s.att.pending = append(pending, s.att.pending...)
	}
}

// admit begins the session of user: its player actor is asked for.
func (s *session) admit(ctx actor.Context, user *messages.User) {
	s.user = user
	s.since = s.d.settings.Clock.Now().UnixNano()
	s.phase = attaching
	s.att = &attachState{by: s.d.settings.Clock.Now().Add(s.d.settings.AttachTimeout)}
	s.d.inv.name(ctx.Self(), user.Uid)
	s.debug("session: hello accepted")
	s.register(ctx)
}

// identify says who a hello speaks for. Without auth the client names its
// uid. With auth the token's subject is the uid and the client's uid claim
// is ignored; the hello's name and avatar, when given, win over the login's.
// A refusal leaves the connection in greeting, ready for another hello.
func (s *session) identify(h *messages.Hello) (user *messages.User, claims auth.Claims, code, problem string) {
	if s.d.settings.Auth == nil {
		if problem := checkUser(h.GetUser()); problem != "" {
			return nil, claims, messages.CodeBadUser, problem
		}
		// Uids of these prefixes are the server's to give: in anonymous
		// mode anyone can be anyone else, but not a WeChat player or a
		// guest of an earlier run in another mode.
		if strings.HasPrefix(h.User.Uid, WeChatUIDPrefix) {
			return nil, claims, messages.CodeBadUser, "user.uid may not start with " + WeChatUIDPrefix + ", which names WeChat players"
		}
		if strings.HasPrefix(h.User.Uid, GuestUIDPrefix) {
			return nil, claims, messages.CodeBadUser, "user.uid may not start with " + GuestUIDPrefix + ", which names guests"
		}
		return h.User, claims, "", ""
	}
	if h.Token == "" {
		return nil, claims, messages.CodeTokenRequired, "this server needs a token from POST /login (WeChat) or POST /guest (guest play): in hello.token, or for Socket.IO in the handshake auth {token} or ?token="
	}
	var err error
	claims, err = s.d.settings.Auth.Verify(h.Token, s.d.settings.Clock.Now())
	switch {
	case errors.Is(err, auth.ErrExpired):
		return nil, claims, messages.CodeTokenExpired, "the token has expired; log in again"
	case err != nil:
		return nil, claims, messages.CodeBadToken, "the token is not valid; log in again"
	}
	user = &messages.User{Uid: claims.Sub, Uname: claims.Uname, Uavatar: claims.Uavatar}
	if u := h.GetUser(); u != nil {
		if u.Uname != "" {
			user.Uname = u.Uname
		}
		if u.Uavatar != "" {
			user.Uavatar = u.Uavatar
		}
	}
	if problem := checkUser(user); problem != "" {
		return nil, claims, messages.CodeBadUser, problem
	}
	return user, claims, "", ""
}

func (s *session) register(ctx actor.Context) {
	ctx.Request(s.d.playersOf(s.user.Uid), &messages.Register{Uid: s.user.Uid, Uname: s.user.Uname, Uavatar: s.user.Uavatar, SinceUnixNano: s.since})
	stopTimer(s.attach)
	s.attach = sendAfter(ctx, s.d.settings.Clock, min(attachRetry, s.d.settings.AttachTimeout), &messages.AttachTimeout{})
}

// attachRetry is how often a session asks again for its player. In a
// cluster the player's member may have just died; the next ask goes where
// the member list then places it. Register is idempotent.
const attachRetry = time.Second

// handleReattach: the directory lost its players; register again, and
// keep asking until a player answers.
func (s *session) handleReattach(ctx actor.Context) {
	if s.player != nil && !s.gone {
		s.player = nil
		s.register(ctx)
	}
}

func (s *session) handleAttachTimeout(ctx actor.Context) {
	switch {
	case s.phase == attaching && s.d.settings.Clock.Now().Before(s.att.by):
		s.register(ctx)
	case s.phase == attaching:
		s.phase, s.att, s.attach = greeting, nil, nil
		s.sendError(messages.CodeServerBusy, "the player service did not answer; send hello again")
	case s.player == nil && s.user != nil && !s.gone:
		s.register(ctx) // reattaching after the directory died
	}
}

func (s *session) handleAttached(ctx actor.Context, msg *messages.Attached) {
	if msg.Banned {
		s.handleBanned(ctx)
		return
	}
	if s.phase != attaching {
		// A player actor made again after a failure, or the answer to a
		// join's refresh: it is ours now, and so is its standing while no
		// round of ours runs.
		if s.phase != greeting && !s.gone {
			dropTimer(&s.attach)
			s.player = msg.Player
			if s.phase == idle || s.phase == queued {
				s.standing = rules.Standing{Total: msg.TotalScore, Streak: msg.WinStreak}
				if msg.LastRound != "" {
					s.leftRound = msg.LastRound
				}
				if until := time.UnixMilli(msg.BusyUntilUnixMs); msg.BusyUntilUnixMs != 0 && until.After(s.d.settings.Clock.Now()) {
					// Another session's round still holds the seat: wait for
					// it (Free, or its time), then ask again.
					s.busyUntil, s.stale = until, true
				}
			}
			if w := s.wait; s.phase == queued && w != nil && !w.refreshBy.IsZero() {
				w.refreshBy = time.Time{}
				s.sendJoin(ctx)
			}
		}
		return
	}
	dropTimer(&s.attach)
	dropTimer(&s.hello)
	s.player = msg.Player
	s.standing = rules.Standing{Total: msg.TotalScore, Streak: msg.WinStreak}
	s.phase = idle
	if msg.BusyUntilUnixMs != 0 {
		s.busyUntil, s.stale = time.UnixMilli(msg.BusyUntilUnixMs), true
	}
	s.leftRound = msg.LastRound
	hi := &messages.Hi{
		Message: "welcome", Nearby: msg.Online,
		TotalScore: msg.TotalScore, WinStreak: msg.WinStreak,
	}
	s.offerResume(ctx, hi)
	s.send(&messages.Envelope{Body: &messages.Envelope_Hi{Hi: hi}})
	pending := s.att.pending
	s.att = nil
	for _, env := range pending {
		s.handleClient(ctx, env)
	}
}

// handleBanned: the player refused the session, its uid is banned. A
// hello waiting for the player is refused, and the connection waits for
// another (handshake_timeout closes it); a session already playing (a
// player made again after a failure) is closed.
func (s *session) handleBanned(ctx actor.Context) {
	if s.phase != attaching {
		if s.phase != greeting && !s.gone {
			s.sendError(messages.CodeBanned, "this player is banned")
			s.conn.Close(messages.CloseBanned, "banned by an operator")
			ctx.Stop(ctx.Self())
		}
		return
	}
	dropTimer(&s.attach)
	s.phase, s.att, s.user = greeting, nil, nil
	s.sendError(messages.CodeBanned, "this player is banned by the server's operator")
}

func (s *session) handleJoin(ctx actor.Context) {
	if s.phase != idle {
		s.sendError(messages.CodeAlreadyQueued, "already waiting for a seat or playing a round")
		return
	}
	if s.d.settings.Busy != nil && s.d.settings.Busy() {
		s.sendError(messages.CodeServerBusy, "the server is near its memory limit; join again in a moment")
		return
	}
	s.phase = queued
	now := s.d.settings.Clock.Now()
	s.wait = &waitState{joinedAt: now, ticket: uint64(now.UnixNano()), afterLeave: s.leftUnseated} // the ticket grows across sessions of one uid
	s.leftUnseated = false
	s.sendJoin(ctx)
}

// sendJoin sends (or repeats) the current join, and sets the next repeat.
func (s *session) sendJoin(ctx actor.Context) {
	w := s.wait
	if !s.busyUntil.IsZero() {
		if wait := s.busyUntil.Sub(s.d.settings.Clock.Now()); wait > 0 {
			// Another session of the uid still sits in a round: no lobby
			// hears of this join before it ends (Free) or its time is up.
			s.rejoinIn(ctx, min(wait, rejoinEvery))
			return
		}
		s.busyUntil = time.Time{}
	}
	now := s.d.settings.Clock.Now()
	if s.stale && s.player != nil {
		// Ask the player for the standing that round left before joining;
		// its Attached sends the join (or, unanswered, the tick at
		// refreshBy).
		s.stale, w.refreshBy = false, now.Add(refreshWait)
		ctx.Request(s.d.playersOf(s.user.Uid), &messages.Register{Uid: s.user.Uid, Uname: s.user.Uname, Uavatar: s.user.Uavatar, SinceUnixNano: s.since, Reload: true})
		s.rejoinIn(ctx, refreshWait)
		return
	}
	if now.Before(w.refreshBy) {
		return // a tick set before the refresh: the join waits for Attached
	}
	lobby := s.d.lobbyPID()
	if !slices.ContainsFunc(w.lobbies, lobby.Equal) {
		if w.lobbies == nil {
			w.lobbies = w.first[:0]
		}
		w.lobbies = append(w.lobbies, lobby)
	}
	ctx.Request(lobby, &messages.JoinQueue{
		Seat: &messages.SeatInfo{
			Uid: s.user.Uid, Uname: s.user.Uname, Uavatar: s.user.Uavatar,
			Session: ctx.Self(), TotalScore: s.standing.Total, WinStreak: s.standing.Streak,
			Player: s.player, TakesOffers: true,
		},
		Ticket:         w.ticket,
		JoinedAtUnixMs: w.joinedAt.UnixMilli(),
		LastRound:      s.leftRound,
	})
	s.rejoinIn(ctx, rejoinEvery)
}

// refreshWait is how long a join waits for the player's fresh standing
// before it goes with the one the session has.
const refreshWait = 300 * time.Millisecond

// handleJoinHeld: the lobby holds this join while another session of the
// uid sits in a round it opened. The session waits until that round is
// over, then asks its player for the standing it left.
func (s *session) handleJoinHeld(ctx actor.Context, msg *messages.JoinHeld) {
	if s.phase != queued || s.wait == nil {
		return
	}
	if !s.wait.acked {
		s.wait.acked = true
		s.send(&messages.Envelope{Body: &messages.Envelope_Queued{Queued: &messages.Queued{Waiting: 1}}})
	}
	until := time.UnixMilli(msg.UntilUnixMs)
	if until.After(s.busyUntil) {
		s.busyUntil = until
	}
	s.stale = true
	s.rejoinIn(ctx, min(max(s.busyUntil.Sub(s.d.settings.Clock.Now()), heldAgain), rejoinEvery))
}

// heldAgain is the least a held join waits before it is sent again: a
// lobby on a member whose clock is behind this one's holds it past the
// time it named, and a join repeated at once would only be held again.
const heldAgain = 100 * time.Millisecond

func (s *session) rejoinIn(ctx actor.Context, d time.Duration) {
	if s.rejoin == nil {
		s.rejoin = sendAfter(ctx, s.d.settings.Clock, d, &messages.RejoinTick{})
	} else {
		s.rejoin.Reset(d)
	}
}

func (s *session) stopWaiting(ctx actor.Context) {
	stopTimer(s.rejoin)
	s.wait = nil
	s.declineOffer(ctx)
}

// leaveLobbies takes the player out of every lobby its join went to. In a
// cluster the lobby moves when members come and go, and a lobby that
// stopped seating may still hold a repeated join.
func (s *session) leaveLobbies(ctx actor.Context) {
	if s.wait == nil {
		return
	}
	for _, l := range s.wait.lobbies {
		ctx.Request(l, &messages.LeaveQueue{Uid: s.user.Uid})
	}
}

func (s *session) handleChoice(ctx actor.Context, c *messages.Choice) {
	if !rules.ValidChoice(c.Choice) {
		s.sendError(messages.CodeInvalidChoice, "choice must be 1 (scissors), 2 (rock) or 3 (paper)")
		return
	}
	if s.phase != inRound {
		s.sendError(messages.CodeNotPlaying, "no round is in progress")
		return
	}
	s.submitMove(ctx, &messages.SubmitChoice{RoundId: s.round, Uid: s.user.Uid, Choice: c.Choice, RelaySince: s.moveAt})
}

func (s *session) handleFace(ctx actor.Context, f *messages.Face) {
	if !rules.ValidFace(f.Face) {
		s.sendError(messages.CodeInvalidFace, "face must be 1 to 4")
		return
	}
	if s.phase != inRound {
		s.sendError(messages.CodeNotPlaying, "no round is in progress")
		return
	}
	s.submitMove(ctx, &messages.SubmitFace{RoundId: s.round, Uid: s.user.Uid, Face: f.Face, RelaySince: s.moveAt})
}

func (s *session) handleLeave(ctx actor.Context) {
	switch s.phase {
	case queued:
		s.leaveLobbies(ctx)
		s.stopWaiting(ctx)
		s.phase, s.leftUnseated = idle, true
	case inRound:
		ctx.Request(s.room, &messages.LeaveRoom{RoundId: s.round, Uid: s.user.Uid})
		s.endRound(ctx)
	default:
		s.sendError(messages.CodeNotPlaying, "not waiting and not in a round")
	}
}

// handleOffer takes a seat a room offers, unless this session is not
// waiting for one, already took another, or another session of the uid
// still sits in a round: then it declines, and the room gives the seat to
// a bot before any client hears of the round.
func (s *session) handleOffer(ctx actor.Context, msg *messages.SeatOffer) {
	room, round := ctx.Sender(), msg.GetStart().GetRoundId()
	if room == nil || round == "" {
		return
	}
	busy := !s.busyUntil.IsZero() && s.d.settings.Clock.Now().Before(s.busyUntil)
	if s.phase != queued || s.taken() != nil || busy || s.gone {
		ctx.Request(room, &messages.LeaveRoom{RoundId: round, Uid: s.user.Uid, Declined: true})
		return
	}
	if s.seatShowsAnother(msg.GetStart()) {
		// An old join of ours seated us (held up in a paused member, or
		// read by a lobby that moved): its seat shows a standing we no
		// longer hold, and the round would score from another. The lobby
		// counts us seated, so queue anew.
		s.withdrawn, s.leftRound = round, round
		ctx.Request(room, &messages.LeaveRoom{RoundId: round, Uid: s.user.Uid, Declined: true})
		s.wait.ticket = uint64(s.d.settings.Clock.Now().UnixNano())
		s.sendJoin(ctx)
		return
	}
	// No joins while the seat is held (a lobby that seated the session
	// again would be declined); the rejoin timer wakes it when the offer
	// lapses.
	now := s.d.settings.Clock.Now()
	s.wait.offer = seatOffer{room: room, round: round, by: now.Add(offerWait)}
	s.rejoinIn(ctx, offerWait)
	if s.player != nil {
		// The player learns of the seat now, not at the start: this
		// session may die before the start reaches it while the round
		// runs on, and a new session of the uid must wait for it. The
		// start comes within offerWait, or the seat is a bot's.
		deadline := now.Add(offerWait + time.Duration(msg.GetStart().GetGameTimeMs())*time.Millisecond)
		ctx.Request(s.player, &messages.Seated{Uid: s.user.Uid, RoundId: round, DeadlineUnixMs: deadline.UnixMilli()})
	}
	ctx.Request(room, &messages.SeatTaken{RoundId: round, Uid: s.user.Uid})
}

// seatShowsAnother reports whether start seats this session's uid with a
// standing other than the one the session holds.
func (s *session) seatShowsAnother(start *messages.Start) bool {
	for _, u := range start.GetRoomUsers() {
		if u.Uid == s.user.Uid {
			return u.TotalScore != s.standing.Total || u.WinStreak != s.standing.Streak
		}
	}
	return false
}

// declineOffer gives back the seat this session took and still waits to
// start: it leaves the queue, or stops.
func (s *session) declineOffer(ctx actor.Context) {
	o := s.taken()
	if o == nil {
		return
	}
	room, round := o.room, o.round
	*o = seatOffer{}
	s.withdrawn = round
	ctx.Request(room, &messages.LeaveRoom{RoundId: round, Uid: s.user.Uid, Declined: true})
}

// dropOffer forgets a seat whose round will not start for this session
// (the room withdrew it, or said nothing in time), and queues again with a
// new ticket, so that the lobby, which counts it seated, seats it anew.
// Terminated of the room does not drop it: that also comes when only the
// link to the room's member was reset, and the room, alive, may have begun
// the round with this seat listed; offerWait bounds the wait.
func (s *session) dropOffer(ctx actor.Context) {
	o := s.taken()
	room, round := o.room, o.round
	s.withdrawn, s.leftRound = round, round
	*o = seatOffer{}
	// A room that is alive after all (only the link to it dropped) must
	// neither wait for nor score a seat whose client never saw its start.
	ctx.Request(room, &messages.LeaveRoom{RoundId: round, Uid: s.user.Uid, Declined: true})
	if s.phase == queued {
		s.wait.ticket = uint64(s.d.settings.Clock.Now().UnixNano())
		s.sendJoin(ctx)
	}
}

func (s *session) handleLobbyError(ctx actor.Context, msg *messages.Error) {
	if s.phase == queued && (msg.Code == messages.CodeDraining || msg.Code == messages.CodeServerBusy) {
		s.stopWaiting(ctx)
		s.phase = idle
	}
	s.sendError(msg.Code, msg.Message)
}

// handleStart seats the session in a round. A start that comes after the
// player left the queue is answered by leaving that room at once.
func (s *session) handleStart(ctx actor.Context, msg *messages.Start) {
	room := ctx.Sender()
	if room == nil {
		return
	}
	o := s.taken()
	taken := o != nil && o.room.Equal(room) && o.round == msg.RoundId
	if s.phase != queued || (o != nil && !taken) || msg.RoundId == s.withdrawn {
		// Seated twice (a lobby that was made again saw a repeated join), or
		// after leaving the queue: decline, so that round neither waits for
		// nor scores this player.
		ctx.Request(room, &messages.LeaveRoom{RoundId: msg.RoundId, Uid: s.user.Uid, Declined: true})
		return
	}
	if taken {
		*o = seatOffer{}
	}
	if len(s.wait.lobbies) > 1 || s.wait.afterLeave {
		s.leaveLobbies(ctx) // a lobby that did not seat this join must not later
	}
	s.stopWaiting(ctx)
	s.phase = inRound
	s.room, s.round = room, msg.RoundId
	s.debug("session: seated")
	s.roundEnd = s.d.settings.Clock.Now().Add(time.Duration(msg.GameTimeMs) * time.Millisecond)
	s.start = msg
	if !taken { // a taken offer was answered with SeatTaken, and the player told, then
		if s.player != nil {
			ctx.Request(s.player, &messages.Seated{Uid: s.user.Uid, RoundId: msg.RoundId, DeadlineUnixMs: s.roundEnd.UnixMilli()})
		}
		ctx.Request(room, &messages.SeatTaken{RoundId: msg.RoundId, Uid: s.user.Uid})
	}
	if remote(ctx, room) {
		ctx.Watch(room) // a room here says its end itself (room.handleStopping)
	}
	// The rejoin timer is idle while seated: it wakes the session when the
	// room's last word is overdue.
	s.rejoinIn(ctx, s.roundEnd.Add(s.roomLastWord()).Sub(s.d.settings.Clock.Now()))
	s.send(&messages.Envelope{Body: &messages.Envelope_Start{Start: msg}})
}

// roomLastWord is how long after its deadline a room has surely said how
// its round ended (its settle window and final asks), with one retry's
// time for the message to arrive.
func (s *session) roomLastWord() time.Duration {
	return s.d.settings.settleWithin() + (finalAsks+1)*s.d.settings.SettleRetry
}

// checkRoomHeard takes a room that said nothing by its last word for a
// lost one. A member cut off by a blackhole gives no Terminated until the
// transport gives up, which can take longer than a client may wait.
func (s *session) checkRoomHeard(ctx actor.Context) {
	if s.lost != nil || s.room == nil {
		return
	}
	if wait := s.roundEnd.Add(s.roomLastWord()).Sub(s.d.settings.Clock.Now()); wait > 0 {
		s.rejoinIn(ctx, wait)
		return
	}
	ctx.Logger().Warn("session: no word from the room by its round's last word; asking the player", "uid", s.user.Uid, "round", s.round)
	s.handleRoomGone(ctx, &messages.RoomGone{RoundId: s.round})
}

func (s *session) handleResult(ctx actor.Context, msg *messages.Result) {
	if !s.fromRoom(ctx) || msg.RoundId != s.round {
		return
	}
	for _, r := range msg.Result {
		if r.Uid == s.user.Uid {
			s.standing = rules.Standing{Total: r.TotalScore, Streak: r.WinStreak}
		}
	}
	s.endRound(ctx)
	s.send(&messages.Envelope{Body: &messages.Envelope_Result{Result: msg}})
}

// handleTerminated: a room on another member that dies without a word
// (its member died) still ends the round for this client. Terminated is a
// system message and overtakes the room's last user messages (its
// result), so the session first lets those through by queueing RoomGone
// behind them.
func (s *session) handleTerminated(ctx actor.Context, msg *actor.Terminated) {
	if rc, ok := s.conn.(*remoteConn); ok && rc.pipe.Equal(msg.Who) && !s.gone {
		s.pipeClosed(ctx, true) // the pipe's member died with the connection
		return
	}
	if s.phase == inRound && s.room.Equal(msg.Who) {
		ctx.Send(ctx.Self(), &messages.RoomGone{RoundId: s.round})
	}
}

// handleRoomGone: the room is gone, or (Terminated also comes when only
// the connection to its member dropped) its result may be lost. The
// session does not guess: it asks its player actor, which either applied
// the round (and says how it ended) or will now never apply it.
func (s *session) handleRoomGone(ctx actor.Context, msg *messages.RoomGone) {
	if s.phase != inRound || s.round != msg.RoundId || s.lost != nil {
		return
	}
	if msg.Result.GetRoundId() == s.round && s.room.Equal(ctx.Sender()) {
		s.computed = msg.Result // the room settled and heard no word from the player
	}
	// Past the window the player refuses the round by itself, so a void
	// is true even with no answer (unless the player stored the round
	// before and has been cut off since); the session asks for as long as
	// the client may wait, for a link that comes back to bring the answer.
	by := s.roundEnd.Add(max(lostRoundWait, s.d.settings.settleWithin()+s.d.settings.SettleRetry))
	s.lost = &lostRound{by: by}
	s.askLost(ctx, s.player)
}

// lostRoundWait is how long after its deadline a session asks about a lost
// round before it voids it unanswered: a client connected at the deadline
// hears the end within 5 s of it.
const lostRoundWait = 4500 * time.Millisecond

// lostAskEvery is how often a session asks its player again about a lost
// round.
const lostAskEvery = 300 * time.Millisecond

// askLost asks to (the directory when nil) about the lost round, and sets
// the next ask.
func (s *session) askLost(ctx actor.Context, to *actor.PID) {
	if to == nil {
		to = s.d.playersOf(s.user.Uid)
	}
	ctx.Request(to, &messages.AbortRound{Uid: s.user.Uid, RoundId: s.round})
	s.lost.retry = sendAfter(ctx, s.d.settings.Clock, lostAskEvery, &messages.AbortRetry{RoundId: s.round})
}

func (s *session) handleAbortRetry(ctx actor.Context, msg *messages.AbortRetry) {
	if s.lost == nil || msg.RoundId != s.round {
		return
	}
	if a := s.lost.applied; a != nil {
		if !s.d.settings.Clock.Now().Before(s.lost.by) {
			s.endLost(ctx, a, nil) // the client gets its own line
			return
		}
		s.askSeats(ctx)
		return
	}
	now := s.d.settings.Clock.Now()
	if !s.lost.read && s.d.store != nil && !now.Before(s.roundEnd.Add(s.d.settings.settleWithin()+s.d.settings.SettleRetry)) {
		s.readLost(ctx)
	}
	if !now.Before(s.lost.by) {
		s.giveUpLost(ctx)
		return
	}
	s.askLost(ctx, nil)
}

// readLost asks the store about the lost round once its settle window has
// closed: no player applies it after that, so what the store holds is its
// fate (refused there, unless stored), and a session cut off from its
// player's member (not from the store) learns it there.
func (s *session) readLost(ctx actor.Context) {
	s.lost.read = true
	store, root, self, uid, round := s.d.store, s.d.system.Root, ctx.Self(), s.user.Uid, s.round
	go func() {
		rec, err := refuseUnlessStored(store, uid, round)
		root.Send(self, lostRead{round: round, rec: rec, err: err})
	}()
}

func (s *session) handleLostRead(ctx actor.Context, msg lostRead) {
	if s.lost == nil || msg.round != s.round || s.lost.applied != nil || msg.err != nil {
		return // an error leaves the asking to go on
	}
	for _, r := range msg.rec.Recent {
		if r.RoundID == msg.round {
			a := &messages.RoundApplied{Uid: s.user.Uid, RoundId: r.RoundID,
				RoundScore: r.RoundScore, TotalScore: r.Total, WinStreak: r.Streak}
			if res := storedResult(msg.rec, msg.round); res != nil {
				s.endLost(ctx, a, res) // the record keeps the whole result
				return
			}
			s.lost.applied = a
			stopTimer(s.lost.retry) // askSeats sets the next
			s.askSeats(ctx)
			return
		}
	}
	s.voidLost(ctx, "the room stopped, and the round was not stored")
}

// handleLostApplied: the player stored the round; its result is the end.
// A player that no longer holds the room's result (it was made again) gives
// the stored line only: the other seats' players are asked for the rest.
func (s *session) handleLostApplied(ctx actor.Context, msg *messages.RoundApplied) {
	if s.lost == nil || msg.RoundId != s.round || msg.Uid != s.user.Uid || s.lost.applied != nil {
		return
	}
	if msg.Result != nil {
		s.endLost(ctx, msg, msg.Result)
		return
	}
	s.lost.applied = msg
	stopTimer(s.lost.retry) // askSeats sets the next
	s.askSeats(ctx)
}

// askSeats asks every other human seat's player for the lost round's result,
// unless the room sent it as it settled.
func (s *session) askSeats(ctx actor.Context) {
	if c := s.computed; c != nil && c.RoundId == s.round {
		s.endLost(ctx, s.lost.applied, c)
		return
	}
	asked := false
	for _, u := range s.start.GetRoomUsers() {
		if u.Uid != s.user.Uid && !strings.HasPrefix(u.Uid, "bot-") {
			ctx.Request(s.d.playersOf(u.Uid), &messages.ResultQuery{Uid: u.Uid, RoundId: s.round})
			asked = true
		}
	}
	if !asked {
		s.endLost(ctx, s.lost.applied, nil) // nobody else holds it
		return
	}
	s.lost.retry = sendAfter(ctx, s.d.settings.Clock, lostAskEvery, &messages.AbortRetry{RoundId: s.round})
}

// endLost ends the lost round with result (nil: the stored line alone),
// this player's line as stored.
func (s *session) endLost(ctx actor.Context, a *messages.RoundApplied, result *messages.Result) {
	if result == nil {
		result = &messages.Result{RoundId: a.RoundId, Result: []*messages.PlayerResult{{Uid: s.user.Uid}}}
	} else {
		result = proto.Clone(result).(*messages.Result)
	}
	for _, line := range result.Result {
		if line.Uid == s.user.Uid {
			line.RoundScore, line.TotalScore, line.WinStreak = a.RoundScore, a.TotalScore, a.WinStreak
		}
	}
	s.standing = rules.Standing{Total: a.TotalScore, Streak: a.WinStreak}
	s.endRound(ctx)
	s.send(&messages.Envelope{Body: &messages.Envelope_Result{Result: result}})
}

// giveUpLost ends a lost round whose fate nothing in reach could tell:
// the player's member and the store are cut off, and the player may have
// stored the round. A void would say that no score changed, which may be
// false. So a client of our protocol is sent away instead (1013): it
// connects again, to another node or here once the link is back, and its
// hi shows what the player holds. Socket.IO clients get the void: the
// 2016 page knows no reconnect state and would hang at its countdown
// (it sees the void as a result that changes nothing).
func (s *session) giveUpLost(ctx actor.Context) {
	if rc, ok := s.conn.(resumableConn); ok && rc.Resumable() {
		ctx.Logger().Warn("session: nothing in reach knows how a lost round ended; closing the connection", "uid", s.user.Uid, "round", s.round)
		s.endRound(ctx)
		s.conn.Close(messages.CloseTryAgain, "this server cannot learn how your round ended; connect again")
		ctx.Stop(ctx.Self())
		return
	}
	ctx.Logger().Warn("session: the player actor did not answer for a lost round; void", "uid", s.user.Uid, "round", s.round)
	s.voidLost(ctx, "the room stopped, and the player's server did not answer")
}

func (s *session) voidLost(ctx actor.Context, reason string) {
	round := s.round
	s.endRound(ctx)
	s.send(&messages.Envelope{Body: &messages.Envelope_Void{Void: &messages.Void{RoundId: round, Reason: reason}}})
}

func (s *session) endRound(ctx actor.Context) {
	if s.room != nil && remote(ctx, s.room) {
		ctx.Unwatch(s.room)
	}
	if s.round != "" {
		s.leftRound = s.round
	}
	s.room, s.round, s.start, s.computed = nil, "", nil, nil
	s.phase = idle
	stopTimer(s.rejoin) // checkRoomHeard's
	if s.lost != nil {
		stopTimer(s.lost.retry)
		s.lost = nil
	}
}

func (s *session) fromRoom(ctx actor.Context) bool {
	return s.phase == inRound && s.room.Equal(ctx.Sender())
}

// handleStopping leaves whatever the session was part of, and closes the
// socket if it is still open (the session died, not the connection).
func (s *session) handleStopping(ctx actor.Context) {
	s.debug("session: ended", "connection_gone", s.gone)
	if s.user != nil {
		// It may have registered with this member's directory, which
		// counts it online until told (see SessionEnded).
		ctx.Send(s.d.players, &messages.SessionEnded{Session: ctx.Self()})
	}
	stopTimer(s.attach)
	stopTimer(s.hello)
	if s.lost != nil {
		stopTimer(s.lost.retry)
	}
	if s.resume != nil {
		stopTimer(s.resume.expiry)
	}
	if rs := s.resuming; rs != nil {
		stopTimer(rs.timer)
		if !rs.relaying {
			s.d.handovers.take(rs.handover) // not taken: nobody else holds our connection
		}
	}
	switch s.phase {
	case queued:
		s.leaveLobbies(ctx) // before stopWaiting, which forgets the lobbies
	case inRound:
		ctx.Request(s.room, &messages.LeaveRoom{RoundId: s.round, Uid: s.user.Uid})
	}
	s.stopWaiting(ctx)
	if s.player != nil {
		ctx.Send(s.player, &messages.Detach{Session: ctx.Self(), LastRound: s.leftRound})
	}
	s.conn.Close(messages.CloseSessionFailed, "the session ended; reconnect to go on")
}

func (s *session) send(env *messages.Envelope) {
	if s.resume != nil {
		s.resume.number(env)
	}
	s.conn.Send(env)
}

func (s *session) sendError(code, text string) {
	s.d.metrics.MessagesRejected.WithLabelValues(code).Inc()
	if ack := s.ack; ack != nil {
		s.ack = nil
		ack(code, text)
		return
	}
	s.send(&messages.Envelope{Body: &messages.Envelope_Error{Error: &messages.Error{Code: code, Message: text}}})
}
