// Package jsonstring writes a Go string as a JSON string without
// reflection: the gateway's hand-written JSON of server messages and the
// store's of player records both quote their strings here.
package jsonstring

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// Append appends s to dst as a quoted JSON string. Besides what JSON
// requires it escapes U+2028 and U+2029 (JavaScript before ES2019 ends a
// line at them) and writes invalid UTF-8 as U+FFFD, as encoding/json does.
// With escapeHTML it also escapes <, > and &, so that the bytes are those of
// encoding/json's Marshal.
func Append(dst []byte, s string, escapeHTML bool) []byte {
	dst = append(dst, '"')
	done := 0 // s[:done] is in dst
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && (!escapeHTML || (c != '<' && c != '>' && c != '&')) {
				i++
				continue
			}
			dst = append(dst, s[done:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[done:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[done:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	dst = append(dst, s[done:]...)
	return append(dst, '"')
}
