package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/rules"
	"github.com/caiquan/caiquan/store/pebble"
)

// A disk that fills up: below store_min_free_mib the server seats no new
// rounds (joins get server_busy, the metric says so, the log says it once,
// not every second), and once space is freed it seats again. Runs on a
// small tmpfs of its own (root only).
func TestDiskFullHoldsSeating(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	path := filepath.Join(mnt, "caiquan.db")
	s := testserver.Start(t, "-store-path", path, "-store-min-free-mib", "24", "-bot-fill", "100ms", "-round-time", "1s")
	c := dial(t, s.WSURL("/ws?format=json"))
	c.send("hello", hello("ann", ""))
	c.expect("hi")
	c.playRound("ann")
	if _, err := os.Stat(filepath.Join(path, "caiquan-ballast")); err != nil {
		t.Fatalf("no ballast: %v", err)
	}

	// Leave about 16 MiB free: below 24.
	var st syscall.Statfs_t
	syscall.Statfs(mnt, &st)
	free := int64(st.Bavail) * st.Bsize
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, free-16<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	waitFor(t, 5*time.Second, "the low-space log line", func() bool { return strings.Contains(s.Stderr(), "low on disk space") })
	c.send("join", map[string]any{})
	c.expectError("server_busy")
	if got := serverMetric(t, s, "caiquan_store_low_space"); got != "1" {
		t.Errorf("caiquan_store_low_space = %s, want 1", got)
	}
	if _, err := os.Stat(filepath.Join(path, "caiquan-ballast")); err == nil {
		t.Error("the ballast was kept while space is low")
	}
	// Three more seconds low: still one line, not one a second.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		c.send("join", map[string]any{})
		c.expectError("server_busy")
		time.Sleep(300 * time.Millisecond)
	}
	if n := strings.Count(s.Stderr(), "low on disk space"); n != 1 {
		t.Errorf("%d low-space lines in 3 s; want 1", n)
	}

	os.Remove(filler)
	waitFor(t, 5*time.Second, "seating again", func() bool { return strings.Contains(s.Stderr(), "disk space is back") })
	c.playRound("ann") // seated again
	if got := serverMetric(t, s, "caiquan_store_low_space"); got != "0" {
		t.Errorf("caiquan_store_low_space = %s after space came back, want 0", got)
	}
}

// Guests unseen for guest_record_ttl are removed by the sweep the server
// runs at start (and hourly); WeChat players and recent guests stay.
func TestGuestRecordsExpire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caiquan.db")
	db, err := pebble.Open(path, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old, recent := time.Now().Add(-800*time.Hour), time.Now().Add(-time.Hour)
	for uid, seen := range map[string]time.Time{"guest-old": old, "wx_old": old, "guest-new": recent} {
		if err := db.Save(uid, caiquan.PlayerRecord{Standing: rules.Standing{Total: 3}, Rounds: 1, LastSeen: seen}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s := testserver.Start(t, "-store-path", path, "-guest-record-ttl", "720h")
	waitFor(t, 5*time.Second, "the sweep's log line", func() bool { return strings.Contains(s.Stderr(), "removed=1") })
	for uid, want := range map[string]int{"guest-old": 404, "wx_old": 200, "guest-new": 200} {
		if status, body := getJSON(t, http.MethodGet, s.URL+"/leaderboard/"+uid, ""); status != want {
			t.Errorf("leaderboard/%s: %d %v, want %d", uid, status, body, want)
		}
	}
	if got := serverMetric(t, s, "caiquan_store_guest_records_expired_total"); got != "1" {
		t.Errorf("caiquan_store_guest_records_expired_total = %s, want 1", got)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no %s within %v", what, d)
		}
	}
}

// serverMetric reads one unlabelled metric from the metrics listener.
func serverMetric(t *testing.T, s *testserver.Server, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + s.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return fmt.Sprintf("(no %s)", name)
}

// A record this release cannot read (a newer version) met while serving:
// that player gets server_busy, not a zero record; the log names the key;
// the metric counts it; everyone else plays.
func TestDamagedRecordIsServerBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caiquan.db")
	db, err := pebble.Open(path, pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutRaw("future", []byte(`{"v":2,"w":4,"total":40,"rounds":9,"recent":[]}`)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := testserver.Start(t, "-store-path", path, "-bot-fill", "100ms", "-round-time", "500ms")
	c := dial(t, s.WSURL("/ws?format=json"))
	c.send("hello", hello("future", ""))
	c.expectError("server_busy")
	if !strings.Contains(s.Stderr(), "key=p/future") {
		t.Errorf("no log line names the damaged key:\n%s", s.Stderr())
	}
	if got := serverMetric(t, s, "caiquan_store_damaged_records_total"); got == "0" || strings.HasPrefix(got, "(") {
		t.Errorf("caiquan_store_damaged_records_total = %s", got)
	}
	other := dial(t, s.WSURL("/ws?format=json"))
	other.send("hello", hello("fine", ""))
	other.expect("hi")
	other.playRound("fine")
}
