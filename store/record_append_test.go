package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/rules"
)

// marshalRecord is what the stored format is defined by: encoding/json of
// ToRecord. AppendRecord must write exactly these bytes.
func marshalRecord(rec caiquan.PlayerRecord, v int) ([]byte, error) {
	return json.Marshal(ToRecord(rec, v))
}

// checkAppendRecord fails t unless AppendRecord, after a prefix, writes
// what marshalRecord does (or fails where it fails), and the record it
// writes decodes to rec as the store keeps it.
func checkAppendRecord(t *testing.T, rec caiquan.PlayerRecord, v int) []byte {
	t.Helper()
	const prefix = "prefix:"
	got, err := AppendRecord([]byte(prefix), rec, v)
	if !bytes.HasPrefix(got, []byte(prefix)) {
		t.Fatalf("AppendRecord lost what dst held: %q", got)
	}
	got = got[len(prefix):]
	if CheckVersion(v) != nil {
		if err == nil || len(got) != 0 {
			t.Fatalf("version %d: AppendRecord = %q, %v; want nothing and an error", v, got, err)
		}
		return nil
	}
	want, wantErr := marshalRecord(rec, v)
	if wantErr != nil {
		if err == nil || len(got) != 0 {
			t.Fatalf("json.Marshal fails (%v) but AppendRecord = %q, %v; want nothing and an error", wantErr, got, err)
		}
		return nil
	}
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("AppendRecord(%#v)\n got %q, %v\nwant %q", rec, got, err, want)
	}
	if enc, err := EncodeRecordVersion(rec, v); err != nil || !bytes.Equal(enc, want) {
		t.Fatalf("EncodeRecordVersion = %q, %v; want %q", enc, err, want)
	}
	back, err := DecodeRecord(got)
	if err != nil {
		t.Fatalf("DecodeRecord(%q): %v", got, err)
	}
	if w := asStored(rec); !reflect.DeepEqual(back, w) {
		t.Fatalf("DecodeRecord(%q)\n got %#v\nwant %#v", got, back, w)
	}
	return got
}

// asStored is rec as a store gives it back: text as valid UTF-8 (each
// invalid byte U+FFFD), LastSeen in UTC with no monotonic reading (a zero
// one in no zone: it is not stored), the last result only with a round to
// carry it, and empty lists nil.
func asStored(rec caiquan.PlayerRecord) caiquan.PlayerRecord {
	valid := func(s string) string { return string([]rune(s)) }
	out := rec
	out.Uname, out.Uavatar = valid(rec.Uname), valid(rec.Uavatar)
	out.LastSeen = time.Time{}
	if !rec.LastSeen.IsZero() {
		out.LastSeen = rec.LastSeen.UTC()
	}
	out.Recent = nil
	for _, a := range rec.Recent {
		a.RoundID = valid(a.RoundID)
		out.Recent = append(out.Recent, a)
	}
	out.LastLines = nil
	if len(rec.Recent) > 0 {
		for _, l := range rec.LastLines {
			l.UID = valid(l.UID)
			out.LastLines = append(out.LastLines, l)
		}
	}
	out.Refused = nil
	for _, id := range rec.Refused {
		out.Refused = append(out.Refused, valid(id))
	}
	return out
}

