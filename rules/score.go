package rules

// Standing is what a player carries from round to round.
type Standing struct {
	Total  int32
	Streak int32
}

// Outcome is one player's part of a settled round.
type Outcome struct {
	RoundScore int32
	Standing
}

// Apply scores one round with base score x on top of prev: a win adds to the
// streak and scores x times the new streak; a loss scores nothing and ends the
// streak; a tie scores nothing and keeps it. Totals never go down.
func Apply(prev Standing, x int) Outcome {
	switch {
	case x > 0:
		streak := prev.Streak + 1
		score := int32(x) * streak
		return Outcome{RoundScore: score, Standing: Standing{Total: prev.Total + score, Streak: streak}}
	case x < 0:
		return Outcome{Standing: Standing{Total: prev.Total, Streak: 0}}
	default:
		return Outcome{Standing: prev}
	}
}

// Settle scores a whole room: prev[i] and hands[i] belong to seat i.
func Settle(prev []Standing, hands []Hand) []Outcome {
	x := BaseScores(hands)
	out := make([]Outcome, len(hands))
	for i := range hands {
		out[i] = Apply(prev[i], x[i])
	}
	return out
}
