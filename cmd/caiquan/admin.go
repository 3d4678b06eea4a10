package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/caiquan/caiquan/admin"
	"github.com/caiquan/caiquan/config"
)

const adminUsage = `usage: caiquan admin [-addr host:port] [-token T | -token-file F] COMMAND [flags]

Commands:
  actors [-kind room,bot]                      list live actors
  kill [-node ADDR] (-pid PID | -kind K -id ID) [-mode M]
                                             kill one actor: stop, poison or panic; in a
                                             cluster -node (the NODE column) names its member
  chaos -kinds K,K [-modes M,M] -every D -for D [-seed N]
        [-delay-kinds K,K -delay-by D [-delay-drop F] -delay-for D [-delay-share F]]
                                             kill random actors at a rate, with progress;
                                             the same -seed picks the same victims; with
                                             -delay-kinds some ticks (-delay-share, 0.5)
                                             delay this node's actors of a kind instead
  chaos-status                                 the current or last chaos run
  chaos-stop                                   end a chaos run
  checkpoint NAME                              a consistent copy of the store (pebble) in
                                             STORE_PATH.checkpoints/NAME; prints its path
  delay -kind K -by D [-drop F [-seed N]] -for D
                                             messages to this node's actors of kind K
                                             wait D, and the fraction F (0 to 1) of them
                                             is dropped (-by 0s without -drop ends it)
  delay-status                                 the delays in force on this node
  rename UID NAME                              show the player as NAME (kept over the names
                                             its client sends)
  reset UID                                    total, streak and rounds to 0 (off the board)
  ban UID                                      refuse the player's hello and login, and close
                                             its live session
  unban UID                                    undo ban

-addr defaults to CAIQUAN_ADMIN_LISTEN or 127.0.0.1:8081. The token is -token, else
CAIQUAN_ADMIN_TOKEN, else the file -token-file (default CAIQUAN_ADMIN_TOKEN_FILE or
caiquan.admin-token in the working directory, where the server keeps the token it made).
`

