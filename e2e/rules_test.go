package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/caiquan/caiquan/messages"
)

// The rules, written out naively from the spec, to compute what the server
// must answer.

// pairScore judges a against b: +1 a wins, -1 a loses, 0 a tie.
// 0 is "never chose" and loses to any choice.
func pairScore(a, b int32) int32 {
	switch {
	case a == b:
		return 0
	case a == 0:
		return -1
	case b == 0:
		return 1
	case (a-b+3)%3 == 1:
		return 1
	default:
		return -1
	}
}

// standing is what a player carries from round to round.
type standing struct {
	total, streak int32
}

// settle applies one round with base score x to prev.
func settle(prev standing, x int32) (roundScore int32, next standing) {
	switch {
	case x > 0:
		next = standing{streak: prev.streak + 1}
		roundScore = x * next.streak
	case x < 0:
		next = standing{streak: 0}
	default:
		next = standing{streak: prev.streak}
	}
	next.total = prev.total + roundScore
	return roundScore, next
}

// checkResult verifies every entry of res against the rules, from each
// player's standing before the round (prev, by uid). It returns the new
// standings.
func checkResult(res *messages.Result, prev map[string]standing) (map[string]standing, error) {
	var errs []string
	if len(res.GetResult()) != len(prev) {
		errs = append(errs, fmt.Sprintf("result has %d entries, the room had %d players", len(res.GetResult()), len(prev)))
	}
	next := map[string]standing{}
	for _, me := range res.GetResult() {
		p, ok := prev[me.GetUid()]
		if !ok {
			errs = append(errs, fmt.Sprintf("result entry for %q, who was not in the room", me.GetUid()))
			continue
		}
		if me.GetChoice() < 0 || me.GetChoice() > 3 {
			errs = append(errs, fmt.Sprintf("%s: choice %d out of 0..3", me.GetUid(), me.GetChoice()))
		}
		var x int32
		for _, other := range res.GetResult() {
			if other.GetUid() != me.GetUid() {
				x += pairScore(me.GetChoice(), other.GetChoice())
			}
		}
		rs, n := settle(p, x)
		if me.GetRoundScore() != rs || me.GetWinStreak() != n.streak || me.GetTotalScore() != n.total {
			errs = append(errs, fmt.Sprintf("%s (choice %d, x=%d, before total %d streak %d): got roundScore %d winStreak %d totalScore %d, want %d %d %d",
				me.GetUid(), me.GetChoice(), x, p.total, p.streak, me.GetRoundScore(), me.GetWinStreak(), me.GetTotalScore(), rs, n.streak, n.total))
		}
		if _, dup := next[me.GetUid()]; dup {
			errs = append(errs, fmt.Sprintf("%s appears twice in the result", me.GetUid()))
		}
		next[me.GetUid()] = n
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("result %v breaks the rules:\n  %s", res, strings.Join(errs, "\n  "))
	}
	return next, nil
}

// resultEntry returns uid's entry in res.
func resultEntry(res *messages.Result, uid string) *messages.PlayerResult {
	for _, e := range res.GetResult() {
		if e.GetUid() == uid {
			return e
		}
	}
	return nil
}

// standingsAtStart reads every seated player's standing from start.
func standingsAtStart(st *messages.Start) map[string]standing {
	out := map[string]standing{}
	for _, u := range st.GetRoomUsers() {
		out[u.GetUid()] = standing{total: u.GetTotalScore(), streak: u.GetWinStreak()}
	}
	return out
}

// roomUIDs lists start's players, sorted.
func roomUIDs(st *messages.Start) []string {
	var out []string
	for _, u := range st.GetRoomUsers() {
		out = append(out, u.GetUid())
	}
	sort.Strings(out)
	return out
}

