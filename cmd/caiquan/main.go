// Command caiquan is the game server: one process, no outside service.
//
//	caiquan [-listen :8080] [-config caiquan.yaml] [flags]
//	caiquan -version
//	caiquan admin COMMAND ...   (a client of the admin API; see caiquan admin -h)
//	caiquan healthcheck         (exit 0 if the local server is healthy)
//	caiquan cert [-dir DIR] ... (development certificates; see caiquan cert -h)
//	caiquan store COMMAND ...   (check, export, import a store; see caiquan store -h)
//
// It prints "listening on ADDR" on its first line of output once it serves;
// logs go to standard error. SIGTERM or SIGINT drains: no new rounds, rounds
// in progress finish, then every socket closes with 1001 (going away).
// SIGHUP reloads the game listener's TLS certificate (tls_cert_file).
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

	"github.com/caiquan/caiquan/config"
)

func main() {
	processLogs = true
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// processLogs says run is the process's: it sends the process-wide logs
// (the log package, gRPC's) to its server's log. Tests that call run
// leave them alone.
var processLogs bool

// subcommand is a word after caiquan that runs something other than the
// server. usage lists them in this order.
type subcommand struct {
	name, args, help string
	run              func(args []string, getenv func(string) string, stdout, stderr io.Writer) int
}

var subcommands = []subcommand{
	{"admin", "COMMAND ...", "a client of the admin API: actors, kill, chaos (caiquan admin -h)", runAdmin},
	{"healthcheck", "[-addr host:port] [-tls]", "exit 0 if the local server's /healthz answers 200 (for container health checks)", runHealthcheck},
	{"store", "check|export|import ...", "check a store, or move its records as JSON lines (caiquan store -h)", runStore},
	{"cert", "[-dir DIR] ...", "make a throwaway CA and node certificates for development (caiquan cert -h)", func(args []string, _ func(string) string, stdout, stderr io.Writer) int {
		return runCert(args, stdout, stderr)
	}},
}

func usage(w io.Writer) {
	io.WriteString(w, "usage: caiquan [flags]                serve the game\n")
	io.WriteString(w, "       caiquan -version              print the version, commit and Go version\n")
	for _, c := range subcommands {
		fmt.Fprintf(w, "       caiquan %s %s\n           \t%s\n", c.name, c.args, c.help)
	}
	io.WriteString(w, "\nEvery flag can also be set in the YAML file (-config) or as CAIQUAN_<NAME>.\n")
	config.Usage(w)
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		for _, c := range subcommands {
			if args[0] == c.name {
				return c.run(args[1:], getenv, stdout, stderr)
			}
		}
	}
	if wantsVersion(args) {
		printVersion(stdout)
		return 0
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
	if processLogs {
		takeProcessLogs(m.log)
	}
	// SIGHUP's default would end the process: catch it before anyone
	// can read "listening on" and send one.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := m.Open(); err != nil {
		m.report(stderr, err.Error())
		return 1
	}
	fmt.Fprintf(stdout, "listening on %s\n", m.Addr())
	if a := m.AdminAddr(); a != "" {
		fmt.Fprintf(stdout, "admin on %s\n", a)
	}
	if a := m.MetricsAddr(); a != "" {
		fmt.Fprintf(stdout, "metrics on %s\n", a)
	}
	m.printCluster(stdout)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	for {
		select {
		case <-hup:
			m.ReloadTLS()
			continue
		case <-ctx.Done():
		case err := <-m.Done():
			m.report(stderr, err.Error())
			return 1
		case <-m.Fenced():
			// Cut off from the cluster: stop taking players, drain, exit so
			// that a supervisor starts a fresh member (the others have blocked
			// this one's id for good).
			m.report(stderr, "FENCED, leaving the cluster: "+m.cluster.FenceReason().Reason)
			if err := m.Close(); err != nil {
				m.report(stderr, err.Error())
			}
			return exitFenced
		}
		break
	}
	if err := m.Close(); err != nil {
		m.report(stderr, err.Error())
		return 1
	}
	return 0
}

// report says why the server stops: in text the plain "caiquan: ..." line
// as before the log, in JSON a line of the log like every other on
// standard error. Secrets are redacted either way.
func (m *Main) report(stderr io.Writer, msg string) {
	if m.Config.LogFormat == config.LogJSON {
		m.log.Error(msg)
		return
	}
	fmt.Fprintf(stderr, "caiquan: %s\n", m.Redact(msg))
}
