// Package leaderboard serves the leaderboard over HTTP, read straight from
// the player store (a player actor writes its record before it confirms a
// round, so the board is never ahead of a published result).
//
//	GET /leaderboard?top=N          the first N players (default 10, at most 100)
//	GET /leaderboard/{uid}?around=K  uid's line and K lines either side (default 5, at most 50)
//
// Both answer {"players":[{"rank","uid","uname","uavatar","total","streak"}]};
// the second also {"uid","rank"}. Order and ranks are caiquan.Store's: total,
// higher first, then uid in byte order; equal totals share a rank
// ("1, 2, 2, 4"). Players who never finished a round are not on it.
// Refusals are {"code","message"}: bad_request (400), unknown_player (404),
// method_not_allowed (405), store_unavailable (503).
package leaderboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/caiquan/caiquan"
)

const (
	// Path is the route of the top N; Path + "/" + uid that of a player.
	Path = "/leaderboard"

	defaultTop    = 10
	maxTop        = 100
	defaultAround = 5
	maxAround     = 50
)

// Board is what the handler needs of a store.
type Board interface {
	Top(n int) ([]caiquan.RankedPlayer, error)
	Around(uid string, k int) ([]caiquan.RankedPlayer, error)
}

// Line is one player on the wire.
type Line struct {
	Rank    int    `json:"rank"`
	UID     string `json:"uid"`
	Uname   string `json:"uname"`
	Uavatar string `json:"uavatar"`
	Total   int32  `json:"total"`
	Streak  int32  `json:"streak"`
}

// Page is every answer.
type Page struct {
	UID     string `json:"uid,omitempty"`
	Rank    int    `json:"rank,omitempty"`
	Players []Line `json:"players"`
}

type refusal struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Handler serves Path and everything below it.
func Handler(b Board, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, refusal{"method_not_allowed", "the leaderboard is read with GET"})
			return
		}
		uid, one := strings.CutPrefix(r.URL.Path, Path+"/")
		var (
			players []caiquan.RankedPlayer
			err     error
			page    Page
		)
		if !one {
			n, ok := param(w, r, "top", defaultTop, 1, maxTop)
			if !ok {
				return
			}
			players, err = b.Top(n)
		} else {
			k, ok := param(w, r, "around", defaultAround, 0, maxAround)
			if !ok {
				return
			}
			if uid == "" {
				writeJSON(w, http.StatusBadRequest, refusal{"bad_request", "name a player: /leaderboard/{uid}"})
				return
			}
			players, err = b.Around(uid, k)
			page.UID = uid
		}
		switch {
		case errors.Is(err, caiquan.ErrNoPlayer):
			writeJSON(w, http.StatusNotFound, refusal{"unknown_player", fmt.Sprintf("%q is not on the leaderboard: unknown, or no round finished yet", uid)})
			return
		case err != nil:
			log.Error("leaderboard: store", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, refusal{"store_unavailable", "the leaderboard cannot be read right now; try again"})
			return
		}
		page.Players = make([]Line, len(players))
		for i, p := range players {
			page.Players[i] = Line{Rank: p.Rank, UID: p.UID, Uname: p.Uname, Uavatar: p.Uavatar, Total: p.Total, Streak: p.Streak}
			if one && p.UID == uid {
				page.Rank = p.Rank
			}
		}
		writeJSON(w, http.StatusOK, page)
	})
}

// param reads a whole-number query parameter in [lo, hi], answering 400
// itself when it is not one.
func param(w http.ResponseWriter, r *http.Request, name string, def, lo, hi int) (int, bool) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return def, true
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < lo || v > hi {
		writeJSON(w, http.StatusBadRequest, refusal{"bad_request", fmt.Sprintf("%s must be a whole number from %d to %d, got %q", name, lo, hi, raw)})
		return 0, false
	}
	return v, true
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
