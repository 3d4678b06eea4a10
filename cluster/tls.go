package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// TLSFiles names PEM files: a certificate, its key and the CA that signs
// the other side's certificate.
type TLSFiles struct {
	Cert, Key, CA string
}

// set reports whether any file is named.
func (f TLSFiles) set() bool { return f.Cert != "" || f.Key != "" || f.CA != "" }

// load reads the files: the key pair when both are named, the CA pool
// when it is.
func (f TLSFiles) load(what string) (pair []tls.Certificate, pool *x509.CertPool, err error) {
	if f.Cert != "" || f.Key != "" {
		c, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("cluster: %s certificate %s and key %s: %w", what, f.Cert, f.Key, err)
		}
		pair = []tls.Certificate{c}
	}
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, nil, fmt.Errorf("cluster: %s CA: %w", what, err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("cluster: %s CA %s holds no PEM certificate", what, f.CA)
		}
	}
	return pair, pool, nil
}

// memberTLS is the TLS both ends of a member-to-member connection use.
// Each side presents its certificate and accepts the other's only if the
// CA signed it and it names the cluster (a DNS name in its SAN): members
// are checked by what they are, not by their address, which changes with
// every pod or namespace.
func memberTLS(f TLSFiles, name string) (server, client *tls.Config, err error) {
	pair, pool, err := f.load("cluster_tls")
	if err != nil {
		return nil, nil, err
	}
	if err := checkNames(pair[0], name); err != nil {
		return nil, nil, err
	}
	server = &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: pair,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		// The chain is verified against ClientCAs before this runs.
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("cluster: the peer presented no certificate")
			}
			if err := cs.PeerCertificates[0].VerifyHostname(name); err != nil {
				return fmt.Errorf("cluster: the peer's certificate is not for cluster %q: %w", name, err)
			}
			return nil
		},
	}
	client = &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: pair,
		RootCAs:      pool,
		// The server's certificate must name the cluster; the address
		// dialled is not checked.
		ServerName: name,
	}
	return server, client, nil
}

// checkNames refuses our own certificate if the other members would
// refuse it, so that a wrong certificate stops this node at start, with
// the reason, instead of every call failing later.
func checkNames(c tls.Certificate, name string) error {
	leaf := c.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return fmt.Errorf("cluster: cluster_tls_cert_file: %w", err)
		}
	}
	if err := leaf.VerifyHostname(name); err != nil {
		return fmt.Errorf("cluster: cluster_tls_cert_file does not name cluster %q as a DNS name in its SAN (has %v): %w", name, leaf.DNSNames, err)
	}
	return nil
}

// grpcOptions are the remote's server and dial options for TLS.
func grpcOptions(server, client *tls.Config) (grpc.ServerOption, grpc.DialOption) {
	return grpc.Creds(credentials.NewTLS(server)), grpc.WithTransportCredentials(credentials.NewTLS(client))
}

// etcdTLS is the etcd client's TLS: etcd's certificate is checked against
// the CA and the endpoint's host, as usual for a server; the key pair, when
// given, is our client certificate for an etcd that asks for one.
func etcdTLS(f TLSFiles) (*tls.Config, error) {
	pair, pool, err := f.load("cluster_etcd_tls")
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: pair, RootCAs: pool}, nil
}

// isLoopback reports whether host names only this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
