package main

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/testserver"
)

func TestMain(m *testing.M) { os.Exit(testserver.Run(m)) }

// TestLoadEveryProtocol runs the tool briefly against a real server, every
// protocol at once in one lobby (so players of different wires meet), and
// checks its report. Short pings make the Engine.IO 4 players answer pings
// and check that Engine.IO 3 players never get one.
func TestLoadEveryProtocol(t *testing.T) {
	s := testserver.Start(t, "-round-time", "1s", "-bot-fill", "200ms", "-ping-interval", "500ms")
	players := map[string]int{"binary": 200, "json": 60, "eio3": 60, "eio4": 60}
	for name, n := range players {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts, err := parseFlags([]string{
				"-url", "ws://" + s.Addr, "-protocol", name, "-players", strconv.Itoa(n),
				"-ramp", "400", "-hold", "4s", "-think", "50ms", "-sources", "2", "-quiet",
			}, os.Stderr)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := runLoad(context.Background(), opts, os.Stderr)
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			rep.writeText(&text)
			t.Log("\n" + text.String())
			if rep.DialFailures != 0 || rep.Drops != 0 || rep.Malformed != 0 {
				t.Errorf("dial failures %d, drops %d, malformed %d; want none", rep.DialFailures, rep.Drops, rep.Malformed)
			}
			if rep.Connected != int64(n) {
				t.Errorf("connected %d of %d", rep.Connected, n)
			}
			if rep.Rounds == 0 || rep.RoundsPerSecond <= 0 {
				t.Errorf("no rounds completed")
			}
			if rep.TimeToMatch.Count == 0 || rep.MoveRelay.Count == 0 || rep.ResultLateness.Count == 0 {
				t.Errorf("not measured: time to match %d, relay %d, lateness %d samples",
					rep.TimeToMatch.Count, rep.MoveRelay.Count, rep.ResultLateness.Count)
			}
			for _, d := range []struct {
				name        string
				hold, whole dist
			}{{"time to match", rep.TimeToMatchHold, rep.TimeToMatch}, {"relay", rep.MoveRelayHold, rep.MoveRelay},
				{"lateness", rep.ResultLatenessHold, rep.ResultLateness}} {
				if d.hold.Count == 0 || d.hold.Count > d.whole.Count || d.hold.Max > d.whole.Max*1.01 {
					t.Errorf("%s of the hold: %+v, of the whole run: %+v", d.name, d.hold, d.whole)
				}
			}
		})
	}
}

// TestIdle holds connections that only said hello.
func TestIdle(t *testing.T) {
	s := testserver.Start(t, "-ping-interval", "300ms", "-idle-timeout", "1s")
	opts, err := parseFlags([]string{"-url", "ws://" + s.Addr, "-players", "50", "-ramp", "500", "-hold", "2s", "-idle", "-quiet"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := runLoad(context.Background(), opts, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Connected != 50 || rep.Drops != 0 || rep.Malformed != 0 {
		t.Errorf("connected %d, drops %v, malformed %v", rep.Connected, rep.DropReasons, rep.BadReasons)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, u := range []string{"ws://10.0.0.1:80", "ws://example.com:80", "ws://[::1]:80", "ws://127.0.0.1"} {
		if _, err := targetURL(u, protoBinary, false); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if got, err := targetURL("ws://127.0.0.1:8080", protoEIO3, false); err != nil || !strings.HasSuffix(got, "socket.io//?EIO=3&transport=websocket") {
		t.Errorf("eio3 URL %q, %v", got, err)
	}
}

func TestHistQuantiles(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	h.record(-3 * time.Millisecond)
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {0.0001, -3 * time.Millisecond}} {
		got := h.quantile(c.q)
		if diff := got - c.want; diff < -c.want.Abs()/100-time.Microsecond || diff > c.want.Abs()/100+time.Microsecond {
			t.Errorf("q%v = %v, want %v within 1%%", c.q, got, c.want)
		}
	}
}

// A window's summary counts only what was recorded in it.
func TestDistSince(t *testing.T) {
	var h hist
	for i := 1; i <= 100; i++ {
		h.record(500 * time.Millisecond) // before the window: slow
	}
	before := h.counts()
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond * 10)
	}
	d := distSince(h.counts(), before)
	if d.Count != 1000 {
		t.Fatalf("count %d, want 1000", d.Count)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p50", d.P50, 5}, {"p99", d.P99, 9.9}, {"max", d.Max, 10}} {
		if c.got < c.want*0.99 || c.got > c.want*1.01 {
			t.Errorf("%s %.3f ms, want %.3f within 1%%", c.name, c.got, c.want)
		}
	}
	if empty := distSince(before, before); empty != (dist{}) {
		t.Errorf("an empty window gives %+v", empty)
	}
}

// Bad flags are refused with a sentence that names the flag.
func TestBadFlagsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-players", "0"}, "-players"},
		{[]string{"-gogc", "-2"}, "-gogc"},
		{[]string{"-memlimit", "1000"}, "-memlimit"},
		{[]string{"-hold", "0s"}, "-hold"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v; want an error naming %s", tc.args, err, tc.want)
		}
	}
}
