package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
)

// openPprof serves Go's profiler on its own loopback listener when
// pprof_listen is set: `go tool pprof http://ADDR/debug/pprof/profile`.
func (m *Main) openPprof() error {
	if m.Config.PprofListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.PprofListen)
	if err != nil {
		return fmt.Errorf("pprof listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := m.httpServer(mux, "pprof")
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Warn("pprof listener stopped", "err", err)
		}
	}()
	m.log.Info("pprof", "addr", ln.Addr().String())
	return nil
}
