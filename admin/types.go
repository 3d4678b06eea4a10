package admin

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/caiquan/caiquan/actors"
)

// ActorList answers GET /actors.
type ActorList struct {
	Actors []actors.ActorInfo `json:"actors"`
}

// KillRequest is the body of POST /kill: an actor by PID, or by kind and
// id. In a cluster, node (an actor's "node" in the list) names the member;
// without it a PID is this node's, and kind and id are looked for on every
// member.
type KillRequest struct {
	Node string `json:"node,omitempty"`
	PID  string `json:"pid,omitempty"`
	Kind string `json:"kind,omitempty"`
	ID   string `json:"id,omitempty"`
	Mode string `json:"mode,omitempty"` // stop (default), poison or panic
}

// KillResult answers POST /kill.
type KillResult struct {
	Killed actors.ActorInfo `json:"killed"`
	Mode   string           `json:"mode"`
}

// ChaosRequest is the body of POST /chaos. Durations are Go duration strings.
type ChaosRequest struct {
	Kinds []string `json:"kinds"`           // which kinds to kill (required unless Delays is set)
	Modes []string `json:"modes,omitempty"` // kill modes to pick from; all three by default
	Every string   `json:"every"`           // one fault per this interval, e.g. "100ms"
	For   string   `json:"for"`             // how long, e.g. "60s"; at most 1h
	Seed  uint64   `json:"seed,omitempty"`  // for a repeatable choice of victims
	// Delays, when set, makes some of the run's ticks a delay window on
	// this node's actors (what POST /delay sets) instead of a kill.
	Delays *ChaosDelays `json:"delays,omitempty"`
}

// ChaosDelays are the delay windows of a chaos run: each delays (and
// drops) the messages to this node's actors of one of Kinds, picked at
// random, for For.
type ChaosDelays struct {
	Kinds []string `json:"kinds"`          // actor kinds to delay (required)
	By    string   `json:"by"`             // how long their messages wait, e.g. "200ms"
	Drop  float64  `json:"drop,omitempty"` // the fraction of them dropped, 0 to 1
	For   string   `json:"for"`            // each window's length, e.g. "2s"
	// Share is the fraction of ticks that open a window rather than
	// kill: 0.5 unless set; 1 (every tick) when the run kills no kind.
	Share float64 `json:"share,omitempty"`
}

// ChaosStatus answers every /chaos request.
type ChaosStatus struct {
	Running bool     `json:"running"`
	Kinds   []string `json:"kinds,omitempty"`
	Modes   []string `json:"modes,omitempty"`
	Every   string   `json:"every,omitempty"`
	// Seed is the run's seed: the one asked for, or the one the server
	// chose (below 2^53, so that a JavaScript number holds it exactly).
	// Giving it back to POST /chaos picks the same victims again.
	Seed    uint64         `json:"seed,omitempty"`
	Started time.Time      `json:"started,omitzero"`
	Ends    time.Time      `json:"ends,omitzero"`  // when it is to end
	Ended   time.Time      `json:"ended,omitzero"` // when it ended (at Ends, or stopped)
	Now     time.Time      `json:"now"`            // the server's clock, to show progress by
	Kills   map[string]int `json:"kills"`          // "kind/mode" -> count
	Misses  int            `json:"misses"`         // ticks with no live actor of the kinds
	Total   int            `json:"total"`
	// Recent are the run's last kills, newest last (at most MaxRecentKills).
	Recent []ChaosKill `json:"recent"`
	// Delays is the run's delay windows as asked for (nil: kills only),
	// and Windows counts the windows it opened, by actor kind.
	Delays  *ChaosDelays   `json:"delays,omitempty"`
	Windows map[string]int `json:"windows"`
}

// MaxRecentKills is how many of a run's kills ChaosStatus.Recent keeps.
const MaxRecentKills = 100

// ChaosKill is one kill of a chaos run.
type ChaosKill struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	ID   string    `json:"id"`
	PID  string    `json:"pid"`
	Node string    `json:"node"`
	Mode string    `json:"mode"`
}

// APIError is every error answer.
type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e APIError) Error() string { return e.Code + ": " + e.Message }

type chaosSpec struct {
	kinds, modes []string
	every, span  time.Duration
	seed         uint64
	delays       *ChaosDelays // as asked, with Share filled in
	window       actors.DelaySpec
}

const maxChaos = time.Hour

func (r ChaosRequest) spec() (chaosSpec, error) {
	if len(r.Kinds) == 0 && r.Delays == nil {
		return chaosSpec{}, errors.New("kinds: name at least one actor kind (or give delays)")
	}
	for _, k := range r.Kinds {
		if !knownKind(k) {
			return chaosSpec{}, fmt.Errorf("kinds: unknown actor kind %q", k)
		}
	}
	modes := r.Modes
	if len(modes) == 0 {
		modes = []string{actors.KillStop, actors.KillPoison, actors.KillPanic}
	}
	for _, m := range modes {
		if m != actors.KillStop && m != actors.KillPoison && m != actors.KillPanic {
			return chaosSpec{}, fmt.Errorf("modes: unknown kill mode %q (stop, poison or panic)", m)
		}
	}
	every, err := time.ParseDuration(r.Every)
	if err != nil || every < time.Millisecond {
		return chaosSpec{}, fmt.Errorf("every: %q is not a duration of at least 1ms", r.Every)
	}
	span, err := time.ParseDuration(r.For)
	if err != nil || span <= 0 || span > maxChaos {
		return chaosSpec{}, fmt.Errorf("for: %q is not a duration between 0 and 1h", r.For)
	}
	spec := chaosSpec{kinds: r.Kinds, modes: modes, every: every, span: span, seed: r.Seed}
	if r.Delays != nil {
		d := *r.Delays
		d.Kinds = slices.Clone(d.Kinds)
		if len(d.Kinds) == 0 {
			return chaosSpec{}, errors.New("delays.kinds: name at least one actor kind to delay")
		}
		for _, k := range d.Kinds {
			if !knownKind(k) {
				return chaosSpec{}, fmt.Errorf("delays.kinds: unknown actor kind %q", k)
			}
		}
		if d.By == "" {
			d.By = "0s"
		}
		by, err := time.ParseDuration(d.By)
		if err != nil {
			return chaosSpec{}, fmt.Errorf("delays.by: %q is not a duration", d.By)
		}
		win, err := time.ParseDuration(d.For)
		if err != nil {
			return chaosSpec{}, fmt.Errorf("delays.for: %q is not a duration", d.For)
		}
		if math.IsNaN(d.Share) || d.Share < 0 || d.Share > 1 {
			return chaosSpec{}, fmt.Errorf("delays.share: the fraction of ticks that delay must be between 0 and 1, got %v", d.Share)
		}
		switch {
		case len(r.Kinds) == 0:
			d.Share = 1
		case d.Share == 0:
			d.Share = 0.5
		}
		spec.window = actors.DelaySpec{Kind: d.Kinds[0], By: by, Drop: d.Drop, For: win}
		if err := actors.CheckDelay(spec.window); err != nil {
			return chaosSpec{}, errors.New("delays." + err.Error())
		}
		if by == 0 && d.Drop == 0 {
			return chaosSpec{}, errors.New("delays.by: a window delays by more than 0s, or drops")
		}
		spec.delays = &d
	}
	return spec, nil
}
