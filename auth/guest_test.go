package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestGuest(t *testing.T) {
	s := signer(t, secret, time.Hour)
	now := t0
	g := &Guest{Signer: s, RefreshWindow: 720 * time.Hour, Now: func() time.Time { return now }}
	post := func(authz ...string) (int, map[string]any) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/guest", nil)
		for _, a := range authz {
			req.Header.Add("Authorization", a)
		}
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer is not JSON: %q", rec.Body.String())
		}
		return rec.Code, out
	}

	status, first := post()
	uid, _ := first["uid"].(string)
	if status != 200 || !strings.HasPrefix(uid, GuestPrefix) || len(uid) != len(GuestPrefix)+24 || first["expires_at"] != "2026-05-01T13:00:00Z" {
		t.Fatalf("new guest: %d %v", status, first)
	}
	if c, err := s.Verify(first["token"].(string), now); err != nil || c.Sub != uid {
		t.Fatalf("its token: %+v %v", c, err)
	}
	if _, other := post(); other["uid"] == uid {
		t.Fatal("two new guests got one uid")
	}

	// Renewed while valid, then just inside the window after expiry: the
	// same uid each time.
	tok := first["token"].(string)
	for _, at := range []time.Duration{time.Minute, time.Hour + 719*time.Hour + 59*time.Minute} {
		now = t0.Add(at)
		status, out := post("Bearer " + tok)
		if status != 200 || out["uid"] != uid {
			t.Fatalf("renewal at +%v: %d %v", at, status, out)
		}
		if c, err := s.Verify(out["token"].(string), now); err != nil || c.Sub != uid || !c.Expires().Equal(now.Add(time.Hour).Truncate(time.Second)) {
			t.Fatalf("renewed token at +%v: %+v %v", at, c, err)
		}
	}

	wechat, _ := s.Issue(Claims{Sub: UID("app", "o1")}, t0)
	retired, _ := signer(t, strings.Repeat("r", 32), time.Hour).Issue(Claims{Sub: uid}, t0)
	forged := strings.Replace(tok, tok[len(tok)-4:], "AAAA", 1)
	for _, tc := range []struct {
		name   string
		at     time.Duration
		authz  []string
		status int
		code   string
	}{
		{"past the window", time.Hour + 720*time.Hour, []string{"Bearer " + tok}, 401, CodeRefreshExpired},
		{"WeChat token", time.Minute, []string{"Bearer " + wechat}, 403, CodeNotGuest},
		{"retired secret", time.Minute, []string{"Bearer " + retired}, 401, CodeBadToken},
		{"forged", time.Minute, []string{"Bearer " + forged}, 401, CodeBadToken},
		{"garbage", time.Minute, []string{"Bearer hello"}, 401, CodeBadToken},
		{"basic", time.Minute, []string{"Basic " + tok}, 400, CodeBadAuthorization},
		{"bare token", time.Minute, []string{tok}, 400, CodeBadAuthorization},
		{"empty bearer", time.Minute, []string{"Bearer "}, 400, CodeBadAuthorization},
		{"two headers", time.Minute, []string{"Bearer " + tok, "Bearer " + wechat}, 400, CodeBadAuthorization},
	} {
		now = t0.Add(tc.at)
		status, out := post(tc.authz...)
		if status != tc.status || out["code"] != tc.code || out["message"] == "" || out["token"] != nil {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, out, tc.status, tc.code)
		}
	}

	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/guest", nil))
	if rec.Code != 405 || !strings.Contains(rec.Body.String(), CodeMethod) {
		t.Errorf("GET: %d %s", rec.Code, rec.Body)
	}

	g.Rand = iotest.ErrReader(errors.New("no entropy"))
	if status, out := post(); status != 503 || out["code"] != CodeGuestUnavailable {
		t.Errorf("without randomness: %d %v", status, out)
	}
}
