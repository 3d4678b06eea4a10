package main

import (
	"os"
	"time"

	"github.com/caiquan/caiquan/internal/gcpace"
)

// gcEvery is the time between collections the pacing aims at while the
// server allocates fast.
const gcEvery = 30 * time.Second

// startPacing lets the heap grow up to heap_budget_mib between collections
// while the server is busy (internal/gcpace). A GOGC in the environment is
// the operator's choice and turns it off.
func (m *Main) startPacing() {
	switch {
	case m.Config.HeapBudgetMiB == 0:
		return
	case os.Getenv("GOGC") != "":
		m.log.Info("gc pacing off: GOGC is set", "GOGC", os.Getenv("GOGC"))
		return
	}
	p := gcpace.New(gcpace.Policy{Budget: uint64(m.Config.HeapBudgetMiB) << 20, Every: gcEvery})
	stop, ok := p.Start()
	if !ok {
		m.log.Info("gc pacing off: another server of this process paces")
		return
	}
	m.stopPacing = stop
	m.log.Info("gc pacing", "heap_budget_mib", m.Config.HeapBudgetMiB, "every", gcEvery)
}
