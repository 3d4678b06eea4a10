package actors

import "testing"

func TestRoundOfPID(t *testing.T) {
	for _, tc := range []struct {
		id, round string
		ok        bool
	}{
		{"node/rooms/r1a2b-7", "r1a2b-7", true},
		{"node/rooms/r1a2b-7/$3", "r1a2b-7", true}, // a bot of the room
		{"node/rooms/", "", false},
		{"node/rooms", "", false},
		{"node/lobby", "", false},
		{"node/players/$4", "", false},
	} {
		if round, ok := RoundOfPID(tc.id); round != tc.round || ok != tc.ok {
			t.Errorf("RoundOfPID(%q) = %q, %v; want %q, %v", tc.id, round, ok, tc.round, tc.ok)
		}
	}
}
