package bolt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// Read takes each uid's newest save from the file and its segments; a cut
// end of the newest segment is counted, damage before a newer segment is
// an error naming the segment; a file that is not bbolt is not taken for
// one.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "old.db")
	rec := func(total int32, writes int64) caiquan.PlayerRecord {
		return caiquan.PlayerRecord{Standing: rules.Standing{Total: total}, Rounds: 1, Writes: writes}
	}
	err := WriteOld(path, map[string]caiquan.PlayerRecord{"a": rec(1, 1), "b": rec(5, 5)},
		[][]Save{{{"a", rec(2, 2)}, {"b", rec(4, 4)}}, {{"a", rec(3, 3)}}}, []byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if !IsFile(path) || IsFile(dir) || IsFile(path+".journal.000001") || IsFile(filepath.Join(dir, "none")) {
		t.Fatal("IsFile is wrong")
	}
	old, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if old.Records["a"].Total != 3 || old.Records["b"].Total != 5 || old.FromFile != 2 || old.FromJournal != 3 || old.Cut != 3 || len(old.Segments) != 2 {
		t.Fatalf("Read = %+v", old)
	}
	seg1 := path + ".journal.000001"
	data, _ := os.ReadFile(seg1)
	os.WriteFile(seg1, append(data, 9, 9, 9, 9, 9, 9, 9, 9, 9), 0o600)
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), seg1) || !strings.Contains(err.Error(), "newer segments follow") {
		t.Fatalf("damage before a newer segment: %v", err)
	}
}
