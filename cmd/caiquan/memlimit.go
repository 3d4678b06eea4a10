package main

import (
	"os"
	"runtime/debug"
	"time"

	"github.com/caiquan/caiquan/internal/memguard"
)

// memorySample is how often the admission guard reads the process's memory.
const memorySample = 100 * time.Millisecond

// applyMemoryLimit gives the runtime its soft memory limit and a fixed GOGC,
// and starts the guard that refuses new connections and rounds near that
// limit: Go's limit is soft and counts only Go's memory, so the guard
// holds the resident set to it (memguard).
// GOMEMLIMIT and GOGC in the environment are the operator's choice and win.
func (m *Main) applyMemoryLimit() {
	if v := os.Getenv("GOGC"); v != "" {
		m.log.Info("gc_percent ignored: GOGC is set", "GOGC", v)
	} else {
		debug.SetGCPercent(m.Config.GCPercent)
	}
	var limit int64
	steer := false // set the runtime's share of the limit: ours, not the operator's
	switch {
	case os.Getenv("GOMEMLIMIT") != "":
		limit = debug.SetMemoryLimit(-1) // the runtime read it at start
		m.log.Info("memory_limit_mib ignored: GOMEMLIMIT is set", "limit_bytes", limit)
	case m.Config.MemoryLimitMiB > 0:
		limit = int64(m.Config.MemoryLimitMiB) << 20
		debug.SetMemoryLimit(limit)
		steer = true
	}
	if limit <= 0 || limit == int64(^uint64(0)>>1) { // off, or the runtime's "no limit"
		return
	}
	m.memory = memguard.New(uint64(limit), memorySample, steer)
}
