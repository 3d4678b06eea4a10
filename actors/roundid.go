package actors

import (
	"math/rand/v2"
	"strconv"
)

// roundIDs makes round ids: "r", a random hex prefix, "-", a count. The
// prefix keeps ids of two lobbies (or of one before and after a restart)
// apart; the count keeps one lobby's ids apart.
type roundIDs struct {
	count uint64 // ids made so far
}

func (r *roundIDs) make(rng *rand.Rand) string {
	r.count++
	buf := make([]byte, 0, 24)
	buf = append(buf, 'r')
	buf = strconv.AppendUint(buf, uint64(rng.Uint32()), 16)
	buf = append(buf, '-')
	buf = strconv.AppendUint(buf, r.count, 10)
	return string(buf)
}