func TestRulesHelpers(t *testing.T) {
	// The spec's example: win, win, tie, win gives 1, 2, 0, 3 and totals 1, 3, 3, 6.
	s := standing{}
	var scores, totals []int32
	for _, x := range []int32{1, 1, 0, 1} {
		var rs int32
		rs, s = settle(s, x)
		scores = append(scores, rs)
		totals = append(totals, s.total)
	}
	if fmt.Sprint(scores, totals) != "[1 2 0 3] [1 3 3 6]" {
		t.Fatalf("settle: %v %v", scores, totals)
	}
	for _, c := range []struct{ a, b, want int32 }{
		{2, 1, 1}, {1, 3, 1}, {3, 2, 1}, {1, 2, -1}, {3, 1, -1}, {2, 3, -1}, {2, 2, 0}, {0, 0, 0}, {0, 1, -1}, {3, 0, 1},
	} {
		if got := pairScore(c.a, c.b); got != c.want {
			t.Errorf("pairScore(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	if _, s = settle(standing{total: 6, streak: 3}, -1); s != (standing{total: 6}) {
		t.Errorf("a loss: %+v", s)
	}
}

// ---- JSON shapes, for the demo client ----

// jsonKind names the JSON type of a raw value.
func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "missing"
	}
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	default:
		var n json.Number
		if json.Unmarshal(v, &n) == nil {
			if _, err := n.Int64(); err == nil {
				return "integer"
			}
			return "number"
		}
		return "invalid"
	}
}

// checkShape requires every field in want to be present in the object raw
// with that JSON kind ("string", "integer", "array", "object").
func checkShape(what string, raw json.RawMessage, want map[string]string) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("%s: %s is not a JSON object: %v", what, raw, err)
	}
	var errs []string
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got := jsonKind(obj[k]); got != want[k] {
			errs = append(errs, fmt.Sprintf("%q is %s, want %s", k, got, want[k]))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s %s: %s", what, raw, strings.Join(errs, "; "))
	}
	return nil
}

// field returns one field of a JSON object.
func field(raw json.RawMessage, name string) json.RawMessage {
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(raw, &obj)
	return obj[name]
}

// elements returns the elements of a JSON array.
func elements(raw json.RawMessage) []json.RawMessage {
	var arr []json.RawMessage
	_ = json.Unmarshal(raw, &arr)
	return arr
}

var (
	shapeHi       = map[string]string{"message": "string", "nearby": "integer", "totalScore": "integer", "winStreak": "integer"}
	shapeStart    = map[string]string{"gameTime": "integer", "roomUsers": "array", "roundId": "string"}
	shapeRoomUser = map[string]string{"uid": "string", "uname": "string", "uavatar": "string", "choice": "integer", "roundScore": "integer", "totalScore": "integer", "winStreak": "integer"}
	shapeResult   = map[string]string{"result": "array", "roundId": "string"}
	shapeEntry    = map[string]string{"uid": "string", "roundScore": "integer", "totalScore": "integer", "winStreak": "integer", "choice": "integer"}
	shapeMovement = map[string]string{"uid": "string", "movement": "string"}
	shapeLeave    = map[string]string{"uid": "string"}
	shapeError    = map[string]string{"code": "string", "message": "string"}
)

// checkDemoShapes checks the JSON types of every payload a demo client got.
func checkDemoShapes(log []event) []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, e := range log {
		switch e.name {
		case "hi":
			add(checkShape("hi", e.raw, shapeHi))
		case "start":
			add(checkShape("start", e.raw, shapeStart))
			for _, u := range elements(field(e.raw, "roomUsers")) {
				add(checkShape("start.roomUsers[]", u, shapeRoomUser))
			}
		case "result":
			add(checkShape("result", e.raw, shapeResult))
			for _, r := range elements(field(e.raw, "result")) {
				add(checkShape("result.result[]", r, shapeEntry))
			}
		case "movement":
			add(checkShape("movement", e.raw, shapeMovement))
			if e.env.GetMovement().GetMovement() == "face" {
				add(checkShape("movement", e.raw, map[string]string{"face": "integer"}))
			}
		case "leave":
			add(checkShape("leave", e.raw, shapeLeave))
		case "error":
			add(checkShape("error", e.raw, shapeError))
		case "queued":
			add(checkShape("queued", e.raw, map[string]string{"waiting": "integer"}))
		}
	}
	return errs
}
