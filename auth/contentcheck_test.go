package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestContentCheck: the access token is fetched once and kept, fetched
// again once when WeChat says it is invalid; version 2 names the openid,
// a token without one uses version 1; anything but a pass or a refusal is
// an error that does not quote the AppSecret.
func TestContentCheck(t *testing.T) {
	var tokens, checks atomic.Int32
	var lastBody atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cgi-bin/token":
			n := tokens.Add(1)
			json.NewEncoder(w).Encode(map[string]any{"access_token": "AT" + string(rune('0'+n)), "expires_in": 7200})
		case "/wxa/msg_sec_check":
			checks.Add(1)
			var body map[string]any
			json.NewDecoder(r.Body).Decode(&body)
			lastBody.Store(body)
			content, _ := body["content"].(string)
			switch {
			case r.URL.Query().Get("access_token") == "AT1" && content == "stale":
				json.NewEncoder(w).Encode(map[string]any{"errcode": 40001, "errmsg": "invalid credential"})
			case content == "risky":
				json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "result": map[string]any{"suggest": "risky"}})
			case content == "old-risky":
				json.NewEncoder(w).Encode(map[string]any{"errcode": 87014, "errmsg": "risky"})
			case content == "garbage":
				w.Write([]byte("<html>"))
			default:
				json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "result": map[string]any{"suggest": "pass"}})
			}
		}
	}))
	defer srv.Close()
	c := &ContentCheck{Base: srv.URL, AppID: "app", Secret: "SECRET-xyz", Now: time.Now}
	ctx := context.Background()
	if err := c.CheckText(ctx, "oid1", "fine"); err != nil {
		t.Fatal(err)
	}
	if b := lastBody.Load().(map[string]any); b["version"] != float64(2) || b["openid"] != "oid1" || b["scene"] != float64(1) {
		t.Errorf("version 2 body: %v", b)
	}
	if err := c.CheckText(ctx, "oid1", "risky"); !errors.Is(err, ErrRefused) {
		t.Errorf("risky: %v", err)
	}
	if err := c.CheckText(ctx, "", "old-risky"); !errors.Is(err, ErrRefused) {
		t.Errorf("version 1 risky: %v", err)
	}
	if b := lastBody.Load().(map[string]any); b["version"] != nil || b["openid"] != nil {
		t.Errorf("without an openid the body is version 1: %v", b)
	}
	if tokens.Load() != 1 {
		t.Errorf("%d access tokens fetched for three checks; want 1", tokens.Load())
	}
	if err := c.CheckText(ctx, "oid1", "stale"); err != nil {
		t.Errorf("a stale access token: %v; want it fetched again and the check passed", err)
	}
	if tokens.Load() != 2 {
		t.Errorf("%d access tokens after a 40001; want 2", tokens.Load())
	}
	err := c.CheckText(ctx, "oid1", "garbage")
	if err == nil || errors.Is(err, ErrRefused) || strings.Contains(err.Error(), "SECRET-xyz") {
		t.Errorf("a garbage answer: %v; want an error (fail closed) without the secret", err)
	}
	down := &ContentCheck{Base: "http://127.0.0.1:1", AppID: "app", Secret: "SECRET-xyz"}
	err = down.CheckText(ctx, "oid1", "fine")
	if err == nil || errors.Is(err, ErrRefused) || strings.Contains(err.Error(), "SECRET-xyz") {
		t.Errorf("WeChat unreachable: %v; want an error without the secret", err)
	}
}

// TestOpenIDSealed: a token carries the openid only sealed; its own
// server reads it back, and a token signed by another secret or with the
// sealed value altered reads none.
func TestOpenIDSealed(t *testing.T) {
	s, _ := NewSignerKeys([]string{strings.Repeat("a", 32), strings.Repeat("b", 32)}, time.Hour)
	tok, _ := s.Issue(Claims{Sub: "wx_1", OpenID: "oSecretOpenID"}, time.Now())
	if strings.Contains(tok, "oSecretOpenID") {
		t.Fatal("the openid shows in the token")
	}
	parts := strings.Split(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if strings.Contains(string(raw), "oSecretOpenID") {
		t.Fatalf("the claims hold the openid in the clear: %s", raw)
	}
	c, err := s.Verify(tok, time.Now())
	if err != nil || c.OpenID != "oSecretOpenID" {
		t.Fatalf("Verify: %+v, %v", c, err)
	}
	// A rotation: the old secret second still opens it.
	rotated, _ := NewSignerKeys([]string{strings.Repeat("c", 32), strings.Repeat("a", 32)}, time.Hour)
	if c, err := rotated.Verify(tok, time.Now()); err != nil || c.OpenID != "oSecretOpenID" {
		t.Fatalf("after rotation: %+v, %v", c, err)
	}
	var claims map[string]any
	json.Unmarshal(raw, &claims)
	sealed, _ := claims["oid"].(string)
	if open([]byte(strings.Repeat("a", 32)), sealed) != "oSecretOpenID" || open([]byte(strings.Repeat("b", 32)), sealed) != "" {
		t.Error("the seal opens with another secret, or not with its own")
	}
}
