// Command caiquan-load plays the game against a caiquan server with many
// simulated players and reports what they saw.
//
//	caiquan-load -url ws://127.0.0.1:8080 -protocol binary -players 10000 \
//	    -ramp 1000 -hold 60s -think 200ms -sources 4 -pid $(pidof caiquan) -json out.json
//
// Each player connects (over binary or JSON /ws, or Socket.IO with
// Engine.IO 3 or 4), says hello, then plays rounds until the hold ends:
// join, choose at once when the round starts, maybe choose again when
// another seat's first movement arrives, wait for the result, think, join
// again. With -idle a player says hello and then only keeps its connection
// open, for memory measurements.
//
// It prints a progress line every second on standard error and a report
// on standard output (and as JSON with -json): connections, dial failures,
// drops (connections that ended other than by the tool's own shutdown),
// rounds completed per second during the hold, time to match (join sent to
// start received), move relay (a player's choice sent to the movement for
// it received by another of the tool's players in the same room), result
// lateness (result received minus start received plus the round time),
// malformed messages (undecodable, or with impossible values such as a
// score that does not follow the rules), and the server's resident memory
// when -pid is given.
//
// It only talks to loopback addresses (127.0.0.0/8) unless -allow-remote
// is given, and stops by itself after the ramp and the hold. With
// -allow-remote it loads any host named in -url (ws://, wss://), warns
// which and how hard first, and keeps its connection rate at or below
// -ramp's remote cap (maxRemoteRamp), its players at or below
// maxRemotePlayers and its hold at or below maxRemoteHold: a staging
// cluster, not somebody else's server, is what it is for.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "caiquan-load: %v\n", err)
		return 2
	}
	if n, err := raiseFileLimit(); err != nil {
		fmt.Fprintf(stderr, "caiquan-load: open file limit: %v\n", err)
	} else if uint64(opts.players)+64 > n {
		fmt.Fprintf(stderr, "caiquan-load: warning: %d players but only %d open files allowed\n", opts.players, n)
	}
	if opts.gogc != 0 {
		debug.SetGCPercent(opts.gogc)
	}
	debug.SetMemoryLimit(opts.memLimit)
	if opts.cpuProfile != "" {
		f, err := os.Create(opts.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "caiquan-load: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "caiquan-load: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := runLoad(ctx, opts, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "caiquan-load: %v\n", err)
		return 1
	}
	rep.writeText(stdout)
	if opts.jsonPath != "" {
		data, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(opts.jsonPath, append(data, '\n'), 0o644); err != nil {
			fmt.Fprintf(stderr, "caiquan-load: %v\n", err)
			return 1
		}
	}
	return 0
}

type options struct {
	url           string
	proto         protocol
	players       int
	ramp          float64
	hold          time.Duration
	think         time.Duration
	roundTimeHint time.Duration
	sources       int
	pid           int
	jsonPath      string
	idle          bool
	rechoose      float64
	rounds        int
	stall         time.Duration
	quiet         bool
	cpuProfile    string
	gogc          int
	memLimit      int64
	allowRemote   bool
	// tls is the client configuration for wss:// (nil: the system's
	// roots); tests set it to trust a throwaway CA.
	tls *tls.Config
}

// Limits of a run with -allow-remote. A mistyped flag or URL then costs
// somebody else's machine, so the tool goes at most this hard.
const (
	maxRemoteRamp    = 200 // new connections per second
	maxRemotePlayers = 20000
	maxRemoteHold    = 30 * time.Minute
)

