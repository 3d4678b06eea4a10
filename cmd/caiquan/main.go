// Command caiquan is the game server: one process, no outside service.
//
//	caiquan [-listen :8080] [-config caiquan.yaml] [flags]
//	caiquan admin COMMAND ...   (a client of the admin API; see caiquan admin -h)
//	caiquan store COMMAND ...   (check, export, import a store; see caiquan store -h)
//
// It prints "listening on ADDR" on its first line of output once it serves;
// logs go to standard error. SIGTERM or SIGINT drains: no new rounds, rounds
// in progress finish, then every socket closes with 1001 (going away).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "admin" {
		return runAdmin(args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "store" {
		return runStore(args[1:], getenv, stdout, stderr)
	}
	m, err := NewMain(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "caiquan: %v\n", err)
		return 2
	}
	if err := m.Open(); err != nil {
		fmt.Fprintf(stderr, "caiquan: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "listening on %s\n", m.Addr())
	if a := m.AdminAddr(); a != "" {
		fmt.Fprintf(stdout, "admin on %s\n", a)
	}
	m.printCluster(stdout)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-m.Done():
		fmt.Fprintf(stderr, "caiquan: %v\n", err)
		return 1
	case <-m.Fenced():
		// Cut off from the cluster: stop taking players, drain, exit so
		// that a supervisor starts a fresh member (the others have blocked
		// this one's id for good).
		fmt.Fprintf(stderr, "caiquan: FENCED, leaving the cluster: %s\n", m.cluster.FenceReason().Reason)
		if err := m.Close(); err != nil {
			fmt.Fprintf(stderr, "caiquan: %v\n", err)
		}
		return exitFenced
	}
	if err := m.Close(); err != nil {
		fmt.Fprintf(stderr, "caiquan: %v\n", err)
		return 1
	}
	return 0
}
