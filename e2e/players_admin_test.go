package e2e

import (
	"encoding/json"
	"fmt"
	"image/color"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// boardLine is uid's line of the leaderboard, or nil.
func boardLine(t *testing.T, s *testserver.Server, uid string) map[string]any {
	t.Helper()
	_, body := getJSON(t, http.MethodGet, s.URL+"/leaderboard?top=100", "")
	lines, _ := body["players"].([]any)
	for _, l := range lines {
		if m := l.(map[string]any); m["uid"] == uid {
			return m
		}
	}
	return nil
}

// closedWith reads c until its socket closes and says with what.
func closedWith(t *testing.T, c *wsClient) (code int, errors []string) {
	t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(waitTime))
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !asClose(err, &ce) {
				t.Fatalf("the socket ended with %v, not a close", err)
			}
			return ce.Code, errors
		}
		var env map[string]map[string]any
		json.Unmarshal(data, &env)
		if e, ok := env["error"]; ok {
			errors = append(errors, fmt.Sprint(e["code"]))
		}
	}
}

func asClose(err error, ce **websocket.CloseError) bool {
	c, ok := err.(*websocket.CloseError)
	*ce = c
	return ok
}

// TestAdminPlayers: an operator renames, resets and bans a player who is
// online, through the admin API and `caiquan admin`; the live player actor
// keeps every change (its cached record does not write over it), a ban
// closes the live socket with 4005 and refuses hellos and uploads until
// unbanned.
func TestAdminPlayers(t *testing.T) {
	const adminToken = "players-admin-token-0123456789abcdef"
	s := startGuestServer(t, []string{newKey}, "-admin-token", adminToken)
	cli := func(args ...string) (string, int) {
		t.Helper()
		out, err := exec.Command(testserver.Binary(t), append([]string{"admin", "-addr", s.AdminAddr(), "-token", adminToken}, args...)...).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	alice, aliceTok := newGuest(t, s)
	a, _ := greet(t, s, "", aliceTok) // hello names her "N" (hello's uid is ignored)
	a.playRound(alice)

	// Rename: her own client keeps sending "N"; the board shows the
	// operator's name after her next round, and after she comes back.
	if out, code := cli("rename", alice, "Queen 女王"); code != 0 || !strings.Contains(out, "rename "+alice) {
		t.Fatalf("admin rename: exit %d\n%s", code, out)
	}
	a.playRound(alice)
	if l := boardLine(t, s, alice); l == nil || l["uname"] != "Queen 女王" {
		t.Fatalf("after rename and a round: %v", l)
	}
	a.ws.Close()
	a, _ = greet(t, s, "", aliceTok)
	a.playRound(alice)
	if l := boardLine(t, s, alice); l == nil || l["uname"] != "Queen 女王" {
		t.Fatalf("after rename and a new session: %v", l)
	}

	// Reset while online: off the board; her next round counts from 0.
	if status, body := adminJSON(t, s, http.MethodPost, "/players/"+alice+"/reset", `{}`); status != 200 || body["op"] != "reset" {
		t.Fatalf("reset: %d %v", status, body)
	}
	if l := boardLine(t, s, alice); l != nil {
		t.Fatalf("after reset the board has %v", l)
	}
	got := a.playRound(alice)
	_, exp := meJSON(t, s, http.MethodGet, "/me/export", aliceTok)
	if exp["rounds"].(float64) != 1 || int(exp["total"].(float64)) != got.total || got.total > 3 {
		t.Fatalf("after reset and one round: result %+v, export %v", got, exp)
	}

	// Ban: the live socket is told and closed; her hellos and uploads are
	// refused; unban lets her back.
	out, code := cli("ban", alice)
	if code != 0 || !strings.Contains(out, "live session was closed") {
		t.Fatalf("admin ban: exit %d\n%s", code, out)
	}
	if code, errs := closedWith(t, a); code != 4005 || !strings.Contains(strings.Join(errs, ","), "banned") {
		t.Fatalf("the banned player's socket closed with %d after errors %v; want 4005 after banned", code, errs)
	}
	c := dial(t, s.WSURL("/ws?format=json"))
	c.send("hello", hello("", aliceTok))
	c.expectError("banned")
	if status, body := upload(t, s, aliceTok, pngOf(t, picture(4, 4, color.Black)), ""); status != 403 || body["code"] != "banned" {
		t.Errorf("upload while banned: %d %v", status, body)
	}
	if status, body := postGuest(t, s, aliceTok); status != 403 || body["code"] != "banned" {
		t.Errorf("renewal while banned: %d %v", status, body)
	}
	if out, code := cli("unban", alice); code != 0 {
		t.Fatalf("admin unban: exit %d\n%s", code, out)
	}
	c.send("hello", hello("", aliceTok))
	c.expect("hi")
	if status, body := postGuest(t, s, aliceTok); status != 200 || body["uid"] != alice {
		t.Errorf("renewal after unban: %d %v", status, body)
	}

	// Refusals of the admin API.
	for _, tc := range []struct{ path, body, code string }{
		{"/players/" + alice + "/explode", `{}`, "unknown_op"},
		{"/players/" + alice + "/rename", `{}`, "bad_request"},
		{"/players/" + alice + "/reset", `{"uname":"x"}`, "bad_request"},
		{"/players/a%20b/ban", `{}`, "bad_uid"},
	} {
		if status, body := adminJSON(t, s, http.MethodPost, tc.path, tc.body); body["code"] != tc.code || status < 400 {
			t.Errorf("POST %s %s: %d %v; want %s", tc.path, tc.body, status, body, tc.code)
		}
	}
	if status, body := doJSON(t, http.MethodPost, "http://"+s.AdminAddr()+"/players/"+alice+"/ban", "", `{}`); status != 401 {
		t.Errorf("ban without the admin token: %d %v", status, body)
	}
	if out, code := cli("rename", alice); code == 0 || !strings.Contains(out, "usage") {
		t.Errorf("admin rename without a name: exit %d\n%s", code, out)
	}
}

// TestContentCheck: in WeChat mode names and pictures go to WeChat's
// content check (the stand-in) first. A refused one gets content_refused
// and is shown nowhere; a check that fails refuses too (content_check);
// an avatar that is not one of the server's own cannot be checked, so it
// is refused.
func TestContentCheck(t *testing.T) {
	s := startWeChatServer(t)
	// /login's uname.
	status, body := getJSON(t, http.MethodPost, s.URL+"/login", `{"code":"ok-oEve","uname":"a badword here"}`)
	if status != 422 || body["code"] != "content_refused" {
		t.Fatalf("login with a risky name: %d %v", status, body)
	}
	status, body = getJSON(t, http.MethodPost, s.URL+"/login", `{"code":"ok-oEve","uname":"Eve","uavatar":"https://evil.example/x.png"}`)
	if status != 422 || body["code"] != "content_refused" {
		t.Fatalf("login with a foreign avatar: %d %v", status, body)
	}
	status, body = getJSON(t, http.MethodPost, s.URL+"/login", `{"code":"ok-oEve","uname":"Eve"}`)
	if status != 200 {
		t.Fatalf("login: %d %v", status, body)
	}
	uid, token := body["uid"].(string), body["token"].(string)

	// Pictures.
	if status, body := upload(t, s, token, pngOf(t, picture(8, 8, red)), ""); status != 422 || body["code"] != "content_refused" {
		t.Errorf("risky picture: %d %v", status, body)
	}
	if status, body := upload(t, s, token, pngOf(t, picture(8, 8, green)), ""); status != 503 || body["code"] != "content_check" {
		t.Errorf("picture while the check fails: %d %v", status, body)
	}
	status, body = upload(t, s, token, jpegOf(t, picture(8, 8, color.Black)), "")
	pic, _ := body["url"].(string)
	if status != 200 || pic == "" {
		t.Fatalf("a fine picture: %d %v", status, body)
	}

	// Hello's name and avatar.
	c := dial(t, s.WSURL("/ws?format=json"))
	user := func(name, avatar string) map[string]any {
		return map[string]any{"token": token, "user": map[string]any{"uid": "x", "uname": name, "uavatar": avatar}}
	}
	c.send("hello", user("the badword king", pic))
	c.expectError("content_refused")
	c.send("hello", user("checkdown", pic))
	c.expectError("content_check")
	c.send("hello", user("Eve", "https://evil.example/x.png"))
	c.expectError("content_refused")
	c.send("hello", user("Eve 2", pic))
	c.send("join", map[string]any{}) // behind the hello, while its name is checked
	c.expect("hi")
	start := c.expect("start")
	if !strings.Contains(fmt.Sprint(start), "Eve 2") || strings.Contains(fmt.Sprint(start), "badword") {
		t.Fatalf("start: %v", start)
	}
	c.send("choice", map[string]any{"choice": 2})
	c.expect("result")
	if l := boardLine(t, s, uid); l == nil || l["uname"] != "Eve 2" || l["uavatar"] != pic {
		t.Fatalf("board line %v; want Eve 2 with %s", l, pic)
	}
}

// TestBannedWeChatLogin: a banned WeChat player's /login is refused with
// 403 banned (its uid comes from its openid, so logging in again does
// not escape the ban); unbanned, it logs in.
func TestBannedWeChatLogin(t *testing.T) {
	s := startWeChatServer(t)
	status, body := login(t, s, "ok-oMallory")
	if status != 200 {
		t.Fatalf("login: %d %v", status, body)
	}
	uid := body["uid"].(string)
	if status, body := adminJSON(t, s, http.MethodPost, "/players/"+uid+"/ban", `{}`); status != 200 || body["kicked"] != false {
		t.Fatalf("ban of an offline player: %d %v", status, body)
	}
	if status, body := login(t, s, "ok-oMallory"); status != 403 || body["code"] != "banned" {
		t.Fatalf("login while banned: %d %v", status, body)
	}
	if status, body := login(t, s, "ok-oSomeoneElse"); status != 200 {
		t.Fatalf("another player's login: %d %v", status, body)
	}
	adminJSON(t, s, http.MethodPost, "/players/"+uid+"/unban", `{}`)
	if status, body := login(t, s, "ok-oMallory"); status != 200 || body["uid"] != uid {
		t.Fatalf("login after unban: %d %v", status, body)
	}
}