// maxHold bounds a run, so that a mistyped flag cannot load a machine for days.
const maxHold = 2 * time.Hour

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var proto string
	fs := flag.NewFlagSet("caiquan-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "ws://127.0.0.1:8080", "server URL (ws:// or wss://), loopback only unless -allow-remote; without a path the protocol's usual endpoint is used")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, fmt.Sprintf("load a host other than loopback (a staging cluster you run): at most %d connections per second, %d players and %v of hold", maxRemoteRamp, maxRemotePlayers, maxRemoteHold))
	fs.StringVar(&proto, "protocol", "binary", "binary, json (both /ws), eio3 or eio4 (Socket.IO)")
	fs.IntVar(&o.players, "players", 100, "simulated players")
	fs.Float64Var(&o.ramp, "ramp", 500, "players connected per second")
	fs.DurationVar(&o.hold, "hold", 10*time.Second, "how long to play once every player has been started")
	fs.DurationVar(&o.think, "think", 200*time.Millisecond, "mean pause between a result and the next join (uniform from half to 1.5 times)")
	fs.DurationVar(&o.roundTimeHint, "round-time-hint", 0, "round time to compute result lateness with, instead of start.gameTime")
	fs.IntVar(&o.sources, "sources", 1, "loopback source addresses to dial from, 127.0.0.1 upwards (each has its own ephemeral ports)")
	fs.IntVar(&o.pid, "pid", 0, "server process id, to report its resident memory (VmRSS)")
	fs.StringVar(&o.jsonPath, "json", "", "also write the report as JSON to this file")
	fs.BoolVar(&o.idle, "idle", false, "only connect and say hello, then hold the connection open")
	fs.Float64Var(&o.rechoose, "rechoose", 0.5, "probability of a second choice in a round, sent when another seat's first movement arrives")
	fs.IntVar(&o.rounds, "rounds", 0, "rounds per player, then stay idle (0: no limit)")
	fs.DurationVar(&o.stall, "stall", 30*time.Second, "a playing connection that receives nothing this long counts as dropped (0: never)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load tool's own CPU profile to this file (the tool shares the machine with the server)")
	fs.IntVar(&o.gogc, "gogc", -1, "the tool's own garbage collection target, as GOGC: -1 (off) collects only as its memory nears -memlimit, 0 leaves GOGC as it is. The tool shares the machine with the server, and each of its collections delays its readers, which the figures would count as the server's")
	fs.Int64Var(&o.memLimit, "memlimit", 4<<30, "the tool's soft memory limit, in bytes")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var ok bool
	if o.proto, ok = protocolNames[proto]; !ok {
		return o, fmt.Errorf("-protocol must be binary, json, eio3 or eio4, got %q", proto)
	}
	switch {
	case o.players < 1:
		return o, errors.New("-players must be at least 1")
	case !(o.ramp > 0):
		return o, errors.New("-ramp must be more than 0")
	case o.hold <= 0 || o.hold > maxHold:
		return o, fmt.Errorf("-hold must be more than 0 and at most %v", maxHold)
	case o.think < 0 || o.roundTimeHint < 0 || o.stall < 0:
		return o, errors.New("-think, -round-time-hint and -stall must not be negative")
	case o.gogc < -1:
		return o, errors.New("-gogc must be -1 (off), 0 (GOGC as it is) or more")
	case o.memLimit < 64<<20:
		return o, errors.New("-memlimit must be at least 64 MiB (67108864)")
	case o.sources < 1 || o.sources > 250:
		return o, errors.New("-sources must be between 1 and 250")
	case o.rechoose < 0 || o.rechoose > 1:
		return o, errors.New("-rechoose must be between 0 and 1")
	}
	if o.allowRemote {
		rampGiven := false
		fs.Visit(func(f *flag.Flag) { rampGiven = rampGiven || f.Name == "ramp" })
		if !rampGiven {
			o.ramp = min(o.ramp, maxRemoteRamp)
		}
		switch {
		case o.ramp > maxRemoteRamp:
			return o, fmt.Errorf("-ramp %g is above the cap for -allow-remote (%d connections per second)", o.ramp, maxRemoteRamp)
		case o.players > maxRemotePlayers:
			return o, fmt.Errorf("-players %d is above the cap for -allow-remote (%d)", o.players, maxRemotePlayers)
		case o.hold > maxRemoteHold:
			return o, fmt.Errorf("-hold %v is above the cap for -allow-remote (%v)", o.hold, maxRemoteHold)
		case o.sources != 1:
			return o, errors.New("-sources are loopback source addresses; with -allow-remote leave it at 1")
		}
	}
	return o, nil
}

// load is one run: its players, its dialers and what they measured.
type load struct {
	opts       options
	target     string
	uidPrefix  string
	dialers    []*websocket.Dialer
	players    []*player
	stallAfter time.Duration

	stop     chan struct{}
	stopping atomic.Bool
	wg       sync.WaitGroup
	st       stats
}

