package actors

import (
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/caiquan/caiquan/messages"
)

// maxUnsure bounds the rounds a player keeps whose save may have been
// stored; each is settled at the next ask, so more than a few means the
// store has been out of reach for many rounds.
const maxUnsure = 8

// markUnsure notes that the owed rounds went out in a write whose outcome
// is unknown (caiquan.ErrMaybeStored): refusing one of them when its
// window closes could contradict the store.
func (p *player) markUnsure() {
	for _, m := range p.owed {
		if !p.isUnsure(m.RoundId) {
			p.keep.unsure = append(p.keep.unsure, m.RoundId)
		}
	}
	if n := len(p.keep.unsure); n > maxUnsure {
		p.keep.unsure = slices.Delete(p.keep.unsure, 0, n-maxUnsure)
	}
}

func (p *player) isUnsure(round string) bool { return slices.Contains(p.keep.unsure, round) }

func (p *player) forgetUnsure(round string) {
	p.keep.unsure = slices.DeleteFunc(p.keep.unsure, func(r string) bool { return r == round })
}

// settleUnsure asks the store what became of an unsure round: the refusal
// is written unless the round is there, which fences a write still on
// its way. It reports whether the store answered; then the round is either
// in p.rec or refused. When it did not, nobody may say: the player answers
// nothing, and its session gives the client a try-again (1013).
func (p *player) settleUnsure(round string) bool {
	rec, err := refuseUnlessStored(p.store, p.uid, round)
	if err != nil {
		p.d.log.Warn("player: a round whose save may have been stored cannot be looked up", "uid", p.uid, "round", round, "err", err)
		return false
	}
	p.rec = rec
	p.forgetUnsure(round)
	return true
}

// unsureAfterSave settles the unsure rounds once a save succeeded: that
// write was made over what the store held, so a round it does not hold
// was never stored and never will be (an earlier write still on its way
// meets the newer record and stores nothing).
func (p *player) unsureAfterSave(ctx noAnswer) {
	rounds := p.keep.unsure
	p.keep.unsure = nil
	for _, round := range rounds {
		if _, ok := p.find(round); !ok {
			p.refuse(ctx, round, "")
		}
	}
}

// answerUnsure answers a room's ask about an unsure round that is no longer
// owed (its window closed): with what the store holds, or not at all when
// the store cannot be reached, so the room's seat asks its session.
func (p *player) answerUnsure(ctx actor.Context, msg *messages.ApplyRound) {
	if !p.settleUnsure(msg.RoundId) {
		return
	}
	if r, ok := p.find(msg.RoundId); ok {
		p.keep.last = msg.Result
		ctx.Respond(p.applied(r))
		return
	}
	p.refuse(ctx, msg.RoundId, "the round's settle window has closed")
}

// settleUnsureRounds asks the store about every unsure round no longer
// owed: a client that comes back after a try-again must see its standing
// with the round or without it, as stored.
func (p *player) settleUnsureRounds() {
	for _, round := range slices.Clone(p.keep.unsure) {
		if !p.owes(round) && !p.settleUnsure(round) {
			return // still out of reach
		}
	}
}
