package actors

import (
	"errors"
	"log/slog"
	"time"

	"github.com/caiquan/caiquan/auth"
)

// Settings are the game's timings and sizes, and the sources of time and
// chance, so that a test can replay a room exactly.
type Settings struct {
	RoomSize       int
	RoundTime      time.Duration
	BotFill        time.Duration
	BotFirstChoice time.Duration
	BotRechooseMin time.Duration
	BotRechooseMax time.Duration
	// SettleRetry is how long a room waits for player actors to confirm a
	// round before it asks again. SettleAttempts of them make a round's
	// settle window (settleWithin): a player actor applies a round only
	// within it after the deadline, and a room that has no answer from a
	// player by then asks a few times more (the answer is final now:
	// applied, or refused for good) and ends the round for that seat
	// without claiming a score it cannot show stored.
	SettleRetry    time.Duration
	SettleAttempts int
	// AttachTimeout is how long hello waits for the player actor.
	AttachTimeout time.Duration
	// HandshakeTimeout is how long a connection has to get a hello accepted
	// (a refused token does not count); zero means no limit.
	HandshakeTimeout time.Duration

	Clock Clock
	Seed  uint64

	// Auth checks the token of a hello; nil is anonymous mode, where the
	// client names its uid.
	Auth Verifier
	// ContentCheck, when set (WeChat mode), sees a hello's name before the
	// player is admitted; nil shows names unchecked.
	ContentCheck ContentChecker

	// ResumeWindow is how long a session whose connection dropped keeps
	// its seat for a new connection to resume it (resume.go); 0: no
	// resume.
	ResumeWindow time.Duration

	// Busy, when set and true, refuses new rounds with server_busy (the
	// process is near its memory limit).
	Busy func() bool

	// Placement places the shared actors in a cluster; nil is a single
	// node.
	Placement Placement

	// MinProtocol is the oldest client protocol version a hello may name;
	// 0 is MinProtocolVersion. Tests raise it to see a refusal.
	MinProtocol uint32

	// Log receives the actors' own lines (docs/logging.md names their
	// attributes); nil is the actor system's logger.
	Log *slog.Logger
}

func (s Settings) minProtocol() uint32 {
	if s.MinProtocol == 0 {
		return MinProtocolVersion
	}
	return s.MinProtocol
}

// Verifier checks session tokens (auth.Signer). Its errors are
// auth.ErrExpired or any other refusal.
type Verifier interface {
	Verify(token string, now time.Time) (auth.Claims, error)
}

// WeChatUIDPrefix starts every uid that auth derives from an openid, and
// GuestUIDPrefix every guest's; an anonymous client may claim neither.
const (
	WeChatUIDPrefix = auth.UIDPrefix
	GuestUIDPrefix  = auth.GuestPrefix
)

func (s Settings) validate() error {
	switch {
	case s.RoomSize < 2:
		return errors.New("actors: room size below 2")
	case s.RoundTime <= 0 || s.BotFill <= 0:
		return errors.New("actors: round time and bot fill must be positive")
	case s.BotRechooseMin <= 0 || s.BotRechooseMax < s.BotRechooseMin:
		return errors.New("actors: bad bot rechoose range")
	case s.SettleRetry <= 0 || s.SettleAttempts < 1 || s.AttachTimeout <= 0:
		return errors.New("actors: bad settle or attach timing")
	case s.Clock == nil:
		return errors.New("actors: no clock")
	}
	return nil
}

// settleWithin is how long after a round's deadline its player actors may
// still apply it.
func (s Settings) settleWithin() time.Duration {
	return s.SettleRetry * time.Duration(s.SettleAttempts)
}