func newLoad(opts options) (*load, error) {
	target, err := targetURL(opts.url, opts.proto, opts.allowRemote)
	if err != nil {
		return nil, err
	}
	l := &load{
		opts:      opts,
		target:    target,
		uidPrefix: "ld" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-",
		stop:      make(chan struct{}),
	}
	if !opts.idle {
		l.stallAfter = opts.stall
	}
	l.st.init()
	// The write buffer is only held while a frame is written.
	pool := &sync.Pool{}
	for i := range opts.sources {
		nd := &net.Dialer{Timeout: 15 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))}}
		network := "tcp4"
		if opts.allowRemote {
			// The system picks the source address that reaches the host.
			nd.LocalAddr, network = nil, "tcp"
		}
		l.dialers = append(l.dialers, &websocket.Dialer{
			NetDialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				// Checked again at each dial: a name could resolve elsewhere
				// than when the URL was read.
				if !opts.allowRemote {
					if err := checkLoopback(addr); err != nil {
						return nil, err
					}
				}
				return nd.DialContext(ctx, network, addr)
			},
			TLSClientConfig:  opts.tls,
			HandshakeTimeout: 15 * time.Second,
			ReadBufferSize:   512,
			WriteBufferSize:  512,
			WriteBufferPool:  pool,
		})
	}
	l.players = make([]*player, opts.players)
	for i := range l.players {
		l.players[i] = &player{l: l, idx: i, uid: l.uidPrefix + strconv.Itoa(i)}
	}
	return l, nil
}

// targetURL adds the protocol's endpoint to a URL without a path and,
// unless remote hosts are allowed, refuses anything not on loopback.
func targetURL(raw string, p protocol, allowRemote bool) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("-url: %v", err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("-url must be ws://, wss://, http:// or https://, got %q", u.Scheme)
	}
	if u.Port() == "" {
		return "", errors.New("-url must name a port")
	}
	if !allowRemote {
		if err := checkLoopback(u.Host); err != nil {
			return "", err
		}
	}
	if u.Path == "" || u.Path == "/" {
		return u.Scheme + "://" + u.Host + p.defaultPath(), nil
	}
	return u.String(), nil
}

// checkLoopback refuses any host but an IPv4 loopback address (or
// localhost): the tool must never load another machine.
func checkLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host).To4()
	if ip == nil || ip[0] != 127 {
		return fmt.Errorf("refusing %s: only loopback addresses (127.0.0.0/8) may be loaded; -allow-remote loads a server of yours elsewhere, at a capped rate", host)
	}
	return nil
}

func (l *load) dial(i int) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, resp, err := l.dialers[i%len(l.dialers)].DialContext(ctx, l.target, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil && resp != nil {
		return nil, fmt.Errorf("upgrade refused: HTTP %d", resp.StatusCode)
	}
	return ws, err
}

// playerOf finds the load's player by uid, or nil for anyone else.
func (l *load) playerOf(uid string) *player {
	rest, ok := strings.CutPrefix(uid, l.uidPrefix)
	if !ok {
		return nil
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= len(l.players) {
		return nil
	}
	return l.players[i]
}

// think pauses between rounds, uniform in [think/2, 3·think/2].
func (l *load) think() error {
	d := l.opts.think
	if d > 0 {
		d = d/2 + time.Duration(randInt64N(int64(d)+1))
	}
	return l.wait(d)
}

// pause waits before a join that the server refused is sent again.
func (l *load) pause() error { return l.wait(max(l.opts.think, 100*time.Millisecond)) }

// pauseBusy waits before a join again after server_busy: a second, as a
// player told "the server is busy; try again" would, not a storm of joins
// at a server that is short of memory.
func (l *load) pauseBusy() error { return l.wait(max(l.opts.think, time.Second)) }

// wait sleeps for d, or until the run stops.
func (l *load) wait(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.stop:
		return errStopped
	case <-t.C:
		return nil
	}
}

