package rules

import (
	"testing"
	"testing/quick"
)

// The spec's example: win, win, tie, win gives round scores 1, 2, 0, 3 and
// totals 1, 3, 3, 6.
func TestApplySpecExample(t *testing.T) {
	xs := []int{1, 1, 0, 1}
	wantScore := []int32{1, 2, 0, 3}
	wantTotal := []int32{1, 3, 3, 6}
	wantStreak := []int32{1, 2, 2, 3}
	var s Standing
	for i, x := range xs {
		o := Apply(s, x)
		if o.RoundScore != wantScore[i] || o.Total != wantTotal[i] || o.Streak != wantStreak[i] {
			t.Fatalf("round %d: got %+v, want score %d total %d streak %d", i+1, o, wantScore[i], wantTotal[i], wantStreak[i])
		}
		s = o.Standing
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name string
		prev Standing
		x    int
		want Outcome
	}{
		{"first win", Standing{}, 1, Outcome{1, Standing{1, 1}}},
		{"win on a streak of 2", Standing{10, 2}, 1, Outcome{3, Standing{13, 3}}},
		{"double win in a room of three", Standing{0, 1}, 2, Outcome{4, Standing{4, 2}}},
		{"loss ends the streak, keeps the total", Standing{7, 3}, -1, Outcome{0, Standing{7, 0}}},
		{"tie keeps the streak", Standing{7, 3}, 0, Outcome{0, Standing{7, 3}}},
	}
	for _, tt := range tests {
		if got := Apply(tt.prev, tt.x); got != tt.want {
			t.Errorf("%s: Apply(%+v, %d) = %+v, want %+v", tt.name, tt.prev, tt.x, got, tt.want)
		}
	}
}

func TestSettleNotChoosingLoses(t *testing.T) {
	prev := []Standing{{Total: 5, Streak: 2}, {Total: 1, Streak: 1}}
	got := Settle(prev, []Hand{None, Rock})
	want := []Outcome{{0, Standing{5, 0}}, {2, Standing{3, 2}}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("seat %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// Totals never go down, whatever the hands.
func TestSettleTotalsNeverGoDown(t *testing.T) {
	f := func(raw []uint8, totals []uint16) bool {
		n := len(raw) % 6
		if n < 2 || len(totals) < n {
			return true
		}
		prev := make([]Standing, n)
		hands := make([]Hand, n)
		for i := range prev {
			prev[i] = Standing{Total: int32(totals[i]), Streak: int32(raw[i] % 5)}
			hands[i] = Hand(raw[i] % 4)
		}
		for i, o := range Settle(prev, hands) {
			if o.Total < prev[i].Total || o.Total != prev[i].Total+o.RoundScore {
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
}
