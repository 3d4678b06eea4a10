package store

import (
	"strconv"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/internal/jsonstring"
)

// AppendRecord appends rec, as a record of version v, to dst and returns
// the extended slice. The bytes are exactly json.Marshal(ToRecord(rec, v)):
// records written by one release are read by the others, and a record's
// bytes compare equal across releases. It writes the JSON directly, with
// no reflection and without the Record, []Applied and []Line that
// ToRecord builds, so that appending to a slice with room allocates
// nothing.
//
// On an error (a version this release does not write, or a LastSeen that
// RFC 3339 cannot show, as encoding/json refuses it) dst is returned with
// its length unchanged.
func AppendRecord(dst []byte, rec caiquan.PlayerRecord, v int) ([]byte, error) {
	if err := CheckVersion(v); err != nil {
		return dst, err
	}
	n0 := len(dst)
	// The fields in Record's order, each omitted where its tag omits it.
	dst = append(dst, `{"v":`...)
	dst = strconv.AppendInt(dst, int64(v), 10)
	if rec.Writes != 0 {
		dst = append(dst, `,"w":`...)
		dst = strconv.AppendInt(dst, rec.Writes, 10)
	}
	dst = append(dst, `,"total":`...)
	dst = strconv.AppendInt(dst, int64(rec.Total), 10)
	dst = append(dst, `,"streak":`...)
	dst = strconv.AppendInt(dst, int64(rec.Streak), 10)
	dst = append(dst, `,"rounds":`...)
	dst = strconv.AppendInt(dst, int64(rec.Rounds), 10)
	if rec.Uname != "" {
		dst = append(dst, `,"uname":`...)
		dst = appendJSONString(dst, rec.Uname)
	}
	if rec.Uavatar != "" {
		dst = append(dst, `,"uavatar":`...)
		dst = appendJSONString(dst, rec.Uavatar)
	}
	if !rec.LastSeen.IsZero() {
		dst = append(dst, `,"last_seen":"`...)
		// AppendText is MarshalJSON without the quotes: RFC 3339 with the
		// nanoseconds' trailing zeros cut, and the same refusal of a year
		// outside 0 to 9999.
		t, err := rec.LastSeen.UTC().AppendText(dst)
		if err != nil {
			return dst[:n0], err
		}
		dst = append(t, '"')
	}
	if rec.Renamed {
		dst = append(dst, `,"renamed":true`...)
	}
	if rec.Banned {
		dst = append(dst, `,"banned":true`...)
	}
	// ToStored makes Recent with make, never nil: none is [] and not null.
	dst = append(dst, `,"recent":[`...)
	for i, a := range rec.Recent {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"r":`...)
		dst = appendJSONString(dst, a.RoundID)
		dst = append(dst, `,"s":`...)
		dst = strconv.AppendInt(dst, int64(a.RoundScore), 10)
		dst = append(dst, `,"t":`...)
		dst = strconv.AppendInt(dst, int64(a.Total), 10)
		dst = append(dst, `,"k":`...)
		dst = strconv.AppendInt(dst, int64(a.Streak), 10)
		// RecentOf: the whole result goes on the newest round only.
		if i == len(rec.Recent)-1 && len(rec.LastLines) > 0 {
			dst = appendLines(dst, rec.LastLines)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if len(rec.Refused) > 0 {
		dst = append(dst, `,"x":[`...)
		for i, id := range rec.Refused {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, id)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), nil
}

// appendLines appends the "l" field of an Applied: Line's fields, its
// numbers omitted when zero.
func appendLines(dst []byte, lines []caiquan.ResultLine) []byte {
	dst = append(dst, `,"l":[`...)
	for i, l := range lines {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"u":`...)
		dst = appendJSONString(dst, l.UID)
		dst = appendNonZero(dst, `,"c":`, l.Choice)
		dst = appendNonZero(dst, `,"s":`, l.RoundScore)
		dst = appendNonZero(dst, `,"t":`, l.Total)
		dst = appendNonZero(dst, `,"k":`, l.Streak)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendNonZero appends name and n, unless n is zero (omitempty).
func appendNonZero(dst []byte, name string, n int32) []byte {
	if n == 0 {
		return dst
	}
	return strconv.AppendInt(append(dst, name...), int64(n), 10)
}

// recordSize is about how long rec's JSON is, a little more for most
// records (numbers of a few digits, text that needs no escapes), so that
// EncodeRecordVersion allocates once instead of growing; a record of
// extreme numbers or much escaped text grows past it, correctly.
func recordSize(rec caiquan.PlayerRecord) int {
	n := 200 + len(rec.Uname) + len(rec.Uavatar)
	for _, a := range rec.Recent {
		n += 48 + len(a.RoundID)
	}
	for _, l := range rec.LastLines {
		n += 56 + len(l.UID)
	}
	for _, id := range rec.Refused {
		n += 3 + len(id)
	}
	return n
}

// appendJSONString appends s quoted as encoding/json quotes a string by
// default, < > & escaped for HTML included.
func appendJSONString(dst []byte, s string) []byte { return jsonstring.Append(dst, s, true) }
