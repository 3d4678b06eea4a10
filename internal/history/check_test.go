package history

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// at is t0 plus ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// Two players, ann and bob, play round r1: ann (rock) beats bob (scissors),
// then r2: a tie. Every planted anomaly below edits a copy of this.
func clean() []Event {
	return []Event{
		{At: at(0), Client: "ann", Kind: Connect, Node: "n1"},
		{At: at(0), Client: "bob", Kind: Connect, Node: "n2"},
		{At: at(10), Client: "ann", Kind: Hi},
		{At: at(10), Client: "bob", Kind: Hi},
		{At: at(20), Client: "ann", Kind: Join},
		{At: at(20), Client: "bob", Kind: Join},
		{At: at(100), Client: "ann", Kind: Start, Round: "r1", RoundMs: 2000, Seats: []Seat{{UID: "ann"}, {UID: "bob"}}},
		{At: at(101), Client: "bob", Kind: Start, Round: "r1", RoundMs: 2000, Seats: []Seat{{UID: "ann"}, {UID: "bob"}}},
		{At: at(110), Client: "ann", Kind: Choice, Round: "r1", Choice: 2},
		{At: at(110), Client: "bob", Kind: Choice, Round: "r1", Choice: 1},
		{At: at(2100), Client: "ann", Kind: Result, Round: "r1", Seats: []Seat{{UID: "ann", Choice: 2, Score: 1, Total: 1, Streak: 1}, {UID: "bob", Choice: 1}}},
		{At: at(2101), Client: "bob", Kind: Result, Round: "r1", Seats: []Seat{{UID: "bob", Choice: 1}, {UID: "ann", Choice: 2, Score: 1, Total: 1, Streak: 1}}},
		{At: at(2200), Client: "ann", Kind: Join},
		{At: at(2200), Client: "bob", Kind: Join},
		{At: at(2300), Client: "ann", Kind: Start, Round: "r2", RoundMs: 2000, Seats: []Seat{{UID: "ann", Total: 1, Streak: 1}, {UID: "bob"}}},
		{At: at(2300), Client: "bob", Kind: Start, Round: "r2", RoundMs: 2000, Seats: []Seat{{UID: "ann", Total: 1, Streak: 1}, {UID: "bob"}}},
		{At: at(4300), Client: "ann", Kind: Result, Round: "r2", Seats: []Seat{{UID: "ann", Choice: 3, Total: 1, Streak: 1}, {UID: "bob", Choice: 3}}},
		{At: at(4300), Client: "bob", Kind: Result, Round: "r2", Seats: []Seat{{UID: "ann", Choice: 3, Total: 1, Streak: 1}, {UID: "bob", Choice: 3}}},
		{At: at(5000), Client: "ann", Kind: Stop},
		{At: at(5000), Client: "bob", Kind: Stop},
	}
}

func cleanStore() []Record {
	return []Record{
		{UID: "ann", Total: 1, Streak: 1, Rounds: 2, Recent: []Applied{{Round: "r1", Score: 1, Total: 1, Streak: 1}, {Round: "r2", Total: 1, Streak: 1}}},
		{UID: "bob", Rounds: 2, Recent: []Applied{{Round: "r1"}, {Round: "r2"}}},
	}
}

// edit returns clean() with f applied to a copy.
func edit(f func([]Event) []Event) []Event { return f(clean()) }

// find is the index of the event of client with kind k for round r.
func find(es []Event, client string, k Kind, r string) int {
	for i, e := range es {
		if e.Client == client && e.Kind == k && e.Round == r {
			return i
		}
	}
	panic("no such event")
}

