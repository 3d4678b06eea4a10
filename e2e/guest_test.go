package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/auth"
	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// Token secrets of the guest tests: a deployment that signed with oldKey
// and now signs with newKey, and one it retired.
var (
	newKey     = strings.Repeat("N", 40)
	oldKey     = strings.Repeat("O", 32)
	retiredKey = strings.Repeat("R", 32)
)

func startGuestServer(t *testing.T, secrets []string, flags ...string) *testserver.Server {
	t.Helper()
	return testserver.Start(t, append([]string{
		"-auth-mode", "guest", "-auth-secrets", strings.Join(secrets, ","),
		"-bot-fill", "100ms", "-round-time", "1s",
	}, flags...)...)
}

// postGuest calls POST /guest, with "Authorization: Bearer token" unless
// token is "".
func postGuest(t *testing.T, s *testserver.Server, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/guest", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST /guest: not JSON: %v", err)
	}
	return resp.StatusCode, out
}

// newGuest is a fresh guest's uid and token.
func newGuest(t *testing.T, s *testserver.Server) (uid, token string) {
	t.Helper()
	status, body := postGuest(t, s, "")
	uid, _ = body["uid"].(string)
	token, _ = body["token"].(string)
	if status != 200 || !strings.HasPrefix(uid, "g_") || token == "" {
		t.Fatalf("POST /guest: %d %v", status, body)
	}
	return uid, token
}

// mint signs a token as a server with these secrets would have at issued,
// valid for a day.
func mint(t *testing.T, uid string, issued time.Time, secrets ...string) string {
	t.Helper()
	sg, err := auth.NewSignerKeys(secrets, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := sg.Issue(auth.Claims{Sub: uid}, issued)
	return tok
}

// mintV1 signs a token in the format before key ids: "v1." claims "." HMAC.
func mintV1(uid string, exp time.Time, secret string) string {
	claims, _ := json.Marshal(map[string]any{"sub": uid, "iat": exp.Add(-24 * time.Hour).Unix(), "exp": exp.Unix()})
	body := "v1." + base64URL.EncodeToString(claims)
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(body))
	return body + "." + base64URL.EncodeToString(h.Sum(nil))
}

// greet says hello with token on a new /ws socket and returns the socket
// and its hi.
func greet(t *testing.T, s *testserver.Server, claim, token string) (*wsClient, map[string]any) {
	t.Helper()
	c := dial(t, s.WSURL("/ws?format=json"))
	c.send("hello", hello(claim, token))
	return c, c.expect("hi")
}

func total(hi map[string]any) int {
	n, _ := hi["totalScore"].(float64)
	return int(n)
}

// The attacker knows a guest's uid (it shows in every room and on the
// leaderboard) and tries to play as it: without a token, with its own
// token and the uid claimed in hello, with a token whose subject it
// changed, with one signed by a key of its own. None of it reaches the
// guest's player: the guest's socket is never replaced, its total and name
// stay its own.
func TestGuestCannotBeImpersonated(t *testing.T) {
	s := startGuestServer(t, []string{newKey})
	alice, aliceTok := newGuest(t, s)
	a, hi := greet(t, s, "", aliceTok)
	if total(hi) != 0 {
		t.Fatalf("a new guest's hi: %v", hi)
	}
	aTotal := a.playRound(alice).total

	mallory, malTok := newGuest(t, s)
	m := dial(t, s.WSURL("/ws?format=json"))
	m.send("hello", hello(alice, ""))
	m.expectError("token_required")
	forged := strings.Split(malTok, ".") // v2, key id, claims, signature
	claims, _ := base64URL.DecodeString(forged[2])
	forged[2] = base64URL.EncodeToString([]byte(strings.Replace(string(claims), mallory, alice, 1)))
	for name, tok := range map[string]string{
		"subject changed":   strings.Join(forged, "."),
		"own key":           mint(t, alice, time.Now(), strings.Repeat("M", 32)),
		"own key, our id":   strings.Replace(mint(t, alice, time.Now(), strings.Repeat("M", 32)), auth.KeyID(strings.Repeat("M", 32)), auth.KeyID(newKey), 1),
		"signature altered": aliceTok[:len(aliceTok)-2] + "AA",
	} {
		m.send("hello", hello(alice, tok))
		if body := m.expect("error"); body["code"] != "bad_token" {
			t.Errorf("%s: %v, want bad_token", name, body)
		}
		if status, body := postGuest(t, s, tok); status != 401 || body["code"] != auth.CodeBadToken {
			t.Errorf("%s: POST /guest %d %v, want 401 bad_token", name, status, body)
		}
	}
	// With its own token, whatever uid it claims, mallory is mallory.
	m.send("hello", map[string]any{"user": map[string]any{"uid": alice, "uname": "Mallory"}, "token": malTok})
	m.expect("hi")
	m.playRound(mallory) // fails unless the result names mallory

	// Alice's socket was never replaced: it plays on, from her total.
	if got := a.playRound(alice); got.total < aTotal {
		t.Fatalf("alice's total went from %d to %d", aTotal, got.total)
	}
	status, board := getJSON(t, http.MethodGet, s.URL+"/leaderboard/"+alice+"?around=0", "")
	line := board["players"].([]any)[0].(map[string]any)
	if status != 200 || line["uid"] != alice || line["uname"] == "Mallory" {
		t.Fatalf("alice on the leaderboard: %d %v", status, board)
	}
}

