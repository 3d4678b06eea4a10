package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const secret = "0123456789abcdef0123456789abcdef"

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func signer(t *testing.T, s string, ttl time.Duration) *Signer {
	t.Helper()
	sg, err := NewSigner(s, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

func TestTokenRoundTripAndExpiry(t *testing.T) {
	s := signer(t, secret, time.Hour)
	tok, exp := s.Issue(Claims{Sub: "wx_1", Uname: "Ming"}, t0)
	if !exp.Equal(t0.Add(time.Hour)) {
		t.Fatalf("expires %v", exp)
	}
	c, err := s.Verify(tok, t0.Add(59*time.Minute))
	if err != nil || c.Sub != "wx_1" || c.Uname != "Ming" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	if _, err := s.Verify(tok, t0.Add(time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("at expiry: %v, want ErrExpired", err)
	}
}

func TestForgedTokensRefused(t *testing.T) {
	s := signer(t, secret, time.Hour)
	tok, _ := s.Issue(Claims{Sub: "wx_1"}, t0)
	other, _ := signer(t, strings.Repeat("x", 32), time.Hour).Issue(Claims{Sub: "wx_1"}, t0)
	parts := strings.Split(tok, ".") // v2, key id, claims, signature
	if len(parts) != 4 || parts[0] != "v2" || parts[1] != KeyID(secret) {
		t.Fatalf("token %q: want v2.<key id>.<claims>.<signature>", tok)
	}
	head, body, sig := "v2."+parts[1]+".", parts[2], parts[3]
	claims, _ := base64.RawURLEncoding.DecodeString(body)
	var c map[string]any
	json.Unmarshal(claims, &c)
	c["sub"] = "wx_admin" // claim another player, keep the signature
	forged, _ := json.Marshal(c)
	c["exp"] = t0.Add(100 * time.Hour).Unix()
	longer, _ := json.Marshal(c)
	otherID := KeyID(strings.Repeat("x", 32))
	for name, bad := range map[string]string{
		"other secret":         other,
		"other secret, our id": strings.Replace(other, otherID, parts[1], 1),
		"our id, other sig":    strings.Replace(tok, sig, strings.Split(other, ".")[3], 1),
		"changed subject":      head + base64.RawURLEncoding.EncodeToString(forged) + "." + sig,
		"extended expiry":      head + base64.RawURLEncoding.EncodeToString(longer) + "." + sig,
		"as v1":                "v1." + body + "." + sig,
		"no signature":         head + body,
		"empty signature":      head + body + ".",
		"no key id":            "v2." + body + "." + sig,
		"empty key id":         "v2.." + body + "." + sig,
		"truncated":            tok[:len(tok)-3],
		"garbage":              "hello",
		"empty":                "",
		"other version":        "v3." + parts[1] + "." + body + "." + sig,
		"signature bit":        tok[:len(tok)-1] + flip(tok[len(tok)-1]),
		"not base64 sig":       head + body + ".!!!",
		"signed non-JSON":      signRaw(s, "not json"),
		"signed, no sub":       signRaw(s, `{"exp":9999999999}`),
		"signed, too long":     signRaw(s, `{"sub":"wx_1","exp":9999999999,"name":"`+strings.Repeat("n", MaxToken)+`"}`),
		"signed, bad body":     head + "%%%" + "." + base64.RawURLEncoding.EncodeToString(mac([]byte(secret), head+"%%%")),
	} {
		if _, err := s.Verify(bad, t0); !errors.Is(err, ErrBadToken) {
			t.Errorf("%s: Verify = %v, want ErrBadToken", name, err)
		}
		if _, err := s.Check(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("%s: Check = %v, want ErrBadToken", name, err)
		}
	}
}

func signRaw(s *Signer, payload string) string {
	k := s.keys[0]
	body := tokenPrefix + k.id + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	return body + "." + base64.RawURLEncoding.EncodeToString(mac(k.secret, body))
}

// issueV1 signs a token as the server did before secrets rotated: no key id.
func issueV1(secret string, c Claims) string {
	payload, _ := json.Marshal(c)
	body := legacyPrefix + base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(mac([]byte(secret), body))
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// Rotation: the first secret signs, every listed one verifies, a retired
// one does not; v1 tokens (no key id) verify under whichever listed secret
// made them.
func TestRotation(t *testing.T) {
	oldS, newS, gone := strings.Repeat("o", 32), strings.Repeat("n", 40), strings.Repeat("g", 32)
	claims := Claims{Sub: "wx_1", Exp: t0.Add(time.Hour).Unix()}
	before := signer(t, oldS, time.Hour)
	oldTok, _ := before.Issue(Claims{Sub: "wx_1"}, t0)
	retiredTok, _ := signer(t, gone, time.Hour).Issue(Claims{Sub: "wx_1"}, t0)

	ring, err := NewSignerKeys([]string{newS, oldS}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	newTok, _ := ring.Issue(Claims{Sub: "wx_2"}, t0)
	if !strings.HasPrefix(newTok, "v2."+KeyID(newS)+".") {
		t.Fatalf("not signed with the first secret: %q", newTok)
	}
	if _, err := before.Verify(newTok, t0); !errors.Is(err, ErrBadToken) {
		t.Fatalf("a server without the new secret took its token: %v", err)
	}
	for name, tok := range map[string]string{
		"new":          newTok,
		"old (second)": oldTok,
		"v1, old":      issueV1(oldS, claims),
		"v1, new":      issueV1(newS, claims),
	} {
		if c, err := ring.Verify(tok, t0.Add(time.Minute)); err != nil || c.Sub == "" {
			t.Errorf("%s: Verify = %+v, %v", name, c, err)
		}
	}
	for name, tok := range map[string]string{
		"retired":     retiredTok,
		"v1, retired": issueV1(gone, claims),
	} {
		if _, err := ring.Verify(tok, t0); !errors.Is(err, ErrBadToken) {
			t.Errorf("%s: Verify = %v, want ErrBadToken", name, err)
		}
	}
	if _, err := ring.Verify(issueV1(oldS, Claims{Sub: "wx_1", Exp: t0.Unix()}), t0); !errors.Is(err, ErrExpired) {
		t.Errorf("expired v1: %v", err)
	}
	if _, err := NewSignerKeys([]string{newS, oldS, newS}, time.Hour); err == nil || !strings.Contains(err.Error(), "secret 2") {
		t.Errorf("a repeated secret: %v", err)
	}
	if _, err := NewSignerKeys(nil, time.Hour); err == nil {
		t.Error("no secret was accepted")
	}
	if _, err := NewSignerKeys([]string{newS, "short"}, time.Hour); err == nil || !strings.Contains(err.Error(), "secret 1") {
		t.Errorf("a short second secret: %v", err)
	}
}

// The longest claims a login may carry still make a token Check reads.
func TestLongestTokenFits(t *testing.T) {
	s := signer(t, secret, time.Hour)
	tok, _ := s.Issue(Claims{Sub: UID("app", "o"), Uname: strings.Repeat("<", maxUname), Uavatar: strings.Repeat("&", maxUavatar)}, t0)
	if _, err := s.Verify(tok, t0); err != nil {
		t.Fatalf("a token of %d bytes: %v", len(tok), err)
	}
}

func TestShortSecretRefused(t *testing.T) {
	if _, err := NewSigner(secret[:31], time.Hour); err == nil {
		t.Fatal("a 31-byte secret was accepted")
	}
}

func TestUIDHidesOpenID(t *testing.T) {
	a, b := UID("app", "oABC123"), UID("app", "oABC124")
	if a == b || !strings.HasPrefix(a, "wx_") || len(a) != 27 || strings.Contains(a, "ABC") {
		t.Fatalf("UID = %q, %q", a, b)
	}
	if UID("app", "oABC123") != a {
		t.Fatal("UID is not stable")
	}
}

// fakeWeChat is a code2Session server: codes "ok-<openid>" succeed, codes
// "err-<n>" answer errcode n, "slow" never answers in time.
func fakeWeChat(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		if r.URL.Path != "/sns/jscode2session" || q.Get("appid") != "wxapp" || q.Get("secret") != "wxsecret" || q.Get("grant_type") != "authorization_code" {
			http.Error(w, "bad request "+r.URL.String(), http.StatusBadRequest)
			return
		}
		code := q.Get("js_code")
		w.Header().Set("Content-Type", "text/plain") // as WeChat labels it
		switch {
		case strings.HasPrefix(code, "ok-"):
			json.NewEncoder(w).Encode(map[string]any{"openid": strings.TrimPrefix(code, "ok-"), "session_key": "k"})
		case strings.HasPrefix(code, "err-"):
			var n int
			json.Unmarshal([]byte(strings.TrimPrefix(code, "err-")), &n)
			json.NewEncoder(w).Encode(map[string]any{"errcode": n, "errmsg": "fake error"})
		case code == "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestLogin(t *testing.T) {
	wx, _ := fakeWeChat(t)
	s := signer(t, secret, time.Hour)
	l := &Login{WeChat: &WeChat{Base: wx.URL, AppID: "wxapp", Secret: "wxsecret"}, Signer: s, Timeout: 200 * time.Millisecond, Now: func() time.Time { return t0 }}
	post := func(body string) (int, map[string]any) {
		t.Helper()
		rec := httptest.NewRecorder()
		l.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body)))
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: answer is not JSON: %q", body, rec.Body.String())
		}
		return rec.Code, out
	}

	status, out := post(`{"code":"ok-oOPENID","uname":"Ming","uavatar":"https://a/b.png"}`)
	if status != 200 || out["uid"] != UID("wxapp", "oOPENID") || out["expires_at"] != "2026-05-01T13:00:00Z" {
		t.Fatalf("success: %d %v", status, out)
	}
	c, err := s.Verify(out["token"].(string), t0)
	if err != nil || c.Sub != out["uid"] || c.Uname != "Ming" || c.Uavatar != "https://a/b.png" {
		t.Fatalf("token: %+v %v", c, err)
	}

	for _, tc := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"code":"err-40029"}`, 401, CodeInvalidCode},
		{`{"code":"err-40163"}`, 401, CodeInvalidCode},
		{`{"code":"err-45011"}`, 429, CodeWeChatRateLimited},
		{`{"code":"err--1"}`, 503, CodeWeChatBusy},
		{`{"code":"err-40125"}`, 502, CodeWeChatConfig},
		{`{"code":"err-40226"}`, 403, CodeUserBlocked},
		{`{"code":"err-12345"}`, 502, CodeWeChatError},
		{`{"code":"slow"}`, 504, CodeWeChatTimeout},
		{`{"code":"no-openid"}`, 502, CodeWeChatUnreachable},
		{`{"uname":"x"}`, 400, CodeMissingCode},
		{`not json`, 400, CodeBadRequest},
		{`{"code":"ok-x","uavatar":"` + strings.Repeat("a", 1025) + `"}`, 400, CodeBadRequest},
	} {
		start := time.Now()
		status, out := post(tc.body)
		if status != tc.status || out["code"] != tc.code || out["message"] == "" {
			t.Errorf("%.40s: %d %v, want %d %s", tc.body, status, out, tc.status, tc.code)
		}
		if tc.code == CodeWeChatTimeout && time.Since(start) > 2*time.Second {
			t.Errorf("timeout took %v with a 200ms limit", time.Since(start))
		}
	}

	rec := httptest.NewRecorder()
	l.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	if rec.Code != 405 || !strings.Contains(rec.Body.String(), CodeMethod) {
		t.Errorf("GET: %d %s", rec.Code, rec.Body)
	}
}

func TestLoginUnreachable(t *testing.T) {
	wx, calls := fakeWeChat(t)
	wx.Close() // nothing listens there now
	l := &Login{WeChat: &WeChat{Base: wx.URL, AppID: "wxapp", Secret: "wxsecret"}, Signer: signer(t, secret, time.Hour), Timeout: time.Second, Now: time.Now}
	rec := httptest.NewRecorder()
	l.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"code":"ok-x"}`)))
	if rec.Code != 502 || !strings.Contains(rec.Body.String(), CodeWeChatUnreachable) || calls.Load() != 0 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// code2Session's URL carries the AppSecret and the player's one-time code:
