// Package devcert makes a throwaway certificate authority and node
// certificates for development and tests (`caiquan cert`, `make cluster`):
// an ECDSA P-256 CA, and certificates it signs that name the cluster (the
// name cluster members check) and the given hosts, good for both ends of a
// TLS connection. Production deployments bring certificates from their own
// CA; nothing here rotates or revokes.
package devcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names in the output folder.
const (
	CAFile    = "ca.pem"
	CAKeyFile = "ca-key.pem"
)

// DefaultValid is how long certificates are valid unless told otherwise.
const DefaultValid = 365 * 24 * time.Hour

// Options says what to make.
type Options struct {
	// Dir receives the files; it is made if missing. A CA already in it
	// (ca.pem and ca-key.pem) signs the new certificate, so nodes made by
	// several runs trust each other.
	Dir string
	// Name is the cluster name: the certificate's common name and first
	// DNS name, which members check instead of each other's addresses.
	Name string
	// Hosts are further names or IP addresses the certificate is good for
	// (an etcd or PostgreSQL server's address, say).
	Hosts []string
	// Prefix names the certificate files, PREFIX.pem and PREFIX-key.pem;
	// "" means "node".
	Prefix string
	// Valid is how long the certificates are valid; 0 means DefaultValid.
	Valid time.Duration
	// Now is the start of validity; zero means time.Now.
	Now time.Time
}

// Files are the paths Make wrote or used.
type Files struct {
	CA, CAKey, Cert, Key string
	// NewCA reports whether Make made the CA rather than finding it.
	NewCA bool
}

// Make writes a node certificate and its key signed by the CA in
// opt.Dir, making the CA first if there is none. Keys are written with
// mode 0600.
func Make(opt Options) (Files, error) {
	if opt.Name == "" {
		return Files{}, errors.New("devcert: a cluster name is required")
	}
	if opt.Prefix == "" {
		opt.Prefix = "node"
	}
	if opt.Valid <= 0 {
		opt.Valid = DefaultValid
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("devcert: %w", err)
	}
	f := Files{
		CA:    filepath.Join(opt.Dir, CAFile),
		CAKey: filepath.Join(opt.Dir, CAKeyFile),
		Cert:  filepath.Join(opt.Dir, opt.Prefix+".pem"),
		Key:   filepath.Join(opt.Dir, opt.Prefix+"-key.pem"),
	}
	ca, caKey, err := loadCA(f.CA, f.CAKey)
	if errors.Is(err, errNoCA) {
		ca, caKey, err = makeCA(opt, f.CA, f.CAKey)
		f.NewCA = true
	}
	if err != nil {
		return Files{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Files{}, fmt.Errorf("devcert: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: opt.Name, Organization: []string{"caiquan development"}},
		NotBefore:    opt.Now.Add(-time.Minute),
		NotAfter:     opt.Now.Add(opt.Valid),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		// Every member is a server to some and a client to others.
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{opt.Name},
	}
	for _, h := range opt.Hosts {
		h = strings.TrimSpace(h)
		switch ip := net.ParseIP(h); {
		case h == "":
		case ip != nil:
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		default:
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return Files{}, fmt.Errorf("devcert: sign %s: %w", opt.Name, err)
	}
	if err := writeKey(f.Key, key); err != nil {
		return Files{}, err
	}
	if err := writePEM(f.Cert, "CERTIFICATE", der, 0o644); err != nil {
		return Files{}, err
	}
	return f, nil
}

func makeCA(opt Options, certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: opt.Name + " development CA", Organization: []string{"caiquan development"}},
		NotBefore:             opt.Now.Add(-time.Minute),
		NotAfter:              opt.Now.Add(opt.Valid),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: make CA: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: make CA: %w", err)
	}
	if err := writeKey(keyPath, key); err != nil {
		return nil, nil, err
	}
	if err := writePEM(certPath, "CERTIFICATE", der, 0o644); err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}

// errNoCA is loadCA's answer when neither file is there.
var errNoCA = errors.New("devcert: no CA")

// loadCA reads the CA at certPath and keyPath; errNoCA when neither file
// is there. Only one of them is an error: making a new CA would overwrite
// the other.
func loadCA(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return nil, nil, errNoCA
	case certErr != nil:
		return nil, nil, fmt.Errorf("devcert: CA certificate: %v", certErr)
	case keyErr != nil:
		return nil, nil, fmt.Errorf("devcert: CA key: %v", keyErr)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, fmt.Errorf("devcert: %s or %s is not PEM", certPath, keyPath)
	}
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: %s: %w", certPath, err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: %s: %w", keyPath, err)
	}
	if !ca.IsCA {
		return nil, nil, fmt.Errorf("devcert: %s is not a CA certificate", certPath)
	}
	return ca, key, nil
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	return writePEM(path, "EC PRIVATE KEY", der, 0o600)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	// Remove first so that an existing file's wider mode does not stay.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("devcert: %w", err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}