func insert(es []Event, i int, e Event) []Event {
	return append(es[:i], append([]Event{e}, es[i:]...)...)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
		store  []Record
		want   []string // anomaly kinds, in order; nil for a clean run
	}{
		{name: "clean", events: clean(), store: cleanStore()},
		{
			name: "double settlement: a second result of one round",
			events: edit(func(es []Event) []Event {
				i := find(es, "ann", Result, "r1")
				again := es[i]
				again.At = at(2150)
				return insert(es, i+1, again)
			}),
			store: cleanStore(),
			want:  []string{DoubleEnd},
		},
		{
			name: "double settlement: a void after the result",
			events: edit(func(es []Event) []Event {
				i := find(es, "bob", Result, "r1")
				return insert(es, i+1, Event{At: at(2150), Client: "bob", Kind: Void, Round: "r1"})
			}),
			store: cleanStore(),
			want:  []string{DoubleEnd},
		},
		{
			name: "a void for one player, though the store holds his round",
			events: edit(func(es []Event) []Event {
				i := find(es, "bob", Result, "r1")
				es[i] = Event{At: at(2101), Client: "bob", Kind: Void, Round: "r1"}
				// bob's next start still shows him at 0: the void changed nothing.
				return es
			}),
			store: cleanStore(),
			want:  []string{VoidApplied},
		},
		{
			name: "a void for the one seat whose player could not store the round",
			events: edit(func(es []Event) []Event {
				i := find(es, "bob", Result, "r1")
				es[i] = Event{At: at(2101), Client: "bob", Kind: Void, Round: "r1"}
				return es
			}),
			store: []Record{cleanStore()[0], {UID: "bob", Rounds: 1, Recent: []Applied{{Round: "r2"}}}},
		},
		{
			name: "settled on two nodes: settle events from two nodes",
			events: append(clean(),
				Event{At: at(2100), Kind: Settle, Round: "r1", Node: "10.77.0.11:7000"},
				Event{At: at(2105), Kind: Settle, Round: "r1", Node: "10.77.0.12:7000"},
				Event{At: at(4300), Kind: Settle, Round: "r2", Node: "10.77.0.12:7000"}),
			store: cleanStore(),
			want:  []string{SplitEnd},
		},
		{
			name:   "lost write: the store's final total is not the last result's",
			events: clean(),
			store: []Record{
				{UID: "ann", Rounds: 1, Recent: []Applied{{Round: "r2"}}},
				cleanStore()[1],
			},
			want: []string{LostWrite},
		},
		{
			name:   "lost write: no record at all",
			events: clean(),
			store:  cleanStore()[1:],
			want:   []string{LostWrite},
		},
		{
			name: "lost write: the next start forgot the last result",
			events: edit(func(es []Event) []Event {
				for _, c := range []string{"ann", "bob"} {
					es[find(es, c, Start, "r2")].Seats[0] = Seat{UID: "ann"}
				}
				for _, c := range []string{"ann", "bob"} {
					es[find(es, c, Result, "r2")].Seats[0] = Seat{UID: "ann", Choice: 3}
				}
				return es
			}),
			store: []Record{{UID: "ann", Rounds: 2, Recent: []Applied{{Round: "r1", Score: 1, Total: 1, Streak: 1}, {Round: "r2"}}}, cleanStore()[1]},
			want:  []string{LostWrite},
		},
		{
			name: "double seat: a start while the client's round is open",
			events: edit(func(es []Event) []Event {
				i := find(es, "ann", Choice, "r1")
				es = insert(es, i+1, Event{At: at(500), Client: "ann", Kind: Start, Round: "x9", RoundMs: 2000, Seats: []Seat{{UID: "ann"}, {UID: "bot1"}}})
				return insert(es, find(es, "ann", Result, "r1")+1, Event{At: at(2150), Client: "ann", Kind: Void, Round: "x9"})
			}),
			store: cleanStore(),
			// Seen by ann herself and across the rounds' spans; x9 took
			// over as her open round, so r1's result was not hers to expect.
			want: []string{DoubleSeat, DoubleSeat, DoubleEnd},
		},
		{
			name: "double seat: seen across clients after a reconnect",
			events: edit(func(es []Event) []Event {
				// bob drops during r1 and is seated with carl in r3 before
				// r1 ends for ann.
				i := find(es, "bob", Choice, "r1")
				es = insert(es, i+1, Event{At: at(300), Client: "bob", Kind: Disconnect})
				es = insert(es, i+2, Event{At: at(400), Client: "bob", Kind: Reconnect, Node: "n3"})
				es = insert(es, i+3, Event{At: at(410), Client: "bob", Kind: Hi})
				es = insert(es, i+4, Event{At: at(420), Client: "bob", Kind: Join})
				es = insert(es, i+5, Event{At: at(500), Client: "bob", Kind: Start, Round: "r3", RoundMs: 2000, Seats: []Seat{{UID: "bob"}, {UID: "carl"}}})
				es = insert(es, i+6, Event{At: at(2250), Client: "bob", Kind: Result, Round: "r3", Seats: []Seat{{UID: "bob"}, {UID: "carl"}}})
				// and then not in r1's result any more
				es = append(es[:find(es, "bob", Result, "r1")], es[find(es, "bob", Result, "r1")+1:]...)
				return es
			}),
			store: []Record{cleanStore()[0], {UID: "bob", Rounds: 3, Recent: []Applied{{Round: "r1"}, {Round: "r3"}, {Round: "r2"}}}},
			want:  []string{DoubleSeat},
		},
		{
			name: "late ending: the result 6 s after the deadline",
			events: edit(func(es []Event) []Event {
				es[find(es, "bob", Result, "r2")].At = at(4300 + 6000)
				es[find(es, "bob", Stop, "")].At = at(11000)
				return es
			}),
			store: cleanStore(),
			want:  []string{LateEnd},
		},
		{
			name: "late ending: connected, and no end at all",
			events: edit(func(es []Event) []Event {
				i := find(es, "bob", Result, "r2")
				es = append(es[:i], es[i+1:]...)
				es[find(es, "bob", Stop, "")].At = at(4300 + 5200)
				return es
			}),
			store: cleanStore(),
			want:  []string{LateEnd},
		},
		{
			name: "not late: the client left before the grace ran out",
			events: edit(func(es []Event) []Event {
				i := find(es, "bob", Result, "r2")
				es[i] = Event{At: at(4000), Client: "bob", Kind: Disconnect}
				return es
			}),
			store: cleanStore(),
		},
		{
			name: "not a lost write: bob left while queued and was seated unseen",
			events: edit(func(es []Event) []Event {
				i := find(es, "bob", Result, "r2")
				return insert(es, i+1, Event{At: at(4400), Client: "bob", Kind: Join})
			}),
			// r9 seated bob after he left; he lost it to a player who chose.
			store: []Record{cleanStore()[0], {UID: "bob", Rounds: 3, Recent: []Applied{{Round: "r1"}, {Round: "r2"}, {Round: "r9"}}}},
		},
		{
			name:   "lost write: the store holds a round bob never saw, though he never left while queued",
			events: clean(),
			store:  []Record{cleanStore()[0], {UID: "bob", Rounds: 3, Recent: []Applied{{Round: "r1"}, {Round: "r2"}, {Round: "r9"}}}},
			want:   []string{LostWrite},
		},
		{
			name: "rules: the winner's streak is not counted",
			events: edit(func(es []Event) []Event {
				es[find(es, "ann", Result, "r1")].Seats[0].Score = 2
				return es
			}),
			store: cleanStore(),
			want:  []string{Rules, SplitEnd},
		},
		{
			name: "rules: the loser keeps his streak",
			events: edit(func(es []Event) []Event {
				for _, c := range []string{"ann", "bob"} {
					for i := range es[find(es, c, Start, "r1")].Seats {
						es[find(es, c, Start, "r1")].Seats[i].Streak = 3
						es[find(es, c, Start, "r1")].Seats[i].Total = 5
					}
				}
				for _, c := range []string{"ann", "bob"} {
					for i := range es {
						if es[i].Kind == Hi && es[i].Client == c {
							es[i].Total, es[i].Streak = 5, 3
						}
					}
				}
				es[find(es, "ann", Result, "r1")].Seats = []Seat{{UID: "ann", Choice: 2, Score: 4, Total: 9, Streak: 4}, {UID: "bob", Choice: 1, Total: 5, Streak: 3}}
				es[find(es, "bob", Result, "r1")].Seats = []Seat{{UID: "ann", Choice: 2, Score: 4, Total: 9, Streak: 4}, {UID: "bob", Choice: 1, Total: 5, Streak: 3}}
				es = es[:find(es, "bob", Result, "r1")+1]
				return append(es, Event{At: at(3000), Client: "ann", Kind: Stop}, Event{At: at(3000), Client: "bob", Kind: Stop})
			}),
			// bob's seat, seen by both; then neither has a record.
			want: []string{Rules, Rules, LostWrite, LostWrite},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Check(tt.events, tt.store, Options{})
			var got []string
			for _, a := range rep.Anomalies {
				got = append(got, a.Kind)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				for _, a := range rep.Anomalies {
					t.Log(a)
				}
				t.Fatalf("anomalies %v, want %v", got, tt.want)
			}
		})
	}
}

// The checker counts rounds that someone saw end.
func TestCheckCountsRounds(t *testing.T) {
	if n := Check(clean(), cleanStore(), Options{}).Rounds; n != 2 {
		t.Fatalf("rounds %d, want 2", n)
	}
}

// A history survives its JSON lines.
func TestRecorderRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	rec := NewRecorder(&buf)
	for _, e := range clean() {
		rec.Add(e)
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	back, err := ReadEvents(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if rep := Check(back, cleanStore(), Options{}); len(rep.Anomalies) != 0 || rep.Rounds != 2 {
		t.Fatalf("read back: %+v", rep)
	}
	if _, err := ReadEvents(strings.NewReader("{\"ev\":\"start\"}\nnot json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("a broken line: %v, want an error naming line 2", err)
	}
}
