package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/caiquan/caiquan/internal/testing/testserver"
	"github.com/caiquan/caiquan/internal/testing/tlstest"
)

// TestAllowRemoteParsing: without -allow-remote every host but loopback is
// refused with a message that names the flag; with it a remote URL is
// taken (nothing is dialled here), within caps on rate, players and hold.
func TestAllowRemoteParsing(t *testing.T) {
	_, err := targetURL("ws://10.0.0.1:80", protoBinary, false)
	if err == nil || !strings.Contains(err.Error(), "-allow-remote") {
		t.Errorf("without -allow-remote: %v; want a refusal that names the flag", err)
	}
	opts, err := parseFlags([]string{"-allow-remote", "-url", "wss://staging.example:443", "-ramp", "200"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := targetURL(opts.url, opts.proto, opts.allowRemote); err != nil || got != "wss://staging.example:443/ws" {
		t.Errorf("with -allow-remote: %q, %v", got, err)
	}
	for _, c := range []struct{ args []string }{
		{[]string{"-ramp", "201"}},
		{[]string{"-players", "20001"}},
		{[]string{"-hold", "31m"}},
		{[]string{"-sources", "2"}},
	} {
		args := append([]string{"-allow-remote", "-url", "ws://10.0.0.1:80"}, c.args...)
		if _, err := parseFlags(args, os.Stderr); err == nil || !strings.Contains(err.Error(), c.args[0]) {
			t.Errorf("%v: %v; want a refusal that names %s", c.args, err, c.args[0])
		}
	}
	// Without -ramp a remote run goes at the cap, not at the loopback default.
	if o, err := parseFlags([]string{"-allow-remote", "-url", "ws://10.0.0.1:80"}, os.Stderr); err != nil || o.ramp != maxRemoteRamp {
		t.Errorf("-allow-remote without -ramp: ramp %g, %v; want %d", o.ramp, err, maxRemoteRamp)
	}
	// The same values are fine on loopback without the flag.
	if _, err := parseFlags([]string{"-ramp", "5000", "-players", "30000", "-sources", "4"}, os.Stderr); err != nil {
		t.Errorf("loopback run: %v", err)
	}
}

// TestAllowRemoteRun: a run with -allow-remote (here against a loopback
// server over wss://, as a staging cluster behind TLS would be) warns
// first, even with -quiet, and plays.
func TestAllowRemoteRun(t *testing.T) {
	ca := tlstest.NewCA(t)
	certFile, keyFile := ca.Issue(t, t.TempDir(), 2)
	s := testserver.Start(t, "-tls-cert-file", certFile, "-tls-key-file", keyFile, "-round-time", "1s", "-bot-fill", "200ms")
	opts, err := parseFlags([]string{"-allow-remote", "-url", "wss://" + s.Addr, "-players", "20", "-ramp", "100", "-hold", "2s", "-quiet"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	opts.tls = ca.ClientConfig()
	var progress strings.Builder
	rep, err := runLoad(context.Background(), opts, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "WARNING: -allow-remote: about to load wss://"+s.Addr+"/ws with 20 players at 100 connections per second") {
		t.Errorf("no warning naming the target and the rate:\n%s", progress.String())
	}
	if rep.Connected != 20 || rep.DialFailures != 0 || rep.Drops != 0 || rep.Malformed != 0 || rep.Rounds == 0 {
		t.Errorf("connected %d, dial failures %d, drops %v, malformed %v, rounds %d", rep.Connected, rep.DialFailures, rep.DropReasons, rep.BadReasons, rep.Rounds)
	}
}
