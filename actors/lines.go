package actors

import (
	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/messages"
	"github.com/caiquan/caiquan/rules"
)

// resultLines is a room's computed result as a player record keeps it
// (PlayerRecord.LastLines); nil for none.
func resultLines(r *messages.Result) []caiquan.ResultLine {
	if len(r.GetResult()) == 0 {
		return nil
	}
	lines := make([]caiquan.ResultLine, len(r.Result))
	for i, l := range r.Result {
		lines[i] = caiquan.ResultLine{UID: l.Uid, Choice: l.Choice, Outcome: rules.Outcome{
			RoundScore: l.RoundScore, Standing: rules.Standing{Total: l.TotalScore, Streak: l.WinStreak},
		}}
	}
	return lines
}

// storedResult is round's result as rec keeps it, or nil when rec keeps
// none for it.
func storedResult(rec caiquan.PlayerRecord, round string) *messages.Result {
	lines := caiquan.LastResult(rec, round)
	if lines == nil {
		return nil
	}
	r := &messages.Result{RoundId: round, Result: make([]*messages.PlayerResult, len(lines))}
	for i, l := range lines {
		r.Result[i] = &messages.PlayerResult{Uid: l.UID, Choice: l.Choice, RoundScore: l.RoundScore, TotalScore: l.Total, WinStreak: l.Streak}
	}
	return r
}