// Renewal: a guest's token, valid or expired within guest_refresh_window,
// renews at POST /guest for the same uid, and the guest plays on from its
// total; past the window, or for a WeChat player's token, it is refused.
// The expired tokens are signed by the test with the server's secret, as
// the server signed them a day or a month ago.
func TestGuestRenewal(t *testing.T) {
	s := startGuestServer(t, []string{newKey})
	uid, tok := newGuest(t, s)
	a, _ := greet(t, s, "", tok)
	played := a.playRound(uid).total
	a.ws.Close()

	// Valid: renewed at once.
	if status, body := postGuest(t, s, tok); status != 200 || body["uid"] != uid {
		t.Fatalf("renewing a valid token: %d %v", status, body)
	}
	// Expired an hour ago: refused on a socket, renewed at /guest.
	expired := mint(t, uid, time.Now().Add(-25*time.Hour), newKey)
	c := dial(t, s.WSURL("/ws?format=json"))
	c.send("hello", hello("", expired))
	c.expectError("token_expired")
	status, body := postGuest(t, s, expired)
	if status != 200 || body["uid"] != uid {
		t.Fatalf("renewing a token expired an hour ago: %d %v", status, body)
	}
	c.send("hello", hello("", body["token"].(string)))
	if hi := c.expect("hi"); total(hi) != played {
		t.Fatalf("after renewal hi says total %d, want %d", total(hi), played)
	}

	// Expired 721 h ago, past the 720 h window: refused, with a code.
	old := mint(t, uid, time.Now().Add(-(24+721)*time.Hour), newKey)
	if status, body := postGuest(t, s, old); status != 401 || body["code"] != auth.CodeRefreshExpired || body["token"] != nil {
		t.Fatalf("renewing past the window: %d %v", status, body)
	}
	// A WeChat player's token, well signed, is not a guest's.
	wx := mint(t, auth.UID("wxapp", "oAlice"), time.Now(), newKey)
	if status, body := postGuest(t, s, wx); status != 403 || body["code"] != auth.CodeNotGuest {
		t.Fatalf("renewing a WeChat token: %d %v", status, body)
	}
	if status, body := postGuest(t, s, "hello"); status != 401 || body["code"] != auth.CodeBadToken {
		t.Fatalf("renewing garbage: %d %v", status, body)
	}
	if status, body := getJSON(t, http.MethodGet, s.URL+"/guest", ""); status != 405 || body["code"] != auth.CodeMethod {
		t.Fatalf("GET /guest: %d %v", status, body)
	}
	// A shorter window, set by the operator, is honoured.
	short := startGuestServer(t, []string{newKey}, "-guest-refresh-window", "30m")
	if status, body := postGuest(t, short, expired); status != 401 || body["code"] != auth.CodeRefreshExpired {
		t.Fatalf("an hour past expiry with a 30m window: %d %v", status, body)
	}
}

