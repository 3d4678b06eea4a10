package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCertCommand: caiquan cert writes the CA and a certificate where -dir
// says and prints the flags that use them; a second run keeps the CA;
// bad flags are refused with usage and exit status 2, writing nothing.
func TestCertCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	var out, errOut strings.Builder
	if code := run([]string{"cert", "-dir", dir, "-name", "game", "-hosts", "10.0.0.5"}, os.Getenv, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, f := range []string{"ca.pem", "ca-key.pem", "node.pem", "node-key.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if want := "-cluster-tls-cert-file " + filepath.Join(dir, "node.pem"); !strings.Contains(out.String(), want) {
		t.Errorf("output does not give %q:\n%s", want, out.String())
	}
	out.Reset()
	if code := run([]string{"cert", "-dir", dir, "-prefix", "n2"}, os.Getenv, &out, &errOut); code != 0 || !strings.Contains(out.String(), "(kept;") {
		t.Errorf("second run: exit %d, output %q; want the CA kept", code, out.String())
	}
	for _, args := range [][]string{
		{"cert", "-name", "a/b"},
		{"cert", "-prefix", "ca"},
		{"cert", "-valid", "1m"},
		{"cert", "extra"},
	} {
		errOut.Reset()
		bad := filepath.Join(t.TempDir(), "bad")
		if code := run(append(args, "-dir", bad), os.Getenv, &out, &errOut); code != 2 || errOut.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a reason", args, code, errOut.String())
		}
		if _, err := os.Stat(bad); err == nil {
			t.Errorf("%v wrote %s", args, bad)
		}
	}
}
