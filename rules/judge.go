package rules

// Hand is a player's choice. None is the zero value: a player who never chose.
type Hand int32

const (
	None     Hand = 0
	Scissors Hand = 1
	Rock     Hand = 2
	Paper    Hand = 3
)

// ValidChoice reports whether a client may send c as a choice.
func ValidChoice(c int32) bool { return c >= int32(Scissors) && c <= int32(Paper) }

// ValidFace reports whether a client may send f as a face (an emoji reaction).
func ValidFace(f int32) bool { return f >= 1 && f <= 4 }

// Judge returns +1 when a beats b, -1 when b beats a, 0 for a tie.
// Equal hands tie (two players who never chose included); a player who never
// chose loses to one who did.
func Judge(a, b Hand) int {
	switch {
	case a == b:
		return 0
	case a == None:
		return -1
	case b == None:
		return 1
	case (a-b+3)%3 == 1:
		return 1
	default:
		return -1
	}
}

// BaseScores judges every pair of hands: each player's base score x is the
// sum of +1 for every player it beats and -1 for every player that beats it.
func BaseScores(hands []Hand) []int {
	x := make([]int, len(hands))
	for i := range hands {
		for j := i + 1; j < len(hands); j++ {
			r := Judge(hands[i], hands[j])
			x[i] += r
			x[j] -= r
		}
	}
	return x
}