// Rotation across restarts: a deployment that signed with oldKey now lists
// newKey first and oldKey second. Its guests' old tokens still play and
// renew (as newKey tokens, same uid); tokens of the format before key ids
// still play; a token of a retired secret is refused on the socket and at
// /guest. Once oldKey is retired too, its tokens stop working.
func TestSecretRotation(t *testing.T) {
	before := startGuestServer(t, []string{oldKey})
	uid, oldTok := newGuest(t, before)
	if !strings.HasPrefix(oldTok, "v2."+auth.KeyID(oldKey)+".") {
		t.Fatalf("token %q does not name its key", oldTok)
	}
	before.Stop()

	s := startGuestServer(t, []string{newKey, oldKey})
	greet(t, s, "", oldTok)
	status, body := postGuest(t, s, oldTok)
	if status != 200 || body["uid"] != uid || !strings.HasPrefix(body["token"].(string), "v2."+auth.KeyID(newKey)+".") {
		t.Fatalf("renewing an old-key token: %d %v; want the same uid under the new key", status, body)
	}
	newTok := body["token"].(string)
	greet(t, s, "", newTok)
	greet(t, s, "", mintV1("g_legacy", time.Now().Add(time.Hour), oldKey))

	retired := mint(t, uid, time.Now(), retiredKey)
	for name, tok := range map[string]string{"retired": retired, "v1, retired": mintV1(uid, time.Now().Add(time.Hour), retiredKey)} {
		c := dial(t, s.WSURL("/ws?format=json"))
		c.send("hello", hello("", tok))
		c.expectError("bad_token")
		if status, body := postGuest(t, s, tok); status != 401 || body["code"] != auth.CodeBadToken {
			t.Errorf("%s: POST /guest %d %v", name, status, body)
		}
	}
	s.Stop()

	after := startGuestServer(t, []string{newKey})
	greet(t, after, "", newTok)
	c := dial(t, after.WSURL("/ws?format=json"))
	c.send("hello", hello("", oldTok))
	c.expectError("bad_token")
}

// Socket.IO clients present guest tokens as WeChat ones: in the EIO4
// connect auth, or ?token= on EIO3.
func TestGuestTokensOnSocketIO(t *testing.T) {
	s := startGuestServer(t, []string{newKey})
	uid, tok := newGuest(t, s)
	eio4 := dial(t, s.WSURL("/applet/websocket/socket.io/?EIO=4&transport=websocket"))
	eio4.raw(`40{"token":"` + tok + `"}`)
	eio4.send("hello", map[string]any{"user": map[string]any{"uid": "someone"}})
	eio4.expect("hi")
	eio4.playRound(uid) // fails unless the result names the guest
	eio3 := dial(t, s.WSURL("/applet/websocket/socket.io//?EIO=3&transport=websocket"))
	eio3.send("hello", hello("someone", ""))
	eio3.expectError("token_required")
}

// Anonymous mode keeps the 2016 behaviour, impersonation included: a
// second connection naming the same uid takes the player over. Only the
// server's own prefixes are off limits, and /guest is off.
func TestAnonymousModeUnchanged(t *testing.T) {
	s := testserver.Start(t, "-bot-fill", "100ms", "-round-time", "1s") // anonymous by default
	a, _ := greet(t, s, "alice", "")
	played := a.playRound("alice").total
	b, hi := greet(t, s, "alice", "")
	if total(hi) != played {
		t.Fatalf("the second alice sees total %d, want alice's %d", total(hi), played)
	}
	a.ws.SetReadDeadline(time.Now().Add(waitTime))
	for {
		if _, _, err := a.ws.ReadMessage(); err != nil {
			if !strings.Contains(err.Error(), "4001") {
				t.Fatalf("the first alice's socket ended with %v, want close 4001", err)
			}
			break
		}
	}
	b.ws.Close()
	for _, uid := range []string{"g_0123456789abcdef01234567", "wx_0123456789abcdef01234567"} {
		c := dial(t, s.WSURL("/ws?format=json"))
		c.send("hello", hello(uid, ""))
		c.expectError("bad_user")
	}
	if status, body := postGuest(t, s, ""); status != 404 || body["code"] != auth.CodeGuestDisabled {
		t.Fatalf("POST /guest in anonymous mode: %d %v", status, body)
	}
}

// A server whose token secrets are wrong does not start, and says which
// setting, without printing the secret.
func TestBadSecretsRefusedAtStart(t *testing.T) {
	bin := testserver.Binary(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-auth-secrets", newKey + ",short-SECRET"}, "auth_secrets[1] must be at least 32 bytes, got 12"},
		{[]string{"-auth-secrets", newKey + "," + newKey}, "auth_secrets[1] is the same secret as auth_secrets[0]"},
		{[]string{"-auth-secrets", newKey, "-auth-secret", oldKey}, "auth_secret and auth_secrets are both set"},
		{nil, "auth_secrets (or auth_secret) is required when auth_mode is guest"},
	} {
		args := append([]string{"-auth-mode", "guest", "-listen", "127.0.0.1:0", "-admin-listen", "", "-metrics-listen", "", "-store", "memory",
			"-store-path", filepath.Join(t.TempDir(), "x.db")}, tc.args...)
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err == nil {
			t.Errorf("%v: the server started", tc.args)
			continue
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: output %q does not say %q", tc.args, out, tc.want)
		}
		for _, secret := range []string{newKey, oldKey, "short-SECRET"} {
			if strings.Contains(string(out), secret) {
				t.Errorf("%v: the output shows a secret: %q", tc.args, out)
			}
		}
	}
}