// runAdmin is `caiquan admin ...`: a client of the admin API.
func runAdmin(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", or(getenv("CAIQUAN_ADMIN_LISTEN"), "127.0.0.1:8081"), "")
	token := fs.String("token", getenv("CAIQUAN_ADMIN_TOKEN"), "")
	tokenFile := fs.String("token-file", or(getenv("CAIQUAN_ADMIN_TOKEN_FILE"), config.Default().AdminTokenFile), "")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		io.WriteString(stderr, adminUsage)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *token == "" {
		tok, err := admin.ReadTokenFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "caiquan admin: no token: give -token, or -token-file naming the server's admin_token_file: %v\n", err)
			return 2
		}
		*token = tok
	}
	c := &admin.Client{Addr: *addr, Token: *token}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	var err error
	switch cmd {
	case "actors":
		err = adminActors(c, rest, stdout)
	case "rename", "reset", "ban", "unban":
		err = adminPlayer(c, cmd, rest, stdout)
	case "kill":
		err = adminKill(c, rest, stdout)
	case "chaos":
		err = adminChaos(c, rest, stdout, stderr)
	case "chaos-status":
		var st admin.ChaosStatus
		if st, err = c.Chaos(); err == nil {
			printChaos(stdout, st)
		}
	case "chaos-stop":
		var st admin.ChaosStatus
		if st, err = c.StopChaos(); err == nil {
			printChaos(stdout, st)
		}
	case "checkpoint":
		if len(rest) != 1 {
			fmt.Fprintf(stderr, "caiquan admin checkpoint: name the checkpoint\n\n%s", adminUsage)
			return 2
		}
		var res admin.CheckpointResult
		if res, err = c.Checkpoint(rest[0]); err == nil {
			fmt.Fprintln(stdout, res.Path)
		}
	case "delay":
		err = adminDelay(c, rest, stdout)
	case "delay-status":
		var st admin.DelayStatus
		if st, err = c.Delays(); err == nil {
			printDelays(stdout, st)
		}
	default:
		fmt.Fprintf(stderr, "caiquan admin: unknown command %q\n\n%s", cmd, adminUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "caiquan admin %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func adminActors(c *admin.Client, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("actors", flag.ContinueOnError)
	kind := fs.String("kind", "", "comma-separated kinds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var kinds []string
	if *kind != "" {
		kinds = strings.Split(*kind, ",")
	}
	list, err := c.Actors(kinds...)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tID\tPID\tNODE\tAGE\tRESTARTS\tMAILBOX")
	for _, a := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", a.Kind, a.ID, a.PID, a.Node, time.Since(a.Started).Round(time.Second), a.Restarts, a.Mailbox)
	}
	tw.Flush()
	fmt.Fprintf(out, "%d actors\n", len(list))
	return nil
}

func adminKill(c *admin.Client, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("kill", flag.ContinueOnError)
	var req admin.KillRequest
	fs.StringVar(&req.Node, "node", "", "")
	fs.StringVar(&req.PID, "pid", "", "")
	fs.StringVar(&req.Kind, "kind", "", "")
	fs.StringVar(&req.ID, "id", "", "")
	fs.StringVar(&req.Mode, "mode", "stop", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := c.Kill(req)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s %s %s (%s on %s)\n", res.Mode, res.Killed.Kind, res.Killed.ID, res.Killed.PID, res.Killed.Node)
	return nil
}

func adminChaos(c *admin.Client, args []string, out, progress io.Writer) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	kinds := fs.String("kinds", "", "")
	modes := fs.String("modes", "", "")
	every := fs.String("every", "100ms", "")
	span := fs.String("for", "10s", "")
	seed := fs.Uint64("seed", 0, "")
	delayKinds := fs.String("delay-kinds", "", "")
	delayBy := fs.String("delay-by", "", "")
	delayDrop := fs.Float64("delay-drop", 0, "")
	delayFor := fs.String("delay-for", "", "")
	delayShare := fs.Float64("delay-share", 0, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	req := admin.ChaosRequest{Every: *every, For: *span, Seed: *seed}
	if *kinds != "" {
		req.Kinds = strings.Split(*kinds, ",")
	}
	if *delayKinds != "" {
		if math.IsNaN(*delayDrop) || *delayDrop < 0 || *delayDrop > 1 {
			return fmt.Errorf("-delay-drop: the fraction of messages dropped must be between 0 and 1, got %v", *delayDrop)
		}
		if math.IsNaN(*delayShare) || *delayShare < 0 || *delayShare > 1 {
			return fmt.Errorf("-delay-share: the fraction of ticks that delay must be between 0 and 1, got %v", *delayShare)
		}
		req.Delays = &admin.ChaosDelays{Kinds: strings.Split(*delayKinds, ","), By: *delayBy, Drop: *delayDrop, For: *delayFor, Share: *delayShare}
	} else if *delayBy != "" || *delayFor != "" || *delayDrop != 0 || *delayShare != 0 {
		return errors.New("-delay-by, -delay-drop, -delay-for and -delay-share need -delay-kinds")
	}
	if *modes != "" {
		req.Modes = strings.Split(*modes, ",")
	}
	st, err := c.StartChaos(req)
	if err != nil {
		return err
	}
	for st.Running {
		fmt.Fprintf(progress, "\rchaos: %d kills, %d delay windows, %d misses, %s left   ", st.Total, windows(st), st.Misses, time.Until(st.Ends).Round(time.Second))
		time.Sleep(time.Second)
		if st, err = c.Chaos(); err != nil {
			return err
		}
	}
	fmt.Fprintln(progress)
	printChaos(out, st)
	return nil
}

func printChaos(out io.Writer, st admin.ChaosStatus) {
	state := "ended"
	if st.Running {
		state = "running"
	}
	fmt.Fprintf(out, "chaos %s: %d kills, %d misses\n", state, st.Total, st.Misses)
	if st.Delays != nil {
		fmt.Fprintf(out, "delay windows: %d (%s by %s, drop %v, for %s, share %v)\n", windows(st),
			strings.Join(st.Delays.Kinds, ","), st.Delays.By, st.Delays.Drop, st.Delays.For, st.Delays.Share)
	}
	keys := make([]string, 0, len(st.Kills))
	for k := range st.Kills {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND/MODE\tKILLS")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%d\n", k, st.Kills[k])
	}
	tw.Flush()
	if len(st.Windows) > 0 {
		kinds := make([]string, 0, len(st.Windows))
		for k := range st.Windows {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DELAYED KIND\tWINDOWS")
		for _, k := range kinds {
			fmt.Fprintf(tw, "%s\t%d\n", k, st.Windows[k])
		}
		tw.Flush()
	}
}

// windows is how many delay windows a chaos run opened.
func windows(st admin.ChaosStatus) int {
	n := 0
	for _, v := range st.Windows {
		n += v
	}
	return n
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func adminDelay(c *admin.Client, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("delay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	kind := fs.String("kind", "", "")
	by := fs.Duration("by", 0, "")
	span := fs.Duration("for", 0, "")
	drop := fs.Float64("drop", 0, "")
	seed := fs.Uint64("seed", 0, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *kind == "" || fs.NArg() > 0 {
		return errors.New("usage: delay -kind K [-by D] [-drop F [-seed N]] -for D")
	}
	if math.IsNaN(*drop) || *drop < 0 || *drop > 1 {
		return fmt.Errorf("-drop: the fraction of messages dropped must be between 0 and 1, got %v", *drop)
	}
	st, err := c.Delay(admin.DelayRequest{Kind: *kind, By: by.String(), For: span.String(), Drop: *drop, Seed: *seed})
	if err == nil {
		printDelays(out, st)
	}
	return err
}

func printDelays(out io.Writer, st admin.DelayStatus) {
	if len(st.Delays) == 0 {
		fmt.Fprintln(out, "no delays")
	}
	for _, d := range st.Delays {
		fmt.Fprintf(out, "%s: %v", d.Kind, d.By)
		if d.Drop > 0 {
			fmt.Fprintf(out, ", drop %v (seed %d, %d dropped)", d.Drop, d.Seed, d.Dropped)
		}
		fmt.Fprintf(out, " until %s\n", d.Until.Format(time.RFC3339))
	}
}

// adminPlayer is rename, reset, ban and unban.
func adminPlayer(c *admin.Client, op string, args []string, stdout io.Writer) error {
	want := 1
	if op == "rename" {
		want = 2
	}
	if len(args) != want {
		if op == "rename" {
			return errors.New("usage: caiquan admin rename UID NAME")
		}
		return fmt.Errorf("usage: caiquan admin %s UID", op)
	}
	uname := ""
	if op == "rename" {
		uname = args[1]
	}
	res, err := c.Player(args[0], op, uname)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s", res.Op, res.UID)
	if res.Uname != "" {
		fmt.Fprintf(stdout, " %q", res.Uname)
	}
	if res.Kicked {
		io.WriteString(stdout, " (its live session was closed)")
	}
	io.WriteString(stdout, "\n")
	return nil
}
