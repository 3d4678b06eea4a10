package e2e

import (
	"errors"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caiquan/caiquan/internal/devcert"
	"github.com/caiquan/caiquan/internal/testing/pgtest"
	"github.com/caiquan/caiquan/internal/testing/testserver"
)

// TestPostgresVerifyFull: with a PostgreSQL that accepts only TLS, a
// postgres_url with sslmode=verify-full and the CA keeps scores over a
// SIGKILL as without TLS. The same server refuses to start when the URL
// trusts another CA, names the database by a host its certificate does
// not carry, or turns TLS off: a man in the middle or a plain connection
// is an error at start, not a silent downgrade.
func TestPostgresVerifyFull(t *testing.T) {
	dir := t.TempDir()
	own, err := devcert.Make(devcert.Options{Dir: filepath.Join(dir, "own"), Name: "caiquan", Hosts: []string{"127.0.0.1"}, Prefix: "postgres"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := devcert.Make(devcert.Options{Dir: filepath.Join(dir, "other"), Name: "caiquan", Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	pg := pgtest.StartTLS(t, own.Cert, own.Key, own.CA)
	if !strings.Contains(pg.URL, "sslmode=verify-full") {
		t.Fatalf("pgtest URL %s does not ask for verify-full", pg.URL)
	}

	for _, tc := range []struct {
		name, url, want string
	}{
		{"another CA", strings.Replace(pg.URL, url.QueryEscape(own.CA), url.QueryEscape(other.CA), 1), "certificate signed by unknown authority"},
		{"host not in the certificate", strings.Replace(pg.URL, "127.0.0.1", "localhost", 1), "certificate"},
		{"TLS off", strings.Replace(pg.URL, "sslmode=verify-full", "sslmode=disable", 1), "no encryption"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(testserver.Binary(t), "-listen", "127.0.0.1:0", "-admin-listen", "", "-metrics-listen", "", "-auth-mode", "anonymous",
				"-store", "postgres", "-postgres-url", tc.url)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("server started with %s (%v), want a refusal\n%s", tc.url, err, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, stderr.String())
			}
		})
	}
	t.Run("verify-full", func(t *testing.T) { testRestart(t, "-store", "postgres", "-postgres-url", pg.URL) })
}
