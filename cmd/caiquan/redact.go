package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// redacted replaces a secret's value in the log.
const redacted = "[redacted]"

// sessionToken matches the tokens auth.Signer issues: "v1." and
// base64url parts, the last an HMAC-SHA256 (43 characters). A session
// token is a password for as long as it lives, and no setting names it.
var sessionToken = regexp.MustCompile(`\bv[0-9]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.[A-Za-z0-9_-]{43}\b`)

// secrets is the set of values that must not reach the log: the
// configured secrets and the admin token the server made. The code keeps
// them out of its log lines and errors in the first place; this is the
// net under it, for an error of a library that quotes a URL or a header.
type secrets struct {
	mu   sync.RWMutex
	olds []string          // every form of every secret, longest first
	rep  *strings.Replacer // nil until a secret is added
}

// add includes each non-empty value, and the forms it takes in a URL's
// query and path.
func (s *secrets) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if v == "" {
			continue
		}
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			if !slices.Contains(s.olds, form) {
				s.olds = append(s.olds, form)
			}
		}
	}
	// The replacer tries the strings in order at each position: a longer
	// secret first, or a shorter one inside it would leave the rest.
	slices.SortFunc(s.olds, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(s.olds))
	for _, o := range s.olds {
		pairs = append(pairs, o, redacted)
	}
	s.rep = strings.NewReplacer(pairs...)
}

// redact returns text without any secret in it.
func (s *secrets) redact(text string) string {
	s.mu.RLock()
	rep := s.rep
	s.mu.RUnlock()
	if rep != nil {
		text = rep.Replace(text)
	}
	if strings.Contains(text, ".") {
		text = sessionToken.ReplaceAllString(text, redacted)
	}
	return text
}

func (s *secrets) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, s.redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		out := make([]any, len(group))
		for i, g := range group {
			out[i] = s.attr(g)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		// What the handler would print; the value itself when clean, so
		// that it keeps its own formatting.
		var text string
		if err, ok := v.Any().(error); ok {
			text = err.Error()
		} else {
			text = fmt.Sprintf("%+v", v.Any())
		}
		if clean := s.redact(text); clean != text {
			return slog.String(a.Key, clean)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// redacting is a slog.Handler that removes secrets from the message and
// every attribute before the handler inside sees them.
type redacting struct {
	slog.Handler
	s *secrets
}

func (r redacting) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, r.s.redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(r.s.attr(a))
		return true
	})
	return r.Handler.Handle(ctx, out)
}

func (r redacting) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = r.s.attr(a)
	}
	return redacting{r.Handler.WithAttrs(clean), r.s}
}

func (r redacting) WithGroup(name string) slog.Handler {
	return redacting{r.Handler.WithGroup(name), r.s}
}
