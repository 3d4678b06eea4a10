package main

import (
	"bytes"
	"context"
	"encoding/json"
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
// query and path and inside a JSON string.
func (s *secrets) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if v == "" {
			continue
		}
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v), jsonEscape(v)} {
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

// jsonEscape is v as it appears inside a JSON string that slog's
// JSONHandler writes (which does not escape HTML).
func jsonEscape(v string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:]
}

// attr is a without secrets. isJSON says the handler writes JSON, which
// prints a value that is not an error by marshalling it, and a value's
// JSON can hold what its %+v hides (a field its String method leaves out).
func (s *secrets) attr(a slog.Attr, isJSON bool) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, s.redact(v.String()))
	case slog.KindGroup:
		group := v.Group()
		out := make([]any, len(group))
		for i, g := range group {
			out[i] = s.attr(g, isJSON)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		// Bytes print as text (JSON would give base64, which no
		// redaction recognises).
		if b, ok := v.Any().([]byte); ok {
			return slog.String(a.Key, s.redact(string(b)))
		}
		// What the handler would print; the value itself when clean, so
		// that it keeps its own formatting.
		var text string
		err, isErr := v.Any().(error)
		if isErr {
			text = err.Error()
		} else {
			text = fmt.Sprintf("%+v", v.Any())
		}
		clean := s.redact(text)
		if clean != text {
			return slog.String(a.Key, clean)
		}
		if isJSON && !isErr {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v.Any()); err != nil || s.redact(b.String()) != b.String() {
				return slog.String(a.Key, clean)
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// redacting is a slog.Handler that removes secrets from the message and
// every attribute before the handler inside sees them. isJSON says that
// handler is slog's JSONHandler.
type redacting struct {
	slog.Handler
	s      *secrets
	isJSON bool
}

func (r redacting) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, r.s.redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(r.s.attr(a, r.isJSON))
		return true
	})
	return r.Handler.Handle(ctx, out)
}

func (r redacting) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = r.s.attr(a, r.isJSON)
	}
	return redacting{r.Handler.WithAttrs(clean), r.s, r.isJSON}
}

func (r redacting) WithGroup(name string) slog.Handler {
	return redacting{r.Handler.WithGroup(name), r.s, r.isJSON}
}
