package main

import (
	"bytes"
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
