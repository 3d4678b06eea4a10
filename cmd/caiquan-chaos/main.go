// Command caiquan-chaos runs a cluster on real addresses under faults and
// checks what its players saw (docs/chaos.md).
//
//	caiquan-chaos -bin bin/caiquan -for 5m -players 300 -every 2s -seed 1
//
// It makes a network namespace per game node, etcd member and PostgreSQL,
// on a bridge with a free 10.77.N.0/24, starts the nodes with mutual TLS,
// connects the players from the root namespace, and injects one fault
// every -every (kill, pause, partition, delay, drop) for -for. Then it lets the
// players finish, reads the store, and runs the checker (package
// internal/history). It prints each fault on standard error, then on
// standard output the line "faults: kill=N pause=N partition=N delay=N drop=N",
// every anomaly, and last "chaos: N rounds checked, M anomalies". It exits
// 1 when M > 0, when a kind it was asked to inject was never injected, or
// when fewer rounds than -min-rounds were checked; 2 on a harness error.
//
// It needs root (namespaces), iproute2, etcd and PostgreSQL. Its files
// (logs, history.jsonl, store.jsonl) stay in -dir, or in a temporary folder
// that is removed after a clean run and kept otherwise; -check DIR runs
// the checker again on a kept run's files.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/caiquan/caiquan/internal/chaos"
	"github.com/caiquan/caiquan/internal/history"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("caiquan-chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "bin/caiquan", "the caiquan binary, built without -race")
	dur := fs.Duration("for", 5*time.Minute, "how long faults are injected")
	players := fs.Int("players", 300, "players")
	every := fs.Duration("every", 2*time.Second, "one fault every so often")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the fault schedule and the players' hands")
	nodes := fs.Int("nodes", 3, "game nodes")
	etcd := fs.Int("etcd", 3, "etcd members (1 or 3)")
	kinds := fs.String("kinds", strings.Join(chaos.AllKinds, ","), "fault kinds to inject")
	round := fs.Duration("round-time", 2*time.Second, "the nodes' round time")
	minRounds := fs.Int("min-rounds", -1, "fewest rounds to check (default: 1000 per minute of faults per 300 players)")
	dir := fs.String("dir", "", "folder for logs and the history (default: a temporary one)")
	recheck := fs.String("check", "", "only check the history.jsonl and store.jsonl a kept run left in this folder")
	show := fs.String("show", "", "with -check, print only anomalies of this kind")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *recheck != "" {
		return checkAgain(*recheck, *show, stdout, stderr)
	}
	ks := strings.Split(*kinds, ",")
	for _, k := range ks {
		if !slices.Contains(chaos.AllKinds, k) {
			fmt.Fprintf(stderr, "caiquan-chaos: -kinds: unknown kind %q (have %s)\n", k, strings.Join(chaos.AllKinds, ","))
			return 2
		}
	}
	if *etcd != 1 && *etcd != 3 {
		fmt.Fprintf(stderr, "caiquan-chaos: -etcd must be 1 or 3, got %d\n", *etcd)
		return 2
	}
	if *players < 2 || *nodes < 2 || *dur <= 0 || *every <= 0 {
		fmt.Fprintln(stderr, "caiquan-chaos: -players and -nodes must be at least 2, -for and -every positive")
		return 2
	}
	if *minRounds < 0 {
		*minRounds = int(1000 * dur.Minutes() * float64(*players) / 300)
	}
	if _, err := os.Stat(*bin); err != nil {
		fmt.Fprintf(stderr, "caiquan-chaos: -bin: %v (make build makes bin/caiquan)\n", err)
		return 2
	}
	keep := *dir != ""
	if !keep {
		d, err := os.MkdirTemp("", "caiquan-chaos-")
		if err != nil {
			fmt.Fprintf(stderr, "caiquan-chaos: %v\n", err)
			return 2
		}
		*dir = d
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stderr, "caiquan-chaos: seed %d, %d players, %d nodes, faults %s every %v for %v\n", *seed, *players, *nodes, *kinds, *every, *dur)
	res, err := chaos.Run(ctx, chaos.Config{
		Bin: *bin, Dir: *dir, Nodes: *nodes, EtcdMembers: *etcd, Players: *players,
		For: *dur, Every: *every, Kinds: ks, Seed: *seed, RoundTime: *round, Log: stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "caiquan-chaos: %v (files in %s)\n", err, *dir)
		return 2
	}
	fmt.Fprintln(stdout, chaos.FaultsLine(res.Faults))
	code := 0
	for _, k := range ks {
		if res.Faults[k] == 0 {
			fmt.Fprintf(stdout, "fault kind %s was never injected\n", k)
			code = 1
		}
	}
	if res.Report.Rounds < *minRounds {
		fmt.Fprintf(stdout, "%d rounds checked, fewer than %d\n", res.Report.Rounds, *minRounds)
		code = 1
	}
	printAnomalies(stdout, res.Report)
	if len(res.Report.Anomalies) > 0 {
		code = 1
	}
	if code != 0 || keep {
		fmt.Fprintf(stdout, "files: %s (seed %d)\n", *dir, *seed)
	} else {
		os.RemoveAll(*dir)
	}
	fmt.Fprintf(stdout, "chaos: %d rounds checked, %d anomalies\n", res.Report.Rounds, len(res.Report.Anomalies))
	return code
}

// printAnomalies prints the count of each kind, then the first hundred.
func printAnomalies(w io.Writer, rep history.Report) {
	counts := rep.Count()
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "anomalies %s: %d\n", k, counts[k])
	}
	for i, a := range rep.Anomalies {
		if i == 100 {
			fmt.Fprintf(w, "... %d more\n", len(rep.Anomalies)-i)
			break
		}
		fmt.Fprintln(w, a)
	}
}

// checkAgain runs the checker on the files a kept run left in dir.
func checkAgain(dir, show string, stdout, stderr io.Writer) int {
	read := func(name string) (*os.File, bool) {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			fmt.Fprintf(stderr, "caiquan-chaos: -check: %v\n", err)
			return nil, false
		}
		return f, true
	}
	hf, ok := read("history.jsonl")
	if !ok {
		return 2
	}
	defer hf.Close()
	sf, ok := read("store.jsonl")
	if !ok {
		return 2
	}
	defer sf.Close()
	events, err := history.ReadEvents(hf)
	if err != nil {
		fmt.Fprintf(stderr, "caiquan-chaos: -check: %v\n", err)
		return 2
	}
	records, err := history.ReadRecords(sf)
	if err != nil {
		fmt.Fprintf(stderr, "caiquan-chaos: -check: %v\n", err)
		return 2
	}
	rep := history.Check(events, records, history.Options{})
	shown := rep
	if show != "" {
		shown.Anomalies = nil
		for _, a := range rep.Anomalies {
			if a.Kind == show {
				shown.Anomalies = append(shown.Anomalies, a)
			}
		}
	}
	printAnomalies(stdout, shown)
	fmt.Fprintf(stdout, "chaos: %d rounds checked, %d anomalies\n", rep.Rounds, len(rep.Anomalies))
	if len(rep.Anomalies) > 0 {
		return 1
	}
	return 0
}
