package main

import (
	"math"
	"strings"
	"unicode/utf8"
)

// cursor reads JSON written exactly as the gateway writes it. Each read
// either consumes what it expects or clears ok, and every read after that
// does nothing, so a decoder is a straight list of reads and one look at
// ok at the end. It accepts a subset of JSON, never more: no spaces, no
// escapes, integers without fraction, exponent or leading zero.
type cursor struct {
	s  string
	i  int
	ok bool
}

// lit consumes l, which must come next.
func (c *cursor) lit(l string) {
	if !c.maybe(l) {
		c.ok = false
	}
}

// maybe consumes l if it comes next, and says so.
func (c *cursor) maybe(l string) bool {
	if c.ok && strings.HasPrefix(c.s[c.i:], l) {
		c.i += len(l)
		return true
	}
	return false
}

// key reads the inside of an object key or event name, up to its closing
// quote, which it leaves. Only letters: every body's name is a word.
func (c *cursor) key() string {
	if !c.ok {
		return ""
	}
	j := c.i
	for j < len(c.s) && ('a' <= c.s[j] && c.s[j] <= 'z' || 'A' <= c.s[j] && c.s[j] <= 'Z') {
		j++
	}
	k := c.s[c.i:j]
	c.i = j
	return k
}

// str reads a string without escapes (the gateway escapes only quotes,
// backslashes, control characters and U+2028/9, which players' names and
// uids rarely hold; those frames take the gateway's decoder). The value
// shares c.s. Invalid UTF-8 is refused, as protojson refuses it.
func (c *cursor) str() string {
	if !c.ok || c.i >= len(c.s) || c.s[c.i] != '"' {
		c.ok = false
		return ""
	}
	start, ascii := c.i+1, true
	for j := start; j < len(c.s); j++ {
		b := c.s[j]
		if b == '"' {
			v := c.s[start:j]
			if !ascii && !utf8.ValidString(v) {
				break
			}
			c.i = j + 1
			return v
		}
		if b < 0x20 || b == '\\' {
			break
		}
		if b >= utf8.RuneSelf {
			ascii = false
		}
	}
	c.ok = false
	return ""
}

// num reads an integer in [lo, hi]: an optional minus and 1 to 10 digits,
// the first not 0 unless it is the only one; -0 is refused.
func (c *cursor) num(lo, hi int64) int64 {
	if !c.ok {
		return 0
	}
	j := c.i
	neg := j < len(c.s) && c.s[j] == '-'
	if neg {
		j++
	}
	start := j
	var n int64
	for j < len(c.s) && j-start <= 10 && '0' <= c.s[j] && c.s[j] <= '9' {
		n = n*10 + int64(c.s[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || digits > 10 || (c.s[start] == '0' && (digits > 1 || neg)) {
		c.ok = false
		return 0
	}
	if neg {
		n = -n
	}
	if n < lo || n > hi {
		c.ok = false
		return 0
	}
	c.i = j
	return n
}

func (c *cursor) int32() int32 { return int32(c.num(math.MinInt32, math.MaxInt32)) }

func (c *cursor) boolean() bool {
	if c.maybe("true") {
		return true
	}
	c.lit("false")
	return false
}

// count is how often sub occurs in what is left: a capacity hint.
func (c *cursor) count(sub string) int {
	if !c.ok {
		return 0
	}
	return strings.Count(c.s[c.i:], sub)
}
