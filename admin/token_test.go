package admin

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestTokenFileMadeOnceAndReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caiquan.admin-token")
	tok, made, err := LoadOrCreateToken(path)
	if err != nil || !made {
		t.Fatalf("first start: %q %v %v", tok, made, err)
	}
	if err := ValidToken(tok); err != nil || len(tok) < 43 {
		t.Fatalf("made token %q: %v", tok, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("token file mode %#o, want 0640", st.Mode().Perm())
	}
	again, made, err := LoadOrCreateToken(path)
	if err != nil || made || again != tok {
		t.Fatalf("second start: %q made=%v %v, want the first token again", again, made, err)
	}
	if got, err := ReadTokenFile(path); err != nil || got != tok {
		t.Fatalf("ReadTokenFile: %q %v", got, err)
	}
	other, _, _ := LoadOrCreateToken(filepath.Join(t.TempDir(), "other"))
	if other == tok {
		t.Fatal("two token files hold the same token")
	}
}

// Servers starting together on one file all end with the token in it.
func TestTokenFileRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tok")
	toks := make([]string, 8)
	var wg sync.WaitGroup
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, _, err := LoadOrCreateToken(path)
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		}()
	}
	wg.Wait()
	final, _ := ReadTokenFile(path)
	for i, tok := range toks {
		if tok != final {
			t.Errorf("server %d has %q, the file %q", i, tok, final)
		}
	}
}

// A file an operator must look at is never overwritten.
func TestTokenFileRefused(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		content string
		mode    os.FileMode
		want    string
	}{
		"short":          {"hunter2\n", 0o600, "holds no valid token"},
		"empty":          {"", 0o600, "holds no valid token"},
		"spaces":         {strings.Repeat("a b ", 10), 0o600, "printable ASCII without spaces"},
		"world readable": {strings.Repeat("k", 40), 0o644, "may be read by every user"},
		"world writable": {strings.Repeat("k", 40), 0o662, "may be read by every user"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, []byte(tc.content), tc.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, tc.mode)
		_, _, err := LoadOrCreateToken(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "admin_token_file "+path) {
			t.Errorf("%s: %v, want an error naming admin_token_file and %q", name, err, tc.want)
		}
		if b, _ := os.ReadFile(path); string(b) != tc.content {
			t.Errorf("%s: the file was changed to %q", name, b)
		}
	}
	if _, _, err := LoadOrCreateToken(filepath.Join(dir, "no-such-dir", "tok")); err == nil || !strings.Contains(err.Error(), "admin_token_file") {
		t.Errorf("file in a missing folder: %v", err)
	}
}
