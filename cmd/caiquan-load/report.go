package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"runtime/metrics"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// stats is what every player adds to; counters and histograms are atomic,
// the reason maps (rarely written) share one mutex.
type stats struct {
	online, maxOnline              atomic.Int64
	dialFailures, drops, malformed atomic.Int64
	rounds, playerRounds, voids    atomic.Int64
	lateChoices                    atomic.Int64
	ttm, ttmHuman, ttmBot, relay   hist
	lateness                       hist

	mu                                               sync.Mutex
	dialReasons, dropReasons, badReasons, errorCodes map[string]int64
	badExamples                                      map[string]string // reason -> its first case, in detail
}

// timings are time to match, relay and lateness, in that order: the
// histograms the progress lines and the hold's figures read.
func (s *stats) timings() []*hist { return []*hist{&s.ttm, &s.relay, &s.lateness} }

func (s *stats) init() {
	s.dialReasons = map[string]int64{}
	s.dropReasons = map[string]int64{}
	s.badReasons = map[string]int64{}
	s.badExamples = map[string]string{}
	s.errorCodes = map[string]int64{}
}

func (s *stats) note(m *map[string]int64, reason string) {
	s.mu.Lock()
	(*m)[reason]++
	s.mu.Unlock()
}

func (s *stats) bad(reason string) {
	s.malformed.Add(1)
	s.note(&s.badReasons, reason)
}

// badCase is bad with the details of the case; the first of each reason
// is kept for the report, to tell a broken rule from a broken tool.
func (s *stats) badCase(reason, detail string) {
	s.bad(reason)
	s.mu.Lock()
	if _, ok := s.badExamples[reason]; !ok {
		s.badExamples[reason] = detail
	}
	s.mu.Unlock()
}

func (s *stats) connected(delta int64) {
	n := s.online.Add(delta)
	for {
		m := s.maxOnline.Load()
		if n <= m || s.maxOnline.CompareAndSwap(m, n) {
			return
		}
	}
}

// report is the run's outcome; its JSON names are the ones in the README.
type report struct {
	Protocol    string  `json:"protocol"`
	URL         string  `json:"url"`
	Players     int     `json:"players"`
	Ramp        float64 `json:"ramp_per_second"`
	Hold        string  `json:"hold"`
	Think       string  `json:"think"`
	Idle        bool    `json:"idle"`
	Sources     int     `json:"sources"`
	Started     string  `json:"started"`
	RampSeconds float64 `json:"ramp_seconds"`
	HoldSeconds float64 `json:"hold_seconds"`

	Connected    int64             `json:"connected"`     // said hello and still open at the end of the hold
	MaxConnected int64             `json:"max_connected"` // most open at once
	DialFailures int64             `json:"dial_failures"`
	DialReasons  map[string]int64  `json:"dial_failure_reasons,omitempty"`
	Drops        int64             `json:"drops"`
	DropReasons  map[string]int64  `json:"drop_reasons,omitempty"`
	Malformed    int64             `json:"malformed"`
	BadReasons   map[string]int64  `json:"malformed_reasons,omitempty"`
	BadExamples  map[string]string `json:"malformed_examples,omitempty"`
	ErrorCodes   map[string]int64  `json:"error_codes,omitempty"` // Error messages received, by code

	Rounds                int64   `json:"rounds"`        // rooms settled with one of our players in them
	PlayerRounds          int64   `json:"player_rounds"` // results received
	RoundsPerSecond       float64 `json:"rounds_per_second"`
	PlayerRoundsPerSecond float64 `json:"player_rounds_per_second"`
	Voids                 int64   `json:"voids"`
	LateChoices           int64   `json:"late_choices"` // results in which the player's last choice did not count

	TimeToMatch      dist `json:"time_to_match"`
	TimeToMatchHuman dist `json:"time_to_match_humans_only"`
	TimeToMatchBot   dist `json:"time_to_match_with_bots"`
	MoveRelay        dist `json:"move_relay"`
	ResultLateness   dist `json:"result_lateness"`
	// The same three of the hold alone: the ones above count the ramp too
	// (players connecting while others play) and the shutdown.
	TimeToMatchHold    dist `json:"time_to_match_hold"`
	MoveRelayHold      dist `json:"move_relay_hold"`
	ResultLatenessHold dist `json:"result_lateness_hold"`

	ServerRSS struct {
		BeforeKiB       int64   `json:"before_kib"`
		EndKiB          int64   `json:"end_kib"`
		PeakKiB         int64   `json:"peak_kib"`
		AddedPerConnKiB float64 `json:"added_per_connection_kib"`
	} `json:"server_rss"`
	ToolRSSKiB int64 `json:"tool_rss_kib"`
	// ToolGCCycles counts the tool's own collections during the hold
	// (see -gogc and -memlimit).
	ToolGCCycles uint64 `json:"tool_gc_cycles"`

	// CPU used during the hold, in cores: the server (with -pid), this
	// tool, and everything else on the machine, which should be near zero
	// for the figures to mean anything.
	CPU struct {
		Server float64 `json:"server_cores"`
		Tool   float64 `json:"tool_cores"`
		Other  float64 `json:"other_cores"`
	} `json:"cpu"`
}

