package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/caiquan/caiquan/config"
)

const healthcheckUsage = `usage: caiquan healthcheck [-addr host:port] [-tls] [-timeout 3s]

Asks the server on this machine for /healthz and exits 0 on 200, 1 otherwise
(503 while draining). Without -addr it reads the listen address and TLS
setting the server would: CAIQUAN_CONFIG's file and the CAIQUAN_ environment.
A container image has no curl; its HEALTHCHECK runs this.
`

// runHealthcheck is `caiquan healthcheck`.
func runHealthcheck(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "", "")
	useTLS := fs.Bool("tls", false, "")
	timeout := fs.Duration("timeout", 3*time.Second, "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		io.WriteString(stderr, healthcheckUsage)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *addr == "" {
		cfg, err := config.Load(nil, getenv)
		if err != nil {
			fmt.Fprintf(stderr, "caiquan healthcheck: %v\n", err)
			return 1
		}
		*addr = cfg.Listen
		*useTLS = *useTLS || cfg.TLSCertFile != ""
	}
	url, err := healthURL(*addr, *useTLS)
	if err != nil {
		fmt.Fprintf(stderr, "caiquan healthcheck: %v\n", err)
		return 2
	}
	client := &http.Client{
		Timeout: *timeout,
		// The check asks this machine's own server whether it runs; it
		// sends nothing secret, and the certificate names the public host,
		// not the loopback address it dials.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintf(stderr, "caiquan healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "caiquan healthcheck: %s: %s %s\n", url, resp.Status, body)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", body)
	return 0
}

// healthURL turns a listen address into one to dial: a wildcard host
// (":8080", "0.0.0.0:8080", "[::]:8080") becomes loopback.
func healthURL(addr string, useTLS bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz", nil
}
