package admin

import (
	"errors"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/caiquan/caiquan/actors"
)

// chaosRunner kills random actors of chosen kinds at a fixed rate for a
// while, and opens delay windows on this node's actors in between, one run
// at a time. Its loop is bounded by the run's end.
type chaosRunner struct {
	actors  Actors
	delayer Delayer // nil when the actors cannot be delayed
	log     *slog.Logger

	mu     sync.Mutex
	spec   chaosSpec
	st     ChaosStatus
	cancel chan struct{}
	once   *sync.Once // closes cancel
	done   chan struct{}
}

func newChaosRunner(a Actors, log *slog.Logger) *chaosRunner {
	d, _ := a.(Delayer)
	return &chaosRunner{actors: a, delayer: d, log: log, st: ChaosStatus{Kills: map[string]int{}, Windows: map[string]int{}}}
}

var errNoDelay = errors.New("this server cannot delay actors' messages")

func (c *chaosRunner) start(spec chaosSpec) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.Running {
		return errors.New("a chaos run is in progress; DELETE /chaos stops it")
	}
	if spec.delays != nil && c.delayer == nil {
		return errNoDelay
	}
	now := time.Now()
	if spec.seed == 0 {
		spec.seed = rand.Uint64N(1<<53-1) + 1
	}
	c.spec = spec
	c.st = ChaosStatus{
		Running: true, Kinds: spec.kinds, Modes: spec.modes, Every: spec.every.String(), Seed: spec.seed,
		Started: now, Ends: now.Add(spec.span), Kills: map[string]int{},
		Delays: spec.delays, Windows: map[string]int{},
	}
	c.cancel, c.done, c.once = make(chan struct{}), make(chan struct{}), new(sync.Once)
	go c.run(spec, c.cancel, c.done)
	c.log.Warn("admin: chaos started", "kinds", spec.kinds, "modes", spec.modes, "every", spec.every, "for", spec.span, "seed", spec.seed, "delays", spec.delays)
	return nil
}

func (c *chaosRunner) run(spec chaosSpec, cancel, done chan struct{}) {
	defer close(done)
	rng := rand.New(rand.NewPCG(spec.seed, 0xc4a05))
	tick := time.NewTicker(spec.every)
	defer tick.Stop()
	end := time.NewTimer(spec.span)
	defer end.Stop()
	for {
		select {
		case <-cancel:
			c.finish()
			return
		case <-end.C:
			c.finish()
			return
		case <-tick.C:
			// A run without delays draws nothing here, so its seed picks
			// the victims it picked before delays existed.
			if spec.delays != nil && rng.Float64() < spec.delays.Share {
				c.delayOne(spec, rng)
			} else {
				c.killOne(spec, rng)
			}
		}
	}
}

func (c *chaosRunner) killOne(spec chaosSpec, rng *rand.Rand) {
	// Pick a kind first, then one of its actors: a kind with few live
	// actors (the lobby, bots) is hit as often as one with thousands.
	byKind := map[string][]int{}
	var kinds []string
	live := c.actors.List(spec.kinds...)
	for i, a := range live {
		if byKind[a.Kind] == nil {
			kinds = append(kinds, a.Kind)
		}
		byKind[a.Kind] = append(byKind[a.Kind], i)
	}
	if len(kinds) == 0 {
		c.count(nil, "")
		return
	}
	of := byKind[kinds[rng.IntN(len(kinds))]]
	victim := live[of[rng.IntN(len(of))]]
	mode := spec.modes[rng.IntN(len(spec.modes))]
	if _, err := c.actors.Kill(victim.Node, victim.PID, "", "", mode); err != nil {
		c.count(nil, "") // it died on its own between the list and the kill
		return
	}
	c.count(&victim, mode)
}

// delayOne opens a delay window on this node's actors of a random kind of
// the run's delays; a window on a kind that has one replaces it.
func (c *chaosRunner) delayOne(spec chaosSpec, rng *rand.Rand) {
	w := spec.window
	w.Kind = spec.delays.Kinds[rng.IntN(len(spec.delays.Kinds))]
	w.Seed = rng.Uint64()>>11 + 1 // the drops' seed, below 2^53 as a JavaScript number holds it
	if err := c.delayer.SetDelay(w); err != nil {
		c.log.Warn("admin: chaos delay", "kind", w.Kind, "err", err)
		c.count(nil, "")
		return
	}
	c.mu.Lock()
	c.st.Windows[w.Kind]++
	c.mu.Unlock()
}

// count records a kill of victim, or a miss when victim is nil.
func (c *chaosRunner) count(victim *actors.ActorInfo, mode string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if victim == nil {
		c.st.Misses++
		return
	}
	c.st.Kills[victim.Kind+"/"+mode]++
	c.st.Total++
	if len(c.st.Recent) == MaxRecentKills {
		c.st.Recent = slices.Delete(c.st.Recent, 0, 1)
	}
	c.st.Recent = append(c.st.Recent, ChaosKill{
		At: time.Now(), Kind: victim.Kind, ID: victim.ID, PID: victim.PID, Node: victim.Node, Mode: mode,
	})
}

// finish ends the run, and the delay windows it opened with it: a stopped
// run leaves no fault behind.
func (c *chaosRunner) finish() {
	c.mu.Lock()
	c.st.Running = false
	c.st.Ended = time.Now()
	st := c.st
	opened := maps.Clone(c.st.Windows)
	c.mu.Unlock()
	for kind := range opened {
		if err := c.delayer.SetDelay(actors.DelaySpec{Kind: kind}); err != nil {
			c.log.Warn("admin: chaos: ending a delay", "kind", kind, "err", err)
		}
	}
	c.log.Warn("admin: chaos ended", "kills", st.Total, "misses", st.Misses, "windows", st.Windows)
}

// stop ends a run in progress and waits for its loop to end.
func (c *chaosRunner) stop() {
	c.mu.Lock()
	cancel, done, once := c.cancel, c.done, c.once
	c.mu.Unlock()
	if once == nil {
		return
	}
	once.Do(func() { close(cancel) })
	<-done
}

func (c *chaosRunner) status() ChaosStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.Now = time.Now()
	st.Kills = maps.Clone(c.st.Kills)
	st.Windows = maps.Clone(c.st.Windows)
	st.Recent = slices.Clone(c.st.Recent)
	if st.Recent == nil {
		st.Recent = []ChaosKill{}
	}
	return st
}
