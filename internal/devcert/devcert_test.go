package devcert

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
)

// TestMakeSignsWithOneCA: a second certificate in the same folder is
// signed by the first run's CA, names the cluster and the hosts, serves
// both ends of TLS, and its key is readable by its owner only.
func TestMakeSignsWithOneCA(t *testing.T) {
	dir := t.TempDir()
	a, err := Make(Options{Dir: dir, Name: "caiquan", Hosts: []string{"127.0.0.1", "db.local"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Make(Options{Dir: dir, Name: "caiquan", Prefix: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.NewCA || b.NewCA {
		t.Fatalf("NewCA: first %v, second %v; want the second run to keep the CA", a.NewCA, b.NewCA)
	}
	caPEM, _ := os.ReadFile(a.CA)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	for _, f := range []Files{a, b} {
		pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := x509.ParseCertificate(pair.Certificate[0])
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "caiquan", KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Errorf("%s: %v", f.Cert, err)
			}
		}
		if st, _ := os.Stat(f.Key); st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f.Key, st.Mode().Perm())
		}
	}
	leaf, _ := tls.LoadX509KeyPair(a.Cert, a.Key)
	cert, _ := x509.ParseCertificate(leaf.Certificate[0])
	for _, h := range []string{"127.0.0.1", "db.local"} {
		if err := cert.VerifyHostname(h); err != nil {
			t.Errorf("host %s: %v", h, err)
		}
	}
	if err := cert.VerifyHostname("10.0.0.1"); err == nil {
		t.Error("the certificate is good for an address it was not made for")
	}
}

func TestMakeRefusesBrokenCA(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/"+CAFile, []byte("not pem"), 0o644)
	if _, err := Make(Options{Dir: dir, Name: "caiquan"}); err == nil {
		t.Fatal("Make used a CA file with only one half present and no PEM")
	}
}