func TestAppendRecordMatchesEncodingJSON(t *testing.T) {
	round := func(id string, score, total, streak int32) caiquan.AppliedRound {
		return caiquan.AppliedRound{RoundID: id, Outcome: rules.Outcome{RoundScore: score, Standing: rules.Standing{Total: total, Streak: streak}}}
	}
	line := func(uid string, choice, score, total, streak int32) caiquan.ResultLine {
		return caiquan.ResultLine{UID: uid, Choice: choice, Outcome: rules.Outcome{RoundScore: score, Standing: rules.Standing{Total: total, Streak: streak}}}
	}
	shanghai := time.FixedZone("CST", 8*3600)
	cases := []struct {
		name   string
		rec    caiquan.PlayerRecord
		v      int
		golden string // when set, the exact bytes, written out by hand
	}{
		{name: "zero", golden: `{"v":1,"total":0,"streak":0,"rounds":0,"recent":[]}`},
		{name: "empty recent, not nil", rec: caiquan.PlayerRecord{Recent: []caiquan.AppliedRound{}}},
		{name: "every field", rec: caiquan.PlayerRecord{
			Standing: rules.Standing{Total: 12, Streak: 3}, Rounds: 9, Writes: 4, Uname: "Queen", Uavatar: "q.png",
			LastSeen: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Renamed: true, Banned: true,
			Recent:    []caiquan.AppliedRound{round("r1", 0, 9, 0), round("r2", 3, 12, 3)},
			LastLines: []caiquan.ResultLine{line("a", 1, 3, 12, 3), line("b", 0, 0, 0, 0)},
			Refused:   []string{"r0"},
		}, golden: `{"v":1,"w":4,"total":12,"streak":3,"rounds":9,"uname":"Queen","uavatar":"q.png",` +
			`"last_seen":"2026-01-02T03:04:05.000000006Z","renamed":true,"banned":true,` +
			`"recent":[{"r":"r1","s":0,"t":9,"k":0},{"r":"r2","s":3,"t":12,"k":3,"l":[{"u":"a","c":1,"s":3,"t":12,"k":3},{"u":"b"}]}],` +
			`"x":["r0"]}`},
		{name: "negative and extreme numbers", rec: caiquan.PlayerRecord{
			Standing: rules.Standing{Total: -2147483648, Streak: -1}, Rounds: -7, Writes: -9223372036854775808,
			Recent:    []caiquan.AppliedRound{round("r", -2147483648, 2147483647, -5)},
			LastLines: []caiquan.ResultLine{line("u", -1, -2, -3, -4)},
		}},
		{name: "lines without a round are dropped", rec: caiquan.PlayerRecord{LastLines: []caiquan.ResultLine{line("a", 1, 1, 1, 1)}}},
		{name: "empty lines, not nil", rec: caiquan.PlayerRecord{Recent: []caiquan.AppliedRound{round("r", 1, 1, 1)}, LastLines: []caiquan.ResultLine{}}},
		{name: "a line of an empty uid", rec: caiquan.PlayerRecord{Recent: []caiquan.AppliedRound{round("", 0, 0, 0)}, LastLines: []caiquan.ResultLine{{}}}},
		{name: "empty refused, not nil", rec: caiquan.PlayerRecord{Refused: []string{}}},
		{name: "refused of empty ids", rec: caiquan.PlayerRecord{Refused: []string{"", ""}}},
		{name: "HTML and quotes", rec: caiquan.PlayerRecord{Uname: `<script>"a" & 'b' \ /</script>`},
			golden: `{"v":1,"total":0,"streak":0,"rounds":0,"uname":"\u003cscript\u003e\"a\" \u0026 'b' \\ /\u003c/script\u003e","recent":[]}`},
		{name: "control bytes", rec: caiquan.PlayerRecord{Uname: "\x00\x01\b\t\n\v\f\r\x1b\x1f\x7f end"},
			golden: `{"v":1,"total":0,"streak":0,"rounds":0,"uname":"\u0000\u0001\b\t\n\u000b\f\r\u001b\u001f` + "\x7f" + ` end","recent":[]}`},
		{name: "line and paragraph separators", rec: caiquan.PlayerRecord{Uavatar: "a\u2028b\u2029c\u2027\u202a"}},
		{name: "invalid UTF-8", rec: caiquan.PlayerRecord{Uname: "a\xffb\xc3\xe2\x82\xed\xa0\x80\xc0\x80\xf4\x90\x80\x80z\xe2\x80",
			Recent: []caiquan.AppliedRound{round("\x80", 0, 0, 0)}, LastLines: []caiquan.ResultLine{line("\xfe\xff", 0, 0, 0, 0)}, Refused: []string{"\xc3"}}},
		{name: "replacement character and wide runes", rec: caiquan.PlayerRecord{Uname: "\ufffd 名字 😀 \U0010ffff é"}},
		{name: "a time elsewhere, with nanoseconds", rec: caiquan.PlayerRecord{LastSeen: time.Date(2026, 5, 6, 7, 8, 9, 123456789, shanghai)}},
		{name: "nanoseconds' trailing zeros", rec: caiquan.PlayerRecord{LastSeen: time.Date(2026, 5, 6, 7, 8, 9, 120000000, time.UTC)}},
		{name: "a time across midnight and a year", rec: caiquan.PlayerRecord{LastSeen: time.Date(2026, 1, 1, 2, 0, 0, 0, shanghai)}},
		{name: "a monotonic time", rec: caiquan.PlayerRecord{LastSeen: time.Now()}},
		{name: "a local time", rec: caiquan.PlayerRecord{LastSeen: time.Date(2020, 2, 29, 23, 59, 59, 999999999, time.Local)}},
		{name: "year 0", rec: caiquan.PlayerRecord{LastSeen: time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC)}},
		{name: "year 9999", rec: caiquan.PlayerRecord{LastSeen: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}},
		{name: "year 10000 fails", rec: caiquan.PlayerRecord{LastSeen: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "year -1 fails", rec: caiquan.PlayerRecord{LastSeen: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "year 9999 elsewhere is 10000 in UTC", rec: caiquan.PlayerRecord{LastSeen: time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("W", -2*3600))}},
		{name: "the zero time elsewhere is zero still", rec: caiquan.PlayerRecord{LastSeen: time.Time{}.In(shanghai)}},
		{name: "version 0 fails", v: 0},
		{name: "a newer version fails", v: RecordVersion + 1},
		{name: "full record", rec: benchRecord()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.v
			if v == 0 && !strings.Contains(c.name, "version") {
				v = RecordVersion
			}
			got := checkAppendRecord(t, c.rec, v)
			if c.golden != "" && string(got) != c.golden {
				t.Errorf("got  %s\nwant %s", got, c.golden)
			}
			if strings.HasSuffix(c.name, "fails") && got != nil {
				t.Errorf("wrote %s; want an error", got)
			}
		})
	}
}

