package caiquan

import (
	"reflect"
	"testing"

	"github.com/caiquan/caiquan/rules"
)

// A record keeps the whole result of its newest round only: an older
// round's lines, or a round applied without lines, give none.
func TestRecordKeepsTheLastResult(t *testing.T) {
	line := func(uid string, choice int32, total int32) ResultLine {
		return ResultLine{UID: uid, Choice: choice, Outcome: rules.Outcome{RoundScore: 1, Standing: rules.Standing{Total: total, Streak: 1}}}
	}
	first := []ResultLine{line("a", 1, 1), line("b", 3, 0)}
	second := []ResultLine{line("a", 2, 2), line("c", 1, 0)}
	var rec PlayerRecord
	rec, _, _ = ApplyRoundWith(rec, "r1", 1, first)
	rec, _, _ = ApplyRoundWith(rec, "r2", 1, second)
	again, _, fresh := ApplyRoundWith(rec, "r1", 1, []ResultLine{line("x", 1, 9)})
	if fresh || !reflect.DeepEqual(again, rec) {
		t.Fatalf("a repeat of r1 changed the record: %+v", again)
	}
	for _, c := range []struct {
		round string
		want  []ResultLine
	}{{"r2", second}, {"r1", nil}, {"never", nil}} {
		if got := LastResult(rec, c.round); !reflect.DeepEqual(got, c.want) {
			t.Errorf("LastResult(%s) = %+v, want %+v", c.round, got, c.want)
		}
	}
	rec, _, _ = ApplyRound(rec, "r3", 0)
	if got := LastResult(rec, "r3"); got != nil {
		t.Errorf("a round applied without lines shows %+v", got)
	}
	if got := LastResult(rec, "r2"); got != nil {
		t.Errorf("r2 is not the newest round any more, and shows %+v", got)
	}
}

// A refused round is never applied, by any player actor that meets the
// record; an applied round cannot be refused; a record keeps the newest
// refusals only.
func TestRefusedRoundIsNeverApplied(t *testing.T) {
	var rec PlayerRecord
	rec, _, _ = ApplyRound(rec, "played", 1)
	if _, ok := RefuseRound(rec, "played"); ok {
		t.Fatal("refused a round the record applied")
	}
	rec, ok := RefuseRound(rec, "lost")
	if !ok || !rec.Refuses("lost") {
		t.Fatalf("RefuseRound(lost) = %+v, %v", rec, ok)
	}
	next, applied, fresh := ApplyRound(rec, "lost", 1)
	if fresh || applied.RoundID != "" || !reflect.DeepEqual(next, rec) {
		t.Fatalf("applied a refused round: %+v %+v %v", next, applied, fresh)
	}
	if again, ok := RefuseRound(rec, "lost"); !ok || len(again.Refused) != 1 {
		t.Fatalf("refusing twice: %+v, %v", again.Refused, ok)
	}
	for i := range 2 * refusedRounds {
		rec, _ = RefuseRound(rec, string(rune('a'+i)))
	}
	if len(rec.Refused) != refusedRounds || rec.Refuses("lost") || !rec.Refuses(string(rune('a'+2*refusedRounds-1))) {
		t.Fatalf("kept refusals %v: want the newest %d", rec.Refused, refusedRounds)
	}
}
