package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc/grpclog"

	"github.com/caiquan/caiquan/config"
)

// The binary's process-wide logs (the log package, slog's default, gRPC's
// logger) reach the server's handler: in json mode as JSON, gRPC's marked
// lib=grpc and only from errors up, secrets redacted.
func TestProcessLogs(t *testing.T) {
	prev := slog.Default()
	t.Cleanup(func() {
		slog.SetDefault(prev)
		log.SetOutput(os.Stderr)
		log.SetFlags(log.LstdFlags)
		grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, os.Stderr))
	})
	const secret = "admintoken-admintoken-admintoken-9"
	cfg := config.Default()
	cfg.LogFormat = config.LogJSON
	cfg.AdminToken = secret
	var buf bytes.Buffer
	takeProcessLogs(newLogger(&buf, cfg, &secrets{}))

	log.Printf("std log with %s", secret)
	slog.Warn("slog default")
	grpclog.Warningf("grpc warning %d", 1) // below gRPC's floor
	grpclog.Errorf("grpc error %d", 2)

	var msgs []string
	for _, raw := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("not JSON: %q", raw)
		}
		msg, _ := l["msg"].(string)
		msgs = append(msgs, msg)
		if strings.HasPrefix(msg, "grpc") && l[libKey] != libGRPC {
			t.Errorf("gRPC's line without lib=grpc: %v", l)
		}
	}
	want := []string{"std log with [redacted]", "slog default", "grpc error 2"}
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", msgs, want)
	}
}
