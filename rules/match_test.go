package rules

import (
	"reflect"
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	w := func(uid string, ms int) Waiter { return Waiter{UID: uid, Since: at(ms)} }
	tests := []struct {
		name       string
		queue      []Waiter
		now        int
		size       int
		wantTables []Table
		wantRest   []string
		wantWake   time.Time
	}{
		{"nobody", nil, 0, 2, nil, nil, time.Time{}},
		{"one waits for the bot", []Waiter{w("a", 0)}, 500, 2, nil, []string{"a"}, at(1000)},
		{"one gets a bot at the deadline", []Waiter{w("a", 0)}, 1000, 2, []Table{{UIDs: []string{"a"}, Bots: 1}}, nil, time.Time{}},
		{"two humans at once", []Waiter{w("a", 0), w("b", 50)}, 50, 2, []Table{{UIDs: []string{"a", "b"}}}, nil, time.Time{}},
		{"three: a pair and one waiting", []Waiter{w("a", 0), w("b", 10), w("c", 20)}, 20, 2,
			[]Table{{UIDs: []string{"a", "b"}}}, []string{"c"}, at(1020)},
		{"room of three, two late", []Waiter{w("a", 0), w("b", 900)}, 1000, 3,
			[]Table{{UIDs: []string{"a", "b"}, Bots: 1}}, nil, time.Time{}},
		{"room of three, full", []Waiter{w("a", 0), w("b", 1), w("c", 2), w("d", 3)}, 3, 3,
			[]Table{{UIDs: []string{"a", "b", "c"}}}, []string{"d"}, at(1003)},
	}
	for _, tt := range tests {
		tables, rest, wake := Match(tt.queue, at(tt.now), tt.size, time.Second)
		if !reflect.DeepEqual(tables, tt.wantTables) {
			t.Errorf("%s: tables = %+v, want %+v", tt.name, tables, tt.wantTables)
		}
		if got := uids(rest); !(len(got) == 0 && len(tt.wantRest) == 0) && !reflect.DeepEqual(got, tt.wantRest) {
			t.Errorf("%s: rest = %v, want %v", tt.name, got, tt.wantRest)
		}
		if !wake.Equal(tt.wantWake) {
			t.Errorf("%s: wake = %v, want %v", tt.name, wake, tt.wantWake)
		}
	}
}
