package main

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
)

// certReloader holds the game listener's certificate. Every handshake
// reads the current one, so a reload (SIGHUP) changes what new connections
// see and leaves open ones alone: their handshake is done.
type certReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// reload reads the pair again; on error the old certificate stays.
func (r *certReloader) reload() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls_cert_file %s, tls_key_file %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert.Store(&c)
	return nil
}

func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// tlsConfig serves HTTP/1.1 only: WebSocket upgrades need it (RFC 6455),
// and without NextProtos a client could settle on h2, where the gateway's
// upgrade cannot run.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.getCertificate,
		NextProtos:     []string{"http/1.1"},
	}
}

// ReloadTLS reads tls_cert_file and tls_key_file again (SIGHUP). A pair
// that does not load is logged and the old one kept: a bad deploy of a
// certificate must not take the server down.
func (m *Main) ReloadTLS() {
	if m.certs == nil {
		m.log.Info("SIGHUP: no tls_cert_file to reload")
		return
	}
	if err := m.certs.reload(); err != nil {
		m.log.Error("SIGHUP: certificate not reloaded; keeping the old one", "err", err)
		return
	}
	m.log.Info("SIGHUP: certificate reloaded", "tls_cert_file", m.certs.certFile)
}
