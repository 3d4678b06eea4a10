package caiquan

import (
	"errors"
	"strings"
	"time"
)

// WeChatPrefix begins the uid of every player who logged in with WeChat;
// any other uid is a guest's (anonymous mode, or a guest login), whose
// record expires when unseen for long (Store.Expire).
const WeChatPrefix = "wx_"

// IsGuest reports whether uid is not a WeChat player's.
func IsGuest(uid string) bool { return !strings.HasPrefix(uid, WeChatPrefix) }

// ErrStale is Save's answer for a record made from an older one than the
// store holds: load it again and redo the change.
var ErrStale = errors.New("store: the record changed since it was loaded")

// ErrTooLate is SaveBy's answer when its time had passed as the write
// reached the store: nothing was stored.
var ErrTooLate = errors.New("store: the write reached the store after its time")

// ErrMaybeStored marks a failed write whose outcome is unknown: it went out
// to a store across a network and no answer came back (a timeout, a
// connection lost mid-statement), so it may have been stored. Only a read
// that fences later writes (a compare-and-save) can tell; a writer must
// not act as if nothing was stored.
var ErrMaybeStored = errors.New("store: the write may have been stored")

// SaverBy is a Store whose writes may reach it late: a database across a
// network that was cut, where the client's write goes out once the link
// is back, long after the writer gave up on it. SaveBy is Save, except
// that the store decides, by its own clock as it writes, whether by has
// passed; then it stores nothing and returns ErrTooLate (or ErrStale, when
// it cannot tell the two apart; a reload and a retry then meet ErrTooLate).
// A player actor saves a round with its settle window's end as by: after
// that, a session may have told its client the round is void.
type SaverBy interface {
	SaveBy(uid string, rec PlayerRecord, by time.Time) error
}

// ErrNoPlayer is Around's answer for a uid that is not on the leaderboard:
// unknown, or it never finished a round.
var ErrNoPlayer = errors.New("store: no such player on the leaderboard")

// Store keeps player records. A player actor reads its record when it starts
// and writes it before it confirms a round, so a restarted actor neither
// forgets a score nor applies one twice. Only the player actor of a uid
// writes that uid's record.
//
// The leaderboard holds the players who finished at least one round, in
// one order for every store: total, higher first; then uid in byte order.
// Rank is competition ranking by total: players with equal totals share a
// rank, and the next total's rank counts them all ("1, 2, 2, 4").
type Store interface {
	Load(uid string) (PlayerRecord, error)
	// Save stores rec with Writes+1 if the stored record's Writes is
	// rec.Writes (0 for none), and returns ErrStale otherwise. It may keep
	// rec.Recent: a record's slice is never changed once made (applyRound
	// makes a new one).
	Save(uid string, rec PlayerRecord) error
	// Top returns the first n players of the leaderboard.
	Top(n int) ([]RankedPlayer, error)
	// Around returns uid's line with up to k lines before and after it;
	// ErrNoPlayer when uid is not on the leaderboard.
	Around(uid string, k int) ([]RankedPlayer, error)
	// Expire removes the records of guests (IsGuest) last seen before
	// before, and returns how many it removed. A record without a last
	// seen time (written by a tool, or by a release before it kept one)
	// is kept: its age is unknown. A WeChat player's record is never
	// removed.
	Expire(before time.Time) (int, error)
}

// ErrNoAvatar is Avatar's answer for a name no player's picture has.
var ErrNoAvatar = errors.New("store: no such avatar")

// Avatar is a player's picture as the server serves it: a PNG or JPEG it
// decoded and encoded itself (never the bytes a client sent), under a name
// made from the uid and the picture, so that a name says nothing more.
type Avatar struct {
	Name string
	Data []byte
}

// Players is what the player endpoints (POST /avatar, DELETE /me) need of
// a store beside Store. Pictures live in the store, not on a node's disk,
// so every node of a cluster serves every player's.
type Players interface {
	// PutAvatar makes a uid's avatar, replacing (and removing) the one it
	// had. A uid has at most one.
	PutAvatar(uid string, a Avatar) error
	// Avatar returns the picture named name, ErrNoAvatar when none is.
	Avatar(name string) (Avatar, error)
	// Delete removes uid's record, its leaderboard line and its avatar;
	// an unknown uid is no error. A later Save of uid starts afresh
	// (Writes 0). Expire removes an expired guest's avatar too.
	Delete(uid string) error
}
