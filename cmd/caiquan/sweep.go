package main

import (
	"time"
)

// sweepEvery is how often the records of guests unseen for
// guest_record_ttl are removed; the first sweep runs at start.
const sweepEvery = time.Hour

// startSweep runs Store.Expire at start and hourly, unless
// guest_record_ttl is 0.
func (m *Main) startSweep() {
	if m.Config.GuestRecordTTL <= 0 {
		return
	}
	stop, done := make(chan struct{}), make(chan struct{})
	m.stopSweep = func() { close(stop); <-done }
	sweep := func() {
		before := time.Now().Add(-m.Config.GuestRecordTTL)
		n, err := m.store.Expire(before)
		if err != nil {
			m.log.Warn("store: guest record sweep failed", "err", err)
			return
		}
		m.metrics.GuestsExpired.Add(float64(n))
		if n > 0 {
			m.log.Info("store: removed guests' records unseen since the cutoff", "removed", n,
				"cutoff", before.UTC().Format(time.RFC3339), "guest_record_ttl", m.Config.GuestRecordTTL)
		}
	}
	go func() {
		defer close(done)
		sweep()
		t := time.NewTicker(sweepEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sweep()
			}
		}
	}()
}
