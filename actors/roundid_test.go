package actors

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
)

// Round ids keep their form and their count across blocks, and no two are
// alike.
func TestRoundIDsAcrossBlocks(t *testing.T) {
	form := regexp.MustCompile(`^r[0-9a-f]{1,8}-([0-9]+)$`)
	var ids roundIDs
	rng := rand.New(rand.NewPCG(1, 2))
	seen := make(map[string]bool)
	for i := 1; i <= 3*256+5; i++ {
		id := ids.make(rng)
		m := form.FindStringSubmatch(id)
		if m == nil {
			t.Fatalf("id %d is %q", i, id)
		}
		if want := itoa(i); m[1] != want {
			t.Fatalf("id %d is %q: count %s", i, id, m[1])
		}
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
