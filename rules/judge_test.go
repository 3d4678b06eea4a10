package rules

import (
	"testing"
	"testing/quick"
)

func TestJudge(t *testing.T) {
	tests := []struct {
		a, b Hand
		want int
	}{
		{Scissors, Paper, 1},
		{Paper, Rock, 1},
		{Rock, Scissors, 1},
		{Paper, Scissors, -1},
		{Rock, Paper, -1},
		{Scissors, Rock, -1},
		{Rock, Rock, 0},
		{Paper, Paper, 0},
		{Scissors, Scissors, 0},
		{None, None, 0},
		{None, Rock, -1},
		{Paper, None, 1},
	}
	for _, tt := range tests {
		if got := Judge(tt.a, tt.b); got != tt.want {
			t.Errorf("Judge(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// Judge is antisymmetric for every pair of hands, valid or not chosen.
func TestJudgeAntisymmetric(t *testing.T) {
	f := func(a, b uint8) bool {
		ha, hb := Hand(a%4), Hand(b%4)
		return Judge(ha, hb) == -Judge(hb, ha)
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
}

func TestValidChoiceAndFace(t *testing.T) {
	for c := int32(-1); c <= 5; c++ {
		if got, want := ValidChoice(c), c >= 1 && c <= 3; got != want {
			t.Errorf("ValidChoice(%d) = %v", c, got)
		}
		if got, want := ValidFace(c), c >= 1 && c <= 4; got != want {
			t.Errorf("ValidFace(%d) = %v", c, got)
		}
	}
}

func TestBaseScores(t *testing.T) {
	tests := []struct {
		name  string
		hands []Hand
		want  []int
	}{
		{"two, first wins", []Hand{Rock, Scissors}, []int{1, -1}},
		{"two tie", []Hand{Paper, Paper}, []int{0, 0}},
		{"not choosing loses", []Hand{None, Paper}, []int{-1, 1}},
		{"nobody chose", []Hand{None, None}, []int{0, 0}},
		{"three, all different", []Hand{Scissors, Rock, Paper}, []int{0, 0, 0}},
		{"three, two rocks beat scissors", []Hand{Rock, Rock, Scissors}, []int{1, 1, -2}},
		{"three, one silent", []Hand{Paper, None, Rock}, []int{2, -2, 0}},
		{"four", []Hand{Rock, Rock, Paper, Scissors}, []int{0, 0, 1, -1}},
	}
	for _, tt := range tests {
		got := BaseScores(tt.hands)
		for i := range tt.want {
			if got[i] != tt.want[i] {
				t.Errorf("%s: BaseScores(%v) = %v, want %v", tt.name, tt.hands, got, tt.want)
				break
			}
		}
	}
}

// The base scores of a room always sum to zero: every pair adds +1 and -1.
func TestBaseScoresSumToZero(t *testing.T) {
	f := func(raw []uint8) bool {
		hands := make([]Hand, len(raw)%9)
		for i := range hands {
			hands[i] = Hand(raw[i] % 4)
		}
		sum := 0
		for _, x := range BaseScores(hands) {
			sum += x
		}
		return sum == 0
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
}