// An encoding that fails leaves the caller's buffer as it was, to reuse.
func TestAppendRecordKeepsDstOnError(t *testing.T) {
	dst := append(make([]byte, 0, 256), "kept"...)
	bad := caiquan.PlayerRecord{Uname: "x", LastSeen: time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)}
	got, err := AppendRecord(dst, bad, RecordVersion)
	if err == nil || string(got) != "kept" {
		t.Fatalf("AppendRecord = %q, %v; want %q and an error", got, err, "kept")
	}
	if got, err = AppendRecord(got, caiquan.PlayerRecord{}, RecordVersion); err != nil || !strings.HasPrefix(string(got), `kept{"v":1,`) {
		t.Fatalf("after an error, AppendRecord = %q, %v", got, err)
	}
}

// FuzzAppendRecord builds records of odd text, times and lists and holds
// AppendRecord to encoding/json's bytes, and DecodeRecord to the record.
// The seeds run with go test; to search further:
//
//	go test -run '^$' -fuzz FuzzAppendRecord -fuzztime 60s ./store/
func FuzzAppendRecord(f *testing.F) {
	f.Add("Queen", "q.png", "r1", "a", "x,y", int32(5), int32(2), int64(3), 7, int64(1767225600), int64(0), 0, uint8(3), uint8(2), uint8(0))
	f.Add("", "", "", "", "", int32(0), int32(0), int64(0), 0, int64(0), int64(0), 0, uint8(0), uint8(0), uint8(0xff))
	f.Add("<&>\"\\\u2028\u2029", "\x00\x1f\x7f\t\n", "\xff\xfe", "\xed\xa0\x80", "\xc3,\xe2\x82", int32(-2147483648), int32(-1), int64(-1), -3,
		int64(-62135596800), int64(999999999), 8*3600, uint8(1), uint8(1), uint8(0x0f))
	f.Add("名字😀", "\ufffd", "room-1", "wx_0123", ",,", int32(2147483647), int32(9), int64(1<<62), 1<<40,
		int64(253402300799), int64(1), -(23*3600 + 59*60), uint8(5), uint8(4), uint8(0x3c))
	f.Add("y", "", "r", "u", "", int32(1), int32(1), int64(1), 1, int64(253402300800), int64(0), 0, uint8(1), uint8(0), uint8(0))
	f.Add("v", "", "r", "u", "", int32(1), int32(1), int64(1), 1, int64(0), int64(0), 0, uint8(1), uint8(1), uint8(0xc0))
	f.Fuzz(func(t *testing.T, uname, uavatar, roundID, lineUID, refused string, total, streak int32, writes int64, rounds int,
		sec, nsec int64, zone int, nRecent, nLines, flags uint8) {
		// Short text is enough to meet every escape, and keeps the fuzzer's
		// minimizing of a new input (quadratic in its length) short.
		for _, p := range []*string{&uname, &uavatar, &roundID, &lineUID, &refused} {
			*p = (*p)[:min(len(*p), 48)]
		}
		rec := caiquan.PlayerRecord{Standing: rules.Standing{Total: total, Streak: streak}, Rounds: rounds, Writes: writes,
			Uname: uname, Uavatar: uavatar, Renamed: flags&1 != 0, Banned: flags&2 != 0}
		// flags 4 and 8: empty lists made, not nil; 16: no time at all;
		// 32: a monotonic reading; 64: a version this release does not
		// write (128: 0, else the next).
		if flags&4 != 0 {
			rec.Recent, rec.LastLines = []caiquan.AppliedRound{}, []caiquan.ResultLine{}
		}
		for i := range int(nRecent % 6) {
			id := roundID
			if i%2 == 1 {
				id += strings.Repeat("\x80", i%3)
			}
			rec.Recent = append(rec.Recent, caiquan.AppliedRound{RoundID: id, Outcome: rules.Outcome{
				RoundScore: streak - int32(i), Standing: rules.Standing{Total: total + int32(i), Streak: streak * int32(i)}}})
		}
		for i := range int(nLines % 6) {
			rec.LastLines = append(rec.LastLines, caiquan.ResultLine{UID: lineUID[:len(lineUID)*i/5], Choice: int32(i) - 1,
				Outcome: rules.Outcome{RoundScore: total * int32(i%2), Standing: rules.Standing{Total: int32(i), Streak: streak}}})
		}
		if refused != "" {
			rec.Refused = strings.Split(refused, ",")
		} else if flags&8 != 0 {
			rec.Refused = []string{}
		}
		if flags&16 == 0 {
			// A zone offset within a day, as time.FixedZone takes any.
			rec.LastSeen = time.Unix(sec, nsec).In(time.FixedZone("Z"+strings.Repeat("x", zone&3), zone%(24*3600)))
			if flags&32 != 0 {
				rec.LastSeen = time.Now().Add(time.Duration(nsec))
			}
		}
		v := RecordVersion
		if flags&64 != 0 {
			v = RecordVersion + 1 - int(flags>>7)*(RecordVersion+1)
		}
		checkAppendRecord(t, rec, v)
	})
}
