package actors

import (
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/caiquan/caiquan/messages"
)

// bot fills a seat: it chooses soon after start, then changes its mind at
// random until its room stops it. It plays through SubmitChoice, the same
// message a human's session sends.
type bot struct {
	settings Settings
	rng      *rand.Rand
	round    string
	uid      string
	tick     Timer
}

func botProps(d *deps, uid string, seed, stream uint64) *actor.Props {
	return d.inv.props(KindBot, uid, func() actor.Actor {
		return &bot{settings: d.settings, rng: rand.New(rand.NewPCG(seed, stream))}
	})
}

func (b *bot) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Stopping, *actor.Restarting:
		stopTimer(b.tick)
	case *messages.BotStart:
		b.round, b.uid = msg.RoundId, msg.Uid
		b.tick = sendAfter(ctx, b.settings.Clock, b.settings.BotFirstChoice, &messages.BotTick{RoundId: b.round})
	case *messages.BotTick:
		if msg.RoundId != b.round {
			return
		}
		ctx.Request(ctx.Parent(), &messages.SubmitChoice{RoundId: b.round, Uid: b.uid, Choice: 1 + b.rng.Int32N(3)})
		b.tick = sendAfter(ctx, b.settings.Clock, b.pause(), &messages.BotTick{RoundId: b.round})
	}
}

// pause is uniform in [BotRechooseMin, BotRechooseMax].
func (b *bot) pause() time.Duration {
	span := b.settings.BotRechooseMax - b.settings.BotRechooseMin
	return b.settings.BotRechooseMin + time.Duration(b.rng.Int64N(int64(span)+1))
}

var botNames = []string{"小明", "小红", "阿强", "Mimi", "Tofu", "Bao", "Lulu", "Kiki"}

func botName(seed int64, seat int) string {
	i := (uint64(seed) + uint64(seat)) % uint64(len(botNames))
	return botNames[i] + " (bot)"
}