// an error for an unreachable WeChat, or one that redirects, names the
// endpoint without them, and so does the log line of the refused login.
func TestWeChatErrorsHideTheSecret(t *testing.T) {
	const appSecret, code = "wx-app-secret-4fd1c2", "ok-onetimecode"
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.String(), http.StatusFound) // keeps the query
	}))
	defer loop.Close()
	for _, base := range []string{dead.URL, loop.URL} {
		var logged strings.Builder
		wx := &WeChat{Base: base, AppID: "wxapp", Secret: appSecret}
		_, err := wx.Code2Session(context.Background(), code)
		if err == nil {
			t.Fatalf("%s: no error", base)
		}
		l := &Login{WeChat: wx, Signer: signer(t, secret, time.Hour), Timeout: time.Second, Now: time.Now,
			Log: slog.New(slog.NewTextHandler(&logged, nil))}
		rec := httptest.NewRecorder()
		l.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"code":"`+code+`"}`)))
		for _, text := range []string{err.Error(), logged.String(), rec.Body.String()} {
			if strings.Contains(text, appSecret) || strings.Contains(text, code) || strings.Contains(text, "secret=") {
				t.Errorf("%s: the secret or the code shows: %s", base, text)
			}
		}
		if !strings.Contains(err.Error(), base+"/sns/jscode2session") || !strings.Contains(logged.String(), "login refused") {
			t.Errorf("%s: the error does not name the endpoint, or nothing was logged: %v\n%s", base, err, logged.String())
		}
	}
}

// TestLoginConcurrencyCap: with MaxConcurrent 3 and a WeChat that does not
// answer yet, three logins wait on WeChat and every other one is refused
// at once with 503 wechat_busy and Retry-After; WeChat never has more than
// three calls; once it answers, the three succeed and logins go on.
func TestLoginConcurrencyCap(t *testing.T) {
	release := make(chan struct{})
	var inFlight, most, calls atomic.Int32
	wx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		json.NewEncoder(w).Encode(map[string]any{"openid": "o" + r.URL.Query().Get("js_code")})
	}))
	defer wx.Close()
	var busy atomic.Int32
	l := &Login{WeChat: &WeChat{Base: wx.URL, AppID: "wxapp", Secret: "wxsecret"}, Signer: signer(t, secret, time.Hour),
		Timeout: 10 * time.Second, Now: time.Now, MaxConcurrent: 3, OnBusy: func() { busy.Add(1) }}
	post := func(code string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		l.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"code":"`+code+`"}`)))
		return rec
	}
	done := make(chan *httptest.ResponseRecorder, 3)
	for i := range 3 {
		go func() { done <- post(fmt.Sprint("held", i)) }()
	}
	for end := time.Now().Add(5 * time.Second); inFlight.Load() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%d calls reached WeChat, want 3", inFlight.Load())
		}
	}
	for i := range 20 {
		rec := post(fmt.Sprint("more", i))
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"code":"wechat_busy"`) || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("login %d with 3 under way: %d %s", i, rec.Code, rec.Body)
		}
	}
	close(release)
	for range 3 {
		if rec := <-done; rec.Code != http.StatusOK {
			t.Errorf("a held login: %d %s", rec.Code, rec.Body)
		}
	}
	if rec := post("after"); rec.Code != http.StatusOK {
		t.Errorf("a login after WeChat answered: %d %s", rec.Code, rec.Body)
	}
	if most.Load() != 3 || calls.Load() != 4 || busy.Load() != 20 {
		t.Errorf("WeChat saw at most %d at once and %d calls, %d refusals counted; want 3, 4 and 20", most.Load(), calls.Load(), busy.Load())
	}
}
