package caiquan

import "github.com/caiquan/caiquan/rules"

// RankedPlayer is one line of the leaderboard.
type RankedPlayer struct {
	Rank    int
	UID     string
	Uname   string
	Uavatar string
	rules.Standing
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