// runLoad ramps the players up, holds, stops them, and reports.
func runLoad(ctx context.Context, opts options, progress io.Writer) (*report, error) {
	l, err := newLoad(opts)
	if err != nil {
		return nil, err
	}
	if opts.allowRemote {
		// Said even when -quiet: whoever reads the log must see it.
		fmt.Fprintf(progress, "caiquan-load: WARNING: -allow-remote: about to load %s with %d players at %g connections per second for %v after the ramp. "+
			"Load only servers you run or may test; press Ctrl-C to stop.\n", l.target, opts.players, opts.ramp, opts.hold)
	}
	rep := &report{
		Protocol: opts.proto.String(), URL: l.target, Players: opts.players, Ramp: opts.ramp,
		Hold: opts.hold.String(), Think: opts.think.String(), Idle: opts.idle, Sources: opts.sources,
		Started: time.Now().Format(time.RFC3339),
	}
	if opts.pid > 0 {
		rss, err := readRSS(opts.pid)
		if err != nil {
			return nil, fmt.Errorf("-pid: %v", err)
		}
		rep.ServerRSS.BeforeKiB = rss.rss
	}

	begin := time.Now()
	progressDone := make(chan struct{})
	progressStop := make(chan struct{})
	go func() {
		defer close(progressDone)
		if !opts.quiet {
			l.progress(progress, begin, progressStop)
		}
	}()

	// Ramp: player i starts at begin + i/ramp.
	interval := time.Duration(float64(time.Second) / opts.ramp)
	stopped := false
	for i, p := range l.players {
		if wait := time.Until(begin.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-ctx.Done():
				stopped = true
			case <-time.After(wait):
			}
		}
		if stopped {
			break
		}
		l.wg.Add(1)
		go p.run()
	}
	holdStart := time.Now()
	rep.RampSeconds = holdStart.Sub(begin).Seconds()
	roundsBefore, playerRoundsBefore := l.st.rounds.Load(), l.st.playerRounds.Load()
	cpuBefore, gcBefore := sampleCPU(opts.pid), gcCycles()
	holdHists := l.st.timings()
	atHoldStart := make([]*histCounts, len(holdHists))
	for i, h := range holdHists {
		atHoldStart[i] = h.counts()
	}
	if !stopped {
		select {
		case <-ctx.Done():
		case <-time.After(opts.hold):
		}
	}
	held := time.Since(holdStart)
	holdDists := []*dist{&rep.TimeToMatchHold, &rep.MoveRelayHold, &rep.ResultLatenessHold}
	for i, h := range holdHists {
		*holdDists[i] = distSince(h.counts(), atHoldStart[i])
	}
	rep.setCPU(cpuBefore, sampleCPU(opts.pid))
	rep.ToolGCCycles = gcCycles() - gcBefore
	rep.HoldSeconds = held.Seconds()
	rep.RoundsPerSecond = float64(l.st.rounds.Load()-roundsBefore) / held.Seconds()
	rep.PlayerRoundsPerSecond = float64(l.st.playerRounds.Load()-playerRoundsBefore) / held.Seconds()
	rep.Connected = l.st.online.Load()
	rep.MaxConnected = l.st.maxOnline.Load()
	if opts.pid > 0 {
		if rss, err := readRSS(opts.pid); err == nil {
			rep.ServerRSS.EndKiB, rep.ServerRSS.PeakKiB = rss.rss, rss.hwm
			if rep.Connected > 0 {
				rep.ServerRSS.AddedPerConnKiB = float64(rss.rss-rep.ServerRSS.BeforeKiB) / float64(rep.Connected)
			}
		}
	}
	if rss, err := readRSS(os.Getpid()); err == nil {
		rep.ToolRSSKiB = rss.rss
	}

	l.shutdown()
	close(progressStop)
	<-progressDone
	l.st.fill(rep)
	return rep, nil
}

// shutdown stops every player: a close frame to each, then, for those that
// do not end within a few seconds, the socket is closed under them.
func (l *load) shutdown() {
	l.stopping.Store(true)
	close(l.stop)
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "load test over")
	deadline := time.Now().Add(time.Second)
	for _, p := range l.players {
		if ws := p.ws.Load(); ws != nil {
			ws.WriteControl(websocket.CloseMessage, msg, deadline)
		}
	}
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(5 * time.Second):
	}
	for _, p := range l.players {
		if ws := p.ws.Load(); ws != nil {
			ws.Close()
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// progress prints one line a second; its percentiles are of that second only.
func (l *load) progress(w io.Writer, begin time.Time, stop <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := l.st.playerRounds.Load()
	hists := l.st.timings()
	prev := make([]*histCounts, len(hists))
	for i, h := range hists {
		prev[i] = h.counts()
	}
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		var p99 [3]float64
		for i, h := range hists {
			now := h.counts()
			p99[i] = ms(quantileSince(now, prev[i], 0.99))
			prev[i] = now
		}
		pr := l.st.playerRounds.Load()
		fmt.Fprintf(w, "%4.0fs online %d fail %d drop %d bad %d | results/s %d | this second: match p99 %.1fms relay p99 %.1fms late p99 %.1fms\n",
			time.Since(begin).Seconds(), l.st.online.Load(), l.st.dialFailures.Load(), l.st.drops.Load(), l.st.malformed.Load(),
			pr-last, p99[0], p99[1], p99[2])
		last = pr
	}
}
