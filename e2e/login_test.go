package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/auth"
	"github.com/caiquan/caiquan/internal/testing/testserver"
)

const (
	appID     = "wxtestapp"
	appSecret = "wxtestsecret"
	secret    = "e2e-secret-e2e-secret-e2e-secret-e2e"
)

// fakeCode2Session is WeChat's code2Session on 127.0.0.1: "ok-<openid>"
// logs in, "err-<n>" answers errcode n, "slow" answers after 3 s. It is
// WeChat's content check too (fakeContentCheck).
func fakeCode2Session(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fakeContentCheck(w, r) {
			return
		}
		q := r.URL.Query()
		if r.URL.Path != "/sns/jscode2session" || q.Get("appid") != appID || q.Get("secret") != appSecret || q.Get("grant_type") != "authorization_code" {
			json.NewEncoder(w).Encode(map[string]any{"errcode": 40013, "errmsg": "invalid appid"})
			return
		}
		code := q.Get("js_code")
		switch {
		case strings.HasPrefix(code, "ok-"):
			json.NewEncoder(w).Encode(map[string]any{"openid": strings.TrimPrefix(code, "ok-"), "session_key": "sk"})
		case strings.HasPrefix(code, "err-"):
			var n int
			json.Unmarshal([]byte(strings.TrimPrefix(code, "err-")), &n)
			json.NewEncoder(w).Encode(map[string]any{"errcode": n, "errmsg": "fake"})
		case code == "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func startWeChatServer(t *testing.T, flags ...string) *testserver.Server {
	t.Helper()
	wx := fakeCode2Session(t)
	return testserver.Start(t, append([]string{
		"-auth-mode", "wechat", "-auth-secret", secret, "-wechat-appid", appID, "-wechat-secret", appSecret,
		"-wechat-api-base", wx.URL, "-login-timeout", "500ms", "-bot-fill", "100ms", "-round-time", "1s",
	}, flags...)...)
}

func login(t *testing.T, s *testserver.Server, code string) (status int, body map[string]any) {
	t.Helper()
	return getJSON(t, http.MethodPost, s.URL+"/login", `{"code":"`+code+`","uname":"Login Name"}`)
}

func TestLoginWithFakeWeChat(t *testing.T) {
	s := startWeChatServer(t)

	status, body := login(t, s, "ok-oOpenID42")
	if status != 200 || body["uid"] != auth.UID(appID, "oOpenID42") || body["token"] == "" {
		t.Fatalf("login: %d %v", status, body)
	}
	if exp, err := time.Parse(time.RFC3339, body["expires_at"].(string)); err != nil || time.Until(exp) < 23*time.Hour {
		t.Fatalf("expires_at %v (%v); want a day from now", body["expires_at"], err)
	}
	if strings.Contains(body["token"].(string)+body["uid"].(string), "oOpenID42") {
		t.Fatal("the openid shows in the token or the uid")
	}

	for _, tc := range []struct {
		code   string
		status int
		want   string
	}{
		{"err-40029", 401, auth.CodeInvalidCode},
		{"err-45011", 429, auth.CodeWeChatRateLimited},
		{"err--1", 503, auth.CodeWeChatBusy},
		{"err-99999", 502, auth.CodeWeChatError},
		{"slow", 504, auth.CodeWeChatTimeout},
	} {
		start := time.Now()
		status, body := login(t, s, tc.code)
		if status != tc.status || body["code"] != tc.want || body["message"] == "" {
			t.Errorf("%s: %d %v; want %d %s", tc.code, status, body, tc.status, tc.want)
		}
		if took := time.Since(start); tc.code == "slow" && took > 2*time.Second {
			t.Errorf("the timeout took %v with login_timeout 500ms", took)
		}
	}
	if status, body := getJSON(t, http.MethodGet, s.URL+"/login", ""); status != 405 || body["code"] != auth.CodeMethod {
		t.Errorf("GET /login: %d %v", status, body)
	}
}

// Over real sockets: the token names the player on every wire; a forged one
// gets bad_token and the connection stays open for a good hello.
func TestTokensOverSockets(t *testing.T) {
	s := startWeChatServer(t)
	_, body := login(t, s, "ok-oAlice")
	token, uid := body["token"].(string), body["uid"].(string)

	c := dial(t, s.WSURL("/ws?format=json"))
	c.send("hello", hello("mallory", ""))
	c.expectError("token_required")
	forged := forge(token)
	c.send("hello", hello("mallory", forged))
	c.expectError("bad_token")
	c.send("hello", hello("mallory", "v1.bm90IGEgdG9rZW4.c2ln"))
	c.expectError("bad_token")
	c.send("join", map[string]any{})
	c.expectError("hello_first")
	c.send("hello", hello("mallory", token))
	c.expect("hi")
	c.send("join", map[string]any{})
	start := c.expect("start")
	var seated []string
	for _, u := range start["roomUsers"].([]any) {
		seated = append(seated, u.(map[string]any)["uid"].(string))
	}
	if !strings.Contains(strings.Join(seated, ","), uid) || strings.Contains(strings.Join(seated, ","), "mallory") {
		t.Fatalf("seated %v; want %s (the token's), not mallory (the claim)", seated, uid)
	}

	// Socket.IO: the token in the EIO4 connect auth, and in the EIO3 query.
	_, body = login(t, s, "ok-oBob")
	eio4 := dial(t, s.WSURL("/applet/websocket/socket.io/?EIO=4&transport=websocket"))
	eio4.raw(`40{"token":"` + body["token"].(string) + `"}`)
	eio4.send("hello", map[string]any{"user": map[string]any{"uid": "x"}})
	eio4.expect("hi")
	_, body = login(t, s, "ok-oCarol")
	eio3 := dial(t, s.WSURL("/applet/websocket/socket.io//?EIO=3&transport=websocket&token="+body["token"].(string)))
	eio3.send("hello", hello("x", ""))
	eio3.expect("hi")
	eio3bad := dial(t, s.WSURL("/applet/websocket/socket.io//?EIO=3&transport=websocket&token="+forged))
	eio3bad.send("hello", hello("x", ""))
	eio3bad.expectError("bad_token")
}

// forge keeps the signature and changes the subject.
func forge(token string) string {
	parts := strings.Split(token, ".") // v2, key id, claims, signature
	payload, _ := base64URL.DecodeString(parts[2])
	c := map[string]any{}
	json.Unmarshal(payload, &c)
	c["sub"] = "wx_someoneelse000000000000"
	payload, _ = json.Marshal(c)
	parts[2] = base64URL.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// A token is refused once it expires; logging in again gives a new one.
func TestTokenExpiry(t *testing.T) {
	s := startWeChatServer(t, "-token-ttl", "2s")
	_, body := login(t, s, "ok-oDave")
	token := body["token"].(string)
	exp, _ := time.Parse(time.RFC3339, body["expires_at"].(string))

	c := dial(t, s.WSURL("/ws?format=json"))
	time.Sleep(time.Until(exp) + 100*time.Millisecond)
	c.send("hello", hello("", token))
	c.expectError("token_expired")
	_, body = login(t, s, "ok-oDave")
	c.send("hello", hello("", body["token"].(string)))
	c.expect("hi")
}
