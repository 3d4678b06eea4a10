package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/rules"
	"github.com/caiquan/caiquan/store/bolt"
)

// The leaderboard over HTTP, on a known set of players written to a bbolt
// file of an earlier release before the server starts (so the server
// migrates it first, and says so): order by total, ties by uid in byte
// order sharing a rank, players without a finished round left out.
func TestLeaderboardHTTP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "board.db")
	old := map[string]caiquan.PlayerRecord{}
	for _, p := range []struct {
		uid           string
		total, streak int32
		rounds        int
	}{
		{"dora", 10, 1, 9}, {"a", 7, 0, 8}, {"B", 7, 2, 7}, {"carl", 7, 1, 6},
		{"eve", 12, 3, 5}, {"fay", 0, 0, 3}, {"gus", 3, 0, 2}, {"idle", 0, 0, 0},
	} {
		rec := caiquan.PlayerRecord{Standing: rules.Standing{Total: p.total, Streak: p.streak}, Rounds: p.rounds, Uname: "名" + p.uid, Uavatar: "https://a.example/" + p.uid}
		rec.Writes = 1
		old[p.uid] = rec
	}
	if err := bolt.WriteOld(path, old, nil, nil); err != nil {
		t.Fatal(err)
	}
	s := testserver.Start(t, "-store-path", path)
	if !strings.Contains(s.Stderr(), "migrated the bbolt store") || !strings.Contains(s.Stderr(), "records=8") {
		t.Errorf("the migration of the bbolt file was not logged:\n%s", s.Stderr())
	}

	lines := func(body map[string]any) string {
		var out []string
		for _, l := range body["players"].([]any) {
			m := l.(map[string]any)
			out = append(out, fmt.Sprintf("%v:%v:%v:%v", m["rank"], m["uid"], m["total"], m["streak"]))
			if m["uname"] != "名"+m["uid"].(string) || m["uavatar"] != "https://a.example/"+m["uid"].(string) {
				t.Errorf("line %v lacks its name or avatar", m)
			}
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		path, want string
	}{
		{"/leaderboard?top=3", "1:eve:12:3 2:dora:10:1 3:B:7:2"},
		{"/leaderboard", "1:eve:12:3 2:dora:10:1 3:B:7:2 3:a:7:0 3:carl:7:1 6:gus:3:0 7:fay:0:0"},
		{"/leaderboard/a?around=2", "2:dora:10:1 3:B:7:2 3:a:7:0 3:carl:7:1 6:gus:3:0"},
		{"/leaderboard/eve?around=1", "1:eve:12:3 2:dora:10:1"},
		{"/leaderboard/fay", "2:dora:10:1 3:B:7:2 3:a:7:0 3:carl:7:1 6:gus:3:0 7:fay:0:0"},
	} {
		status, body := getJSON(t, http.MethodGet, s.URL+tc.path, "")
		if status != 200 {
			t.Fatalf("GET %s: %d %v", tc.path, status, body)
		}
		if got := lines(body); got != tc.want {
			t.Errorf("GET %s = %s\nwant %s", tc.path, got, tc.want)
		}
	}
	if _, body := getJSON(t, http.MethodGet, s.URL+"/leaderboard/carl?around=0", ""); body["rank"] != 3.0 || body["uid"] != "carl" {
		t.Errorf("carl's own rank: %v", body)
	}
	for path, want := range map[string]string{
		"/leaderboard?top=0":       "400 bad_request",
		"/leaderboard?top=101":     "400 bad_request",
		"/leaderboard?top=ten":     "400 bad_request",
		"/leaderboard/a?around=51": "400 bad_request",
		"/leaderboard/idle":        "404 unknown_player",
		"/leaderboard/nobody":      "404 unknown_player",
		"/leaderboard/":            "400 bad_request",
	} {
		status, body := getJSON(t, http.MethodGet, s.URL+path, "")
		if got := fmt.Sprint(status, " ", body["code"]); got != want {
			t.Errorf("GET %s = %s %v; want %s", path, got, body, want)
		}
	}
	if status, body := getJSON(t, http.MethodPost, s.URL+"/leaderboard", ""); status != 405 {
		t.Errorf("POST /leaderboard = %d %v", status, body)
	}
}
