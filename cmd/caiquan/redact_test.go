package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/auth"
	"github.com/caiquan/caiquan/config"
)

// Every place a secret can travel in a record: the message, a string, an
// error, a Stringer, a group, attributes bound with With, and the escaped
// form a URL gives it. A token the server issued is caught by its shape.
func TestRedactingHandler(t *testing.T) {
	const wx, adminTok = "wx/app+secret=1", "admintoken-admintoken-admintoken-1"
	cfg := config.Default()
	cfg.WeChatSecret = wx
	cfg.AuthSecret = strings.Repeat("a", 32)
	var buf bytes.Buffer
	sec := &secrets{}
	log := newLogger(&buf, cfg, sec)
	sec.add(adminTok) // made at start, after the logger
	signer, _ := auth.NewSigner(cfg.AuthSecret, time.Hour)
	session, _ := signer.Issue(auth.Claims{Sub: "wx_1"}, time.Now())

	q := url.Values{"secret": {wx}}.Encode()
	log.Info("GET /x?"+q+" failed", "url", "http://h/?"+q)
	log.Warn("plain", "err", errors.New("bad token "+adminTok), "s", stringer(wx))
	log.With("bound", cfg.AuthSecret).Info("grouped", slog.Group("g", "in", adminTok, "n", 3))
	log.Debug("below the level " + wx)
	log.Info("session", "hello", `{"token":"`+session+`"}`)

	out := buf.String()
	for _, s := range []string{wx, url.QueryEscape(wx), adminTok, cfg.AuthSecret, session} {
		if strings.Contains(out, s) {
			t.Errorf("the log holds %q:\n%s", s, out)
		}
	}
	if n := strings.Count(out, redacted); n != 7 {
		t.Errorf("%d redactions, want 7:\n%s", n, out)
	}
	if !strings.Contains(out, "n=3") || !strings.Contains(out, "msg=plain") {
		t.Errorf("clean parts were changed:\n%s", out)
	}
}

// A secret that holds another must go whole, not leave its tail.
func TestRedactLongestFirst(t *testing.T) {
	s := &secrets{}
	s.add("abcdefgh", "abcdefgh-and-more-of-it")
	if got := s.redact("x abcdefgh-and-more-of-it y abcdefgh"); got != "x [redacted] y [redacted]" {
		t.Fatalf("got %q", got)
	}
}

type stringer string

func (s stringer) String() string { return fmt.Sprintf("stringer(%s)", string(s)) }

// In JSON every line is an object, and no secret reaches it in any form:
// raw, URL-escaped, JSON-escaped (a secret with a quote or a backslash
// in it), inside bytes (which JSON would print as base64), or in a field
// that a value's String method hides but its JSON shows.
func TestRedactingHandlerJSON(t *testing.T) {
	const wx, adminTok = `wx/app+secret="1"\x`, "admintoken-admintoken-admintoken-1"
	cfg := config.Default()
	cfg.LogFormat = config.LogJSON
	cfg.WeChatSecret = wx
	cfg.AuthSecret = strings.Repeat("a", 32)
	var buf bytes.Buffer
	sec := &secrets{}
	log := newLogger(&buf, cfg, sec)
	sec.add(adminTok)
	signer, _ := auth.NewSigner(cfg.AuthSecret, time.Hour)
	session, _ := signer.Issue(auth.Claims{Sub: "wx_1"}, time.Now())

	q := url.Values{"secret": {wx}}.Encode()
	log.Info("GET /x?"+q+" failed", "url", "http://h/?"+q)
	log.Warn("plain", "err", errors.New("bad token "+adminTok), "s", stringer(wx))
	log.With("bound", cfg.AuthSecret).Info("grouped", slog.Group("g", "in", adminTok, "n", 3))
	log.Info("bytes", "body", []byte("token="+adminTok))
	log.Info("hidden", "cfg", hidden{Public: "ok", Secret: wx})
	log.Info("list", "secrets", []string{"clean", adminTok})
	log.Info("session", "hello", `{"token":"`+session+`"}`)

	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want 7:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("not a JSON object: %q: %v", l, err)
		}
	}
	for _, s := range []string{wx, url.QueryEscape(wx), jsonEscape(wx), adminTok, cfg.AuthSecret, session,
		base64.StdEncoding.EncodeToString([]byte("token=" + adminTok))} {
		if strings.Contains(out, s) {
			t.Errorf("the log holds %q:\n%s", s, out)
		}
	}
	if n := strings.Count(out, redacted); n != 9 {
		t.Errorf("%d redactions, want 9:\n%s", n, out)
	}
	if !strings.Contains(out, `"n":3`) || !strings.Contains(out, `"msg":"plain"`) || !strings.Contains(out, `"cfg":"hidden(ok)"`) {
		t.Errorf("clean parts were changed:\n%s", out)
	}
}

// hidden keeps its secret out of %v but not out of its JSON.
type hidden struct {
	Public string
	Secret string
}

func (h hidden) String() string { return "hidden(" + h.Public + ")" }

// A bad log_format is refused before anything starts, naming the setting.
func TestLogFormatRefused(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-log-format", "yaml", "-listen", "127.0.0.1:0"}, func(string) string { return "" }, &stdout, &stderr)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), `log_format must be text or json, got "yaml"`) {
		t.Errorf("stderr %q does not name log_format", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}