func (s *stats) fill(r *report) {
	r.DialFailures, r.Drops, r.Malformed = s.dialFailures.Load(), s.drops.Load(), s.malformed.Load()
	r.Rounds, r.PlayerRounds, r.Voids, r.LateChoices = s.rounds.Load(), s.playerRounds.Load(), s.voids.Load(), s.lateChoices.Load()
	r.TimeToMatch, r.TimeToMatchHuman, r.TimeToMatchBot = s.ttm.summary(), s.ttmHuman.summary(), s.ttmBot.summary()
	r.MoveRelay, r.ResultLateness = s.relay.summary(), s.lateness.summary()
	s.mu.Lock()
	defer s.mu.Unlock()
	r.DialReasons, r.DropReasons = copyMap(s.dialReasons), copyMap(s.dropReasons)
	r.BadReasons, r.ErrorCodes = copyMap(s.badReasons), copyMap(s.errorCodes)
	if len(s.badExamples) > 0 {
		r.BadExamples = maps.Clone(s.badExamples)
	}
}

func copyMap(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (r *report) writeText(w io.Writer) {
	fmt.Fprintf(w, "caiquan-load %s %s: %d players, ramp %g/s (%.1fs), hold %.1fs, think %s\n",
		r.Protocol, r.URL, r.Players, r.Ramp, r.RampSeconds, r.HoldSeconds, r.Think)
	fmt.Fprintf(w, "connected      %d (most at once %d)\n", r.Connected, r.MaxConnected)
	fmt.Fprintf(w, "dial failures  %d%s\n", r.DialFailures, reasons(r.DialReasons))
	fmt.Fprintf(w, "drops          %d%s\n", r.Drops, reasons(r.DropReasons))
	fmt.Fprintf(w, "malformed      %d%s\n", r.Malformed, reasons(r.BadReasons))
	for _, reason := range slices.Sorted(maps.Keys(r.BadExamples)) {
		fmt.Fprintf(w, "  first case of %q: %s\n", reason, r.BadExamples[reason])
	}
	if len(r.ErrorCodes) > 0 {
		fmt.Fprintf(w, "errors         %s\n", strings.TrimPrefix(reasons(r.ErrorCodes), " "))
	}
	if !r.Idle {
		fmt.Fprintf(w, "rounds         %d (%.1f/s during the hold); results received %d (%.1f/s); voids %d; late choices %d\n",
			r.Rounds, r.RoundsPerSecond, r.PlayerRounds, r.PlayerRoundsPerSecond, r.Voids, r.LateChoices)
		row := func(name string, d dist) {
			fmt.Fprintf(w, "%-26s p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms  (n=%d)\n", name, d.P50, d.P99, d.Max, d.Count)
		}
		row("time to match", r.TimeToMatch)
		row("  humans only", r.TimeToMatchHuman)
		row("  with bots", r.TimeToMatchBot)
		row("move relay", r.MoveRelay)
		row("result lateness", r.ResultLateness)
		row("hold only: time to match", r.TimeToMatchHold)
		row("  move relay", r.MoveRelayHold)
		row("  result lateness", r.ResultLatenessHold)
	}
	if r.ServerRSS.EndKiB > 0 {
		fmt.Fprintf(w, "server RSS     %d KiB before, %d KiB at the end (peak %d KiB): %.2f KiB added per connection\n",
			r.ServerRSS.BeforeKiB, r.ServerRSS.EndKiB, r.ServerRSS.PeakKiB, r.ServerRSS.AddedPerConnKiB)
	}
	fmt.Fprintf(w, "tool RSS       %d KiB; %d collections of its own during the hold\n", r.ToolRSSKiB, r.ToolGCCycles)
	fmt.Fprintf(w, "CPU (hold)     server %.2f cores, tool %.2f cores, rest of the machine %.2f cores\n", r.CPU.Server, r.CPU.Tool, r.CPU.Other)
}

func reasons(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// raiseFileLimit lifts the soft open-file limit to the hard one and
// returns the limit in force.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}

type rss struct{ rss, hwm int64 }

// readRSS reads VmRSS and VmHWM (peak) of a process, in KiB.
func readRSS(pid int) (rss, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return rss{}, err
	}
	defer f.Close()
	var out rss
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch name {
		case "VmRSS":
			out.rss = n
		case "VmHWM":
			out.hwm = n
		}
	}
	if out.rss == 0 {
		return out, fmt.Errorf("no VmRSS for process %d", pid)
	}
	return out, sc.Err()
}

func randInt64N(n int64) int64 { return rand.Int64N(n) }

// gcCycles is how many collections this process has finished.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// cpuSample is CPU time so far, in clock ticks: the whole machine's busy
// time and that of two processes.
type cpuSample struct {
	at                time.Time
	machine, srv, own uint64
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

func sampleCPU(serverPID int) cpuSample {
	s := cpuSample{at: time.Now(), own: procTicks(os.Getpid())}
	if serverPID > 0 {
		s.srv = procTicks(serverPID)
	}
	if data, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		fields := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
		for i, f := range fields[1:] {
			if i == 3 || i == 4 || i >= 8 { // idle, iowait, guest (already in user)
				continue
			}
			n, _ := strconv.ParseUint(f, 10, 64)
			s.machine += n
		}
	}
	return s
}

// procTicks is a process's user and system time (/proc/PID/stat fields 14, 15).
func procTicks(pid int) uint64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name may hold spaces; fields count from after its ')'.
	_, rest, ok := strings.Cut(string(data), ") ")
	if !ok {
		return 0
	}
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		return 0
	}
	u, _ := strconv.ParseUint(fields[11], 10, 64)
	st, _ := strconv.ParseUint(fields[12], 10, 64)
	return u + st
}

func (r *report) setCPU(from, to cpuSample) {
	secs := to.at.Sub(from.at).Seconds()
	if secs <= 0 {
		return
	}
	cores := func(ticks uint64) float64 { return float64(ticks) / clockTicks / secs }
	r.CPU.Server = cores(to.srv - from.srv)
	r.CPU.Tool = cores(to.own - from.own)
	r.CPU.Other = max(0, cores(to.machine-from.machine)-r.CPU.Server-r.CPU.Tool)
}
