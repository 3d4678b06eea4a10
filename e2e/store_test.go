package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/internal/testing/pgtest"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/rules"
	"github.com/caiquan/caiquan/store/pebble"
)

// runCLI runs the binary with args and returns its output and exit code.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(testserver.Binary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errb, strings.NewReader(stdin)
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// An operator's round trip on a running server: a checkpoint through the
// admin API (plain names only), checked and exported while the server
// runs, imported into a new store that a second server then serves with
// the same totals. A bad import file changes nothing; damage makes check
// fail naming the file.
func TestStoreCheckpointExportImport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "caiquan.db")
	s := testserver.Start(t, "-store-path", path, "-bot-fill", "100ms", "-round-time", "1s")
	c := dial(t, s.WSURL("/ws?format=json"))
	c.send("hello", hello("ann", ""))
	c.expect("hi")
	var last tally
	for i := 0; i < 8 && last.total <= 0; i++ {
		last = c.playRound("ann")
	}
	for _, bad := range []string{`{"name":"../escape"}`, `{"name":""}`, `{"name":".hidden"}`, `{"name":"a/b"}`,
		`{"name":"` + strings.Repeat("x", 65) + `"}`, `{"dir":"/tmp/x"}`, `not json`} {
		if status, body := adminJSON(t, s, http.MethodPost, "/store/checkpoint", bad); status != http.StatusBadRequest {
			t.Errorf("checkpoint %s: %d %v; want 400", bad, status, body)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); err == nil {
		t.Fatal("a checkpoint escaped its directory")
	}
	status, body := adminJSON(t, s, http.MethodPost, "/store/checkpoint", `{"name":"ck-1"}`)
	if status != http.StatusOK {
		t.Fatalf("checkpoint: %d %v", status, body)
	}
	ck := body["path"].(string)
	if want := path + ".checkpoints/ck-1"; ck != want {
		t.Errorf("checkpoint at %s, want %s", ck, want)
	}
	if status, _ := adminJSON(t, s, http.MethodPost, "/store/checkpoint", `{"name":"ck-1"}`); status != http.StatusConflict {
		t.Errorf("the same name again: %d, want 409", status)
	}
	// The live store is locked: check says so and where to go.
	if _, errOut, code := runCLI(t, "", "store", "check", "-store-path", path); code == 0 || !strings.Contains(errOut, "in use") {
		t.Errorf("check of the live store: exit %d, %s", code, errOut)
	}
	out, errOut, code := runCLI(t, "", "store", "check", "-store-path", ck)
	if code != 0 || !strings.Contains(out, "1 records, 1 on the leaderboard, 0 damaged") {
		t.Fatalf("check of the checkpoint: exit %d\n%s%s", code, out, errOut)
	}
	export, errOut, code := runCLI(t, "", "store", "export", "-store-path", ck)
	if code != 0 || !strings.Contains(export, `"uid":"ann"`) || !strings.Contains(export, fmt.Sprintf(`"total":%d`, last.total)) {
		t.Fatalf("export: exit %d\n%s%s", code, export, errOut)
	}

	fresh := filepath.Join(dir, "fresh.db")
	badFile := export + "{\"uid\":\"x\",\"record\":{\"v\":9}}\n"
	if _, errOut, code := runCLI(t, badFile, "store", "import", "-store-path", fresh); code != 1 || !strings.Contains(errOut, "line 2") || !strings.Contains(errOut, "nothing imported") {
		t.Errorf("import of a bad file: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("a bad import file made a store")
	}
	if out, errOut, code := runCLI(t, export, "store", "import", "-store-path", fresh); code != 0 || !strings.Contains(out, "imported 1 records") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	s2 := testserver.Start(t, "-store-path", fresh)
	c2 := dial(t, s2.WSURL("/ws?format=json"))
	c2.send("hello", hello("ann", ""))
	hi := c2.expect("hi")
	if got := (tally{int(hi["totalScore"].(float64)), int(hi["winStreak"].(float64))}); got != last {
		t.Errorf("after export and import: %v, want %v", got, last)
	}

	// Damage in the checkpoint's data file: check fails and names it.
	ssts, _ := filepath.Glob(filepath.Join(ck, "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("the checkpoint has no data file")
	}
	data, _ := os.ReadFile(ssts[0])
	data[len(data)/3] ^= 0x40
	os.WriteFile(ssts[0], data, 0o600)
	if _, errOut, code := runCLI(t, "", "store", "check", "-store-path", ck); code != 1 || !strings.Contains(errOut, filepath.Base(ssts[0])) || !strings.Contains(errOut, "restore") {
		t.Errorf("check of a damaged checkpoint: exit %d, %s", code, errOut)
	}
}

// Records move from the embedded store to PostgreSQL and back unchanged:
// export, import, check, export again.
func TestStoreMovesToPostgres(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caiquan.db")
	db, err := pebble.Open(path, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for uid, total := range map[string]int32{"wx_ann": 12, "guest-bo": 3} {
		rec := caiquan.PlayerRecord{Standing: rules.Standing{Total: total, Streak: 1}, Rounds: 4, Uname: "名" + uid, LastSeen: seen}
		rec, _, _ = caiquan.ApplyRound(rec, "r-"+uid, 1)
		if err := db.Save(uid, rec); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	pg := pgtest.Start(t)
	export, errOut, code := runCLI(t, "", "store", "export", "-store-path", path)
	if code != 0 {
		t.Fatalf("export: %d %s", code, errOut)
	}
	if out, errOut, code := runCLI(t, export, "store", "import", "-store", "postgres", "-postgres-url", pg.URL); code != 0 || !strings.Contains(out, "imported 2 records") {
		t.Fatalf("import into postgres: %d %s%s", code, out, errOut)
	}
	if out, errOut, code := runCLI(t, "", "store", "check", "-store", "postgres", "-postgres-url", pg.URL); code != 0 || !strings.Contains(out, "2 records, 0 damaged") {
		t.Fatalf("check postgres: %d %s%s", code, out, errOut)
	}
	back, errOut, code := runCLI(t, "", "store", "export", "-store", "postgres", "-postgres-url", pg.URL)
	if code != 0 || back != export {
		t.Fatalf("export of postgres (%d, %s) differs:\n%s\nwant\n%s", code, errOut, back, export)
	}
}
