package actors

import (
	"math/rand/v2"
	"strconv"
)

// roundIDBlock is how many round ids share one string.
const roundIDBlock = 256

// roundIDs makes round ids ("r" random hex "-" count) roundIDBlock at a
// time, cut from one string. Players keep the ids of their last rounds, so
// at 10,000 players a string per id was 17 % of the objects the collector
// marked at every cycle; ids cut from one string are one object, which
// lives until the last of its ids is forgotten (they are forgotten at about
// the same time, having been made at about the same time).
type roundIDs struct {
	count uint64 // ids made so far
	block string
	ends  [roundIDBlock]int32 // ends[i]: where id i of block ends
	next  int                 // the next unused id of block
}

func (r *roundIDs) make(rng *rand.Rand) string {
	if r.block == "" || r.next == roundIDBlock {
		r.fill(rng)
	}
	start := int32(0)
	if r.next > 0 {
		start = r.ends[r.next-1]
	}
	id := r.block[start:r.ends[r.next]]
	r.next++
	return id
}

func (r *roundIDs) fill(rng *rand.Rand) {
	buf := make([]byte, 0, roundIDBlock*20)
	for i := range roundIDBlock {
		r.count++
		buf = append(buf, 'r')
		buf = strconv.AppendUint(buf, uint64(rng.Uint32()), 16)
		buf = append(buf, '-')
		buf = strconv.AppendUint(buf, r.count, 10)
		r.ends[i] = int32(len(buf))
	}
	r.block, r.next = string(buf), 0
}
