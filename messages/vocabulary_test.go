package messages

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Every message type is either one the first release knew or one listed
// with the vocabulary that added it, never both: a type added without a
// number would go to members of older releases, which panic on it.
func TestEveryTypeHasAVocabulary(t *testing.T) {
	data, err := os.ReadFile("testdata/vocabulary-1.txt")
	if err != nil {
		t.Fatal(err)
	}
	first := map[protoreflect.FullName]bool{}
	for _, name := range strings.Fields(string(data)) {
		first[protoreflect.FullName(name)] = true
	}
	seen := map[protoreflect.FullName]bool{}
	for _, fd := range []protoreflect.FileDescriptor{File_client_proto, File_internal_proto} {
		msgs := fd.Messages()
		for i := range msgs.Len() {
			name := msgs.Get(i).FullName()
			seen[name] = true
			v, added := vocabularySince[name]
			switch {
			case first[name] && added:
				t.Errorf("%s is in the first release's vocabulary and listed as added in %d", name, v)
			case !first[name] && !added:
				t.Errorf("%s is new since the first release: list it in vocabularySince with Vocabulary (%d)", name, Vocabulary)
			case added && (v < 2 || v > Vocabulary):
				t.Errorf("%s: vocabulary %d is not between 2 and %d", name, v, Vocabulary)
			}
		}
	}
	for name := range vocabularySince {
		if !seen[name] {
			t.Errorf("vocabularySince lists %s, which is no message type", name)
		}
	}
	for name := range first {
		if !seen[name] {
			t.Errorf("%s of the first release is gone: a member of that release may still send it", name)
		}
	}
}

func TestVocabularyOf(t *testing.T) {
	for _, c := range []struct {
		msg  any
		want int
	}{
		{&Join{}, 1},
		{&Seated{}, 2},
		{&PipeSend{}, 2},
		{&Resume{}, 2},
		{wrapperspb.String("ping"), 1},
		{"not a protobuf message", 1},
		{nil, 1},
	} {
		if got := VocabularyOf(c.msg); got != c.want {
			t.Errorf("VocabularyOf(%T) = %d, want %d", c.msg, got, c.want)
		}
	}
}
