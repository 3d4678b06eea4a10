package jsonstring

import (
	"encoding/json"
	"testing"
)

// With HTML escaping the bytes are encoding/json's; without, only <, > and
// & are left as they are.
func TestAppendAsEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `"quoted" \ back`, "<a href='x'>&amp;</a>", "\b\f\n\r\t\x00\x1f\x7f",
		"玩家 ünï 🎮", "\u2028\u2029", "bad \xff\xfe utf-8", "\xc3", "end\xe2\x80",
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := Append([]byte("x"), s, true); string(got) != "x"+string(want) {
			t.Errorf("%q: %s, want %s", s, got[1:], want)
		}
		var back string
		if err := json.Unmarshal(Append(nil, s, false), &back); err != nil {
			t.Errorf("%q without HTML escaping: %v", s, err)
		}
	}
	if got := string(Append(nil, "<&>", false)); got != `"<&>"` {
		t.Errorf("without HTML escaping: %s", got)
	}
}
