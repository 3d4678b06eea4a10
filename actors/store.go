package actors

import (
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/caiquan/caiquan/rules"
)

// recentRounds is how many applied round ids a player remembers, so that a
// retried settlement is answered from memory instead of applied again.
const recentRounds = 32

// AppliedRound is one round's effect on one player.
type AppliedRound struct {
	RoundID string
	rules.Outcome
}

// PlayerRecord is what survives a player actor: its standing, the rounds it
// applied last, and what the leaderboard shows of it. A record and its
// applied round ids are one value, written in one Save: a store never holds
// a total without the round that made it, which is what makes a retried
// settlement (or one retried after the process died between the write and
// the reply) apply once.
type PlayerRecord struct {
	rules.Standing
	Rounds   int
	Recent   []AppliedRound
	Uname    string
	Uavatar  string
	LastSeen time.Time
	// Writes counts the Saves that made this record. Save stores a record
	// only over the one it was made from (same Writes), and counts one
	// more: two player actors of one uid (for a moment while a cluster's
	// member list changes) cannot overwrite each other's rounds.
	Writes int64
}

// RankedPlayer is one line of the leaderboard.
type RankedPlayer struct {
	Rank    int
	UID     string
	Uname   string
	Uavatar string
	rules.Standing
}

// ErrStale is Save's answer for a record made from an older one than the
// store holds: load it again and redo the change.
var ErrStale = errors.New("store: the record changed since it was loaded")

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
}

// applyRound applies a round's base score to rec once per round id. fresh
// is false when rec already holds the round: then next is rec and applied
// is what the round did when it was applied.
func applyRound(rec PlayerRecord, roundID string, base int) (next PlayerRecord, applied AppliedRound, fresh bool) {
	for _, r := range rec.Recent {
		if r.RoundID == roundID {
			return rec, r, false
		}
	}
	out := rules.Apply(rec.Standing, base)
	next = rec
	next.Standing = out.Standing
	next.Rounds++
	applied = AppliedRound{RoundID: roundID, Outcome: out}
	// A fresh slice: rec's backing array may be shared with the caller's copy.
	next.Recent = append(append(make([]AppliedRound, 0, len(rec.Recent)+1), rec.Recent...), applied)
	if len(next.Recent) > recentRounds {
		next.Recent = next.Recent[len(next.Recent)-recentRounds:]
	}
	return next, applied, true
}

// ApplyRound is applyRound for store tests in other packages: what a player
// actor does with a settlement, without the actor.
func ApplyRound(rec PlayerRecord, roundID string, base int) (PlayerRecord, AppliedRound, bool) {
	return applyRound(rec, roundID, base)
}

// Less is the leaderboard order: total, higher first; then uid.
func Less(a, b RankedPlayer) bool {
	if a.Total != b.Total {
		return a.Total > b.Total
	}
	return a.UID < b.UID
}

// Ranker gives ranks to players fed to it in leaderboard order; stores that
// walk an index use it so that every store ranks alike.
type Ranker struct {
	pos, rank int
	last      int32
}

// Next returns p with its rank.
func (r *Ranker) Next(p RankedPlayer) RankedPlayer {
	r.pos++
	if r.pos == 1 || p.Total != r.last {
		r.rank, r.last = r.pos, p.Total
	}
	p.Rank = r.rank
	return p
}

// Window collects the lines around one uid from players fed in leaderboard
// order: Add each until it returns true (the window is full).
type Window struct {
	uid    string
	k      int
	ranker Ranker
	out    []RankedPlayer // the last k lines before uid, then uid and those after
	found  bool
	after  int
}

func NewWindow(uid string, k int) *Window { return &Window{uid: uid, k: k} }

// Add feeds the next player; true means nothing more is needed.
func (w *Window) Add(p RankedPlayer) bool {
	p = w.ranker.Next(p)
	switch {
	case w.found:
		w.out = append(w.out, p)
		w.after++
	case p.UID == w.uid:
		w.out = append(w.out, p)
		w.found = true
	case w.k > 0:
		if len(w.out) == w.k {
			w.out = append(w.out[:0], w.out[1:]...)
		}
		w.out = append(w.out, p)
	}
	return w.found && w.after == w.k
}

// Result is the window, or ErrNoPlayer when uid never came.
func (w *Window) Result() ([]RankedPlayer, error) {
	if !w.found {
		return nil, ErrNoPlayer
	}
	return w.out, nil
}

// MemoryStore keeps records as long as the process lives; for tests.
type MemoryStore struct {
	mu      sync.Mutex
	records map[string]PlayerRecord
}

func NewMemoryStore() *MemoryStore {
	return &MemoryStore{records: make(map[string]PlayerRecord)}
}

func (m *MemoryStore) Load(uid string) (PlayerRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.records[uid]
	rec.Recent = append([]AppliedRound(nil), rec.Recent...)
	return rec, nil
}

func (m *MemoryStore) Save(uid string, rec PlayerRecord) error {
	rec.Recent = append([]AppliedRound(nil), rec.Recent...)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.records[uid].Writes != rec.Writes {
		return ErrStale
	}
	rec.Writes++
	m.records[uid] = rec
	return nil
}

// ranked is every player on the leaderboard, in order, without ranks.
func (m *MemoryStore) ranked() []RankedPlayer {
	m.mu.Lock()
	out := make([]RankedPlayer, 0, len(m.records))
	for uid, rec := range m.records {
		if rec.Rounds > 0 {
			out = append(out, RankedPlayer{UID: uid, Uname: rec.Uname, Uavatar: rec.Uavatar, Standing: rec.Standing})
		}
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return Less(out[i], out[j]) })
	return out
}

func (m *MemoryStore) Top(n int) ([]RankedPlayer, error) {
	var r Ranker
	var out []RankedPlayer
	for _, p := range m.ranked() {
		if len(out) == n {
			break
		}
		out = append(out, r.Next(p))
	}
	return out, nil
}

func (m *MemoryStore) Around(uid string, k int) ([]RankedPlayer, error) {
	w := NewWindow(uid, k)
	for _, p := range m.ranked() {
		if w.Add(p) {
			break
		}
	}
	return w.Result()
}
