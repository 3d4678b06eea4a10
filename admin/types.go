package admin

import (
	"errors"
	"fmt"
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
	Kinds []string `json:"kinds"`           // which kinds to kill (required)
	Modes []string `json:"modes,omitempty"` // kill modes to pick from; all three by default
	Every string   `json:"every"`           // one kill per this interval, e.g. "100ms"
	For   string   `json:"for"`             // how long, e.g. "60s"; at most 1h
	Seed  uint64   `json:"seed,omitempty"`  // for a repeatable choice of victims
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
}

const maxChaos = time.Hour

func (r ChaosRequest) spec() (chaosSpec, error) {
	if len(r.Kinds) == 0 {
		return chaosSpec{}, errors.New("kinds: name at least one actor kind")
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
	return chaosSpec{kinds: r.Kinds, modes: modes, every: every, span: span, seed: r.Seed}, nil
}
