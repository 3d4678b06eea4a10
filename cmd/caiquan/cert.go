package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/caiquan/caiquan/internal/devcert"
)

const certUsage = `usage: caiquan cert [-dir DIR] [-name NAME] [-hosts H,H] [-prefix P] [-valid D]

Makes throwaway certificates for development and tests (docs/cluster-security.md):
a CA in DIR/ca.pem and DIR/ca-key.pem (kept and reused if already there) and a
certificate DIR/P.pem with its key DIR/P-key.pem, signed by that CA, for both
ends of a TLS connection. Its SAN holds the cluster name, which nodes check
instead of each other's address, and the -hosts (names or IP addresses), so the
same certificate can serve etcd or PostgreSQL on those hosts.

  -dir     output folder (default "certs")
  -name    cluster name, as cluster_name (default "caiquan")
  -hosts   further DNS names or IP addresses, comma-separated (default "127.0.0.1,localhost")
  -prefix  file name of the certificate (default "node")
  -valid   validity (default 8760h)

Production clusters use certificates from their own CA.
`

// runCert is `caiquan cert ...`.
func runCert(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cert", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "certs", "")
	name := fs.String("name", "caiquan", "")
	hosts := fs.String("hosts", "127.0.0.1,localhost", "")
	prefix := fs.String("prefix", "node", "")
	valid := fs.Duration("valid", devcert.DefaultValid, "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		io.WriteString(stderr, certUsage)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *valid < time.Hour {
		fmt.Fprintf(stderr, "caiquan cert: -valid must be at least 1h, got %v\n", *valid)
		return 2
	}
	if *name == "" || strings.ContainsAny(*name, "/@ ") {
		fmt.Fprintf(stderr, "caiquan cert: -name must be a cluster name without \"/\", \"@\" or spaces, got %q\n", *name)
		return 2
	}
	if *prefix == "" || strings.ContainsAny(*prefix, `/\`) || *prefix == "ca" {
		fmt.Fprintf(stderr, "caiquan cert: -prefix must be a file name other than \"ca\", got %q\n", *prefix)
		return 2
	}
	f, err := devcert.Make(devcert.Options{Dir: *dir, Name: *name, Hosts: strings.Split(*hosts, ","), Prefix: *prefix, Valid: *valid})
	if err != nil {
		fmt.Fprintf(stderr, "caiquan cert: %v\n", err)
		return 1
	}
	caNote := "kept"
	if f.NewCA {
		caNote = "new"
	}
	fmt.Fprintf(stdout, "ca   %s (%s; its key %s)\ncert %s\nkey  %s\n", f.CA, caNote, f.CAKey, f.Cert, f.Key)
	fmt.Fprintf(stdout, "\n-cluster-tls-cert-file %s -cluster-tls-key-file %s -cluster-tls-ca-file %s\n", f.Cert, f.Key, f.CA)
	return 0
}
