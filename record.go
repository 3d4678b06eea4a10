package caiquan

import (
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
	// Renamed: an operator named the player (Uname); the names its
	// client shows are not kept over it.
	Renamed bool
	// Banned: an operator banned the uid; its hello and login are refused.
	Banned bool
	// LastLines is the whole result of the newest round in Recent, every
	// seat's line as its room computed it (nil when the room sent none): a
	// session that lost the room's result, on any member, shows it from
	// the record.
	LastLines []ResultLine
	// Refused are rounds a player actor of the uid refused for good
	// before it could apply them (its client was told they were void),
	// newest last: a player actor of the uid on another member, which did
	// not hear the refusal, finds it here when its Save of the round
	// meets this record (Writes), and refuses the round too.
	Refused []string
	// Writes counts the Saves that made this record. Save stores a record
	// only over the one it was made from (same Writes), and counts one
	// more: two player actors of one uid (for a moment while a cluster's
	// member list changes) cannot overwrite each other's rounds.
	Writes int64
}

// ResultLine is one seat's line of a round's result.
type ResultLine struct {
	UID    string
	Choice int32
	rules.Outcome
}

// ApplyRound applies a round's base score to rec once per round id. fresh
// is false when rec already holds the round: then next is rec and applied
// is what the round did when it was applied.
func ApplyRound(rec PlayerRecord, roundID string, base int) (next PlayerRecord, applied AppliedRound, fresh bool) {
	return ApplyRoundWith(rec, roundID, base, nil)
}

// ApplyRoundWith is ApplyRound that also keeps lines, the round's whole
// result, as the record's LastLines when the round is fresh. A round rec
// refused is not applied: next is rec, applied is zero and fresh false.
func ApplyRoundWith(rec PlayerRecord, roundID string, base int, lines []ResultLine) (next PlayerRecord, applied AppliedRound, fresh bool) {
	for _, r := range rec.Recent {
		if r.RoundID == roundID {
			return rec, r, false
		}
	}
	if rec.Refuses(roundID) {
		return rec, AppliedRound{}, false
	}
	out := rules.Apply(rec.Standing, base)
	next = rec
	next.Standing = out.Standing
	next.Rounds++
	next.LastLines = lines
	applied = AppliedRound{RoundID: roundID, Outcome: out}
	// A fresh slice: rec's backing array may be shared with the caller's copy.
	next.Recent = append(append(make([]AppliedRound, 0, len(rec.Recent)+1), rec.Recent...), applied)
	if len(next.Recent) > recentRounds {
		next.Recent = next.Recent[len(next.Recent)-recentRounds:]
	}
	return next, applied, true
}

// LastResult is the whole result of round as rec keeps it, or nil when rec
// keeps none for it (an older round, or a room that sent none).
func LastResult(rec PlayerRecord, round string) []ResultLine {
	if n := len(rec.Recent); n == 0 || rec.Recent[n-1].RoundID != round {
		return nil
	}
	return rec.LastLines
}

// refusedRounds is how many refused round ids a record keeps. A refusal
// matters only until the round's settle window closes, after which every
// player actor refuses the round by itself.
const refusedRounds = 8

// RefuseRound records round as refused for good. A round rec applied
// cannot be refused: then next is rec and ok is false.
func RefuseRound(rec PlayerRecord, round string) (next PlayerRecord, ok bool) {
	for _, r := range rec.Recent {
		if r.RoundID == round {
			return rec, false
		}
	}
	if rec.Refuses(round) {
		return rec, true
	}
	next = rec
	// A fresh slice: rec's backing array may be shared with the caller's copy.
	next.Refused = append(append(make([]string, 0, len(rec.Refused)+1), rec.Refused...), round)
	if len(next.Refused) > refusedRounds {
		next.Refused = next.Refused[len(next.Refused)-refusedRounds:]
	}
	return next, true
}

// Refuses reports whether rec holds round as refused.
func (rec PlayerRecord) Refuses(round string) bool {
	for _, r := range rec.Refused {
		if r == round {
			return true
		}
	}
	return false
}
